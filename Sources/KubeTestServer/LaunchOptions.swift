#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `kube-test-server` is told on its command line, turned into a configuration. Lives in the library so
/// tests can exercise it without spawning the executable.
public struct LaunchOptions: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 0
    public var plainHTTP = false
    /// `name:token:rules` where rules is `admin`, `original-helper` (or `original-helper=SECRET`), `none`,
    /// or the path of a JSON file holding an array of PolicyRule.
    public var userSpecs: [String] = []
    /// A JSON file: `{"users":[{"name":..,"token":..,"rules":[...]}], "namespaces":[...]}`.
    public var configFile: String?
    public var namespaces: [String]?
    public var adminToken: String?
    /// Read the admin token from this file when it exists; otherwise write the generated one there.
    public var adminTokenFile: String?
    public var kubeconfigPath: String?
    public var kubeconfigToken: String?
    public var kubeconfigNamespace: String?
    public var caOutPath: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var caFile: String?
    public var watchHistoryLimit = 1000
    public var bookmarkIntervalSeconds: Double = 10
    public var defaultServiceAccounts = false

    public init() {}

    struct ConfigFile: Decodable {
        var users: [TestUser]?
        var namespaces: [String]?
        var adminToken: String?
    }

    public static func readText(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses `name:token:rules`.
    public static func parseUser(_ spec: String) throws -> TestUser {
        let parts = spec.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw LaunchError("--user wants name:token:rules (rules: admin, original-helper[=SECRET], none or a JSON file), got \(spec.split(separator: ":").first ?? "")")
        }
        let rules: [PolicyRule]
        let ruleSpec = parts[2]
        if ruleSpec == "admin" {
            rules = [.everything]
        } else if ruleSpec == "none" || ruleSpec.isEmpty {
            rules = []
        } else if ruleSpec == "original-helper" {
            rules = PolicyRule.originalHelperRole()
        } else if ruleSpec.hasPrefix("original-helper=") {
            rules = PolicyRule.originalHelperRole(secretName: String(ruleSpec.dropFirst("original-helper=".count)))
        } else {
            rules = try JSONDecoder().decode([PolicyRule].self, from: Data(try readText(ruleSpec).utf8))
        }
        return TestUser(name: parts[0], token: parts[1], rules: rules)
    }

    /// The server configuration these options describe (reads the files they name).
    public func configuration() throws -> KubeTestServerConfiguration {
        var configuration = KubeTestServerConfiguration(host: host, port: port, tls: !plainHTTP)
        configuration.watchHistoryLimit = watchHistoryLimit
        configuration.defaultServiceAccounts = defaultServiceAccounts
        configuration.bookmarkInterval = .milliseconds(Int(bookmarkIntervalSeconds * 1000))
        if let configFile {
            let file = try JSONDecoder().decode(ConfigFile.self, from: Data(try Self.readText(configFile).utf8))
            configuration.users += file.users ?? []
            if let namespaces = file.namespaces { configuration.namespaces = namespaces }
            if let token = file.adminToken { configuration.adminToken = token }
        }
        configuration.users += try userSpecs.map(Self.parseUser)
        if let namespaces { configuration.namespaces = namespaces }
        if let adminToken { configuration.adminToken = adminToken }
        if let adminTokenFile, FileManager.default.fileExists(atPath: adminTokenFile) {
            let token = String(try Self.readText(adminTokenFile).filter { !$0.isWhitespace })
            if !token.isEmpty { configuration.adminToken = token }
        }
        if let certificateFile, let keyFile {
            configuration.certificatePEM = try Self.readText(certificateFile)
            configuration.keyPEM = try Self.readText(keyFile)
            configuration.caPEM = try caFile.map(Self.readText)
        }
        return configuration
    }

    /// Writes the CA and kubeconfig files the options ask for; returns the lines to print first on stdout.
    public func announce(_ server: KubeTestServer) throws -> [String] {
        var lines = ["KUBE_TEST_SERVER_URL=\(server.url)"]
        if let caOutPath, !server.caPEM.isEmpty {
            try KubeTestServer.writeFile(server.caPEM, to: caOutPath, mode: 0o644)
            lines.append("KUBE_TEST_SERVER_CA=\(caOutPath)")
        }
        if let kubeconfigPath {
            try server.writeKubeconfig(
                to: kubeconfigPath, token: kubeconfigToken ?? server.adminToken, namespace: kubeconfigNamespace)
            lines.append("KUBE_TEST_SERVER_KUBECONFIG=\(kubeconfigPath)")
        }
        if let adminTokenFile {
            if !FileManager.default.fileExists(atPath: adminTokenFile) {
                try KubeTestServer.writeFile(server.adminToken + "\n", to: adminTokenFile, mode: 0o600)
            }
            lines.append("KUBE_TEST_SERVER_ADMIN_TOKEN_FILE=\(adminTokenFile)")
        }
        lines.append("KUBE_TEST_SERVER_PORT=\(server.port)")
        return lines
    }
}

public struct LaunchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
