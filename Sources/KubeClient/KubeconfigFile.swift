#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The parts of a kubeconfig this client uses: named clusters, users and contexts, and `current-context`.
struct KubeconfigFile {
    struct Cluster {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool
    }

    struct User {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var unsupported: String?
    }

    struct Context {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    let path: String
    var clusters: [(name: String, value: Cluster)] = []
    var users: [(name: String, value: User)] = []
    var contexts: [(name: String, value: Context)] = []
    var currentContext: String?

    init(root: YAMLNode, path: String) throws {
        self.path = path
        guard case .mapping = root else { throw KubeConfigurationError("kubeconfig \(path) is not a mapping") }
        currentContext = root["current-context"]?.string
        for (name, body) in try Self.namedEntries(root, "clusters", "cluster", path: path) {
            clusters.append((name, Cluster(
                server: body["server"]?.string,
                certificateAuthority: body["certificate-authority"]?.string,
                certificateAuthorityData: body["certificate-authority-data"]?.string,
                insecureSkipTLSVerify: body["insecure-skip-tls-verify"]?.bool ?? (body["insecure-skip-tls-verify"]?.string == "true")
            )))
        }
        for (name, body) in try Self.namedEntries(root, "users", "user", path: path) {
            var unsupported: String?
            if body["exec"].map({ !$0.isNull }) ?? false { unsupported = "exec credential plugins" }
            else if body["auth-provider"].map({ !$0.isNull }) ?? false { unsupported = "auth-provider plugins" }
            else if body["username"]?.string != nil { unsupported = "basic authentication (username/password)" }
            users.append((name, User(
                token: body["token"]?.string,
                tokenFile: body["tokenFile"]?.string,
                clientCertificate: body["client-certificate"]?.string,
                clientCertificateData: body["client-certificate-data"]?.string,
                clientKey: body["client-key"]?.string,
                clientKeyData: body["client-key-data"]?.string,
                unsupported: unsupported
            )))
        }
        for (name, body) in try Self.namedEntries(root, "contexts", "context", path: path) {
            contexts.append((name, Context(cluster: body["cluster"]?.string, user: body["user"]?.string, namespace: body["namespace"]?.string)))
        }
    }

    /// `- name: x\n  <field>: {...}` entries of the list `key`.
    private static func namedEntries(_ root: YAMLNode, _ key: String, _ field: String, path: String) throws -> [(String, YAMLNode)] {
        guard let list = root[key] else { return [] }
        guard let items = list.items else { throw KubeConfigurationError("kubeconfig \(path): \(key) is not a list") }
        return try items.map { item in
            guard let name = item["name"]?.string else {
                throw KubeConfigurationError("kubeconfig \(path): an entry of \(key) has no name")
            }
            return (name, item[field] ?? .mapping([]))
        }
    }

    func configuration(context requested: String?, home: String?) throws -> KubeConfiguration {
        let contextNames = contexts.map(\.name).joined(separator: ", ")
        guard let contextName = requested ?? currentContext, !contextName.isEmpty else {
            throw KubeConfigurationError("kubeconfig \(path) has no current-context; pass a context (contexts: \(contextNames.isEmpty ? "none" : contextNames))")
        }
        guard let context = contexts.first(where: { $0.name == contextName })?.value else {
            throw KubeConfigurationError("context \"\(contextName)\" not found in \(path); contexts: \(contextNames.isEmpty ? "none" : contextNames)")
        }
        guard let clusterName = context.cluster, !clusterName.isEmpty else {
            throw KubeConfigurationError("context \"\(contextName)\" in \(path) names no cluster")
        }
        guard let cluster = clusters.first(where: { $0.name == clusterName })?.value else {
            throw KubeConfigurationError("cluster \"\(clusterName)\" (of context \"\(contextName)\") not found in \(path); clusters: \(clusters.map(\.name).joined(separator: ", "))")
        }
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeConfigurationError("cluster \"\(clusterName)\" in \(path) has no server")
        }
        let directory = FileAccess.directory(of: path)

        var caPEM: [UInt8]?
        if let data = cluster.certificateAuthorityData, !data.isEmpty {
            caPEM = try Self.base64(data, field: "certificate-authority-data of cluster \"\(clusterName)\"", path: path)
        } else if let file = cluster.certificateAuthority, !file.isEmpty {
            let resolved = FileAccess.resolve(file, relativeTo: directory, home: home)
            caPEM = try FileAccess.read(resolved, purpose: "certificate-authority file of cluster \"\(clusterName)\"")
        }

        var auth = KubeAuth.none
        if let userName = context.user, !userName.isEmpty {
            guard let user = users.first(where: { $0.name == userName })?.value else {
                throw KubeConfigurationError("user \"\(userName)\" (of context \"\(contextName)\") not found in \(path); users: \(users.map(\.name).joined(separator: ", "))")
            }
            auth = try authentication(user, name: userName, directory: directory, home: home)
        }

        var configuration = KubeConfiguration(
            server: server, caPEM: caPEM, auth: auth,
            namespace: context.namespace.flatMap { $0.isEmpty ? nil : $0 },
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify
        )
        configuration.origin = "kubeconfig \(path) (context \(contextName))"
        return configuration
    }

    private func authentication(_ user: User, name: String, directory: String, home: String?) throws -> KubeAuth {
        let certificate: [UInt8]?
        if let data = user.clientCertificateData, !data.isEmpty {
            certificate = try Self.base64(data, field: "client-certificate-data of user \"\(name)\"", path: path)
        } else if let file = user.clientCertificate, !file.isEmpty {
            certificate = try FileAccess.read(FileAccess.resolve(file, relativeTo: directory, home: home), purpose: "client-certificate file of user \"\(name)\"")
        } else {
            certificate = nil
        }
        let key: [UInt8]?
        if let data = user.clientKeyData, !data.isEmpty {
            key = try Self.base64(data, field: "client-key-data of user \"\(name)\"", path: path)
        } else if let file = user.clientKey, !file.isEmpty {
            key = try FileAccess.read(FileAccess.resolve(file, relativeTo: directory, home: home), purpose: "client-key file of user \"\(name)\"")
        } else {
            key = nil
        }
        switch (certificate, key) {
        case let (certificate?, key?): return .clientCertificate(certificatePEM: certificate, keyPEM: key)
        case (_?, nil): throw KubeConfigurationError("user \"\(name)\" in \(path) has a client certificate but no client key")
        case (nil, _?): throw KubeConfigurationError("user \"\(name)\" in \(path) has a client key but no client certificate")
        case (nil, nil): break
        }
        if let token = user.token, !token.isEmpty { return .bearerToken(token) }
        if let file = user.tokenFile, !file.isEmpty {
            let resolved = FileAccess.resolve(file, relativeTo: directory, home: home)
            _ = try FileAccess.read(resolved, purpose: "tokenFile of user \"\(name)\"")
            return .tokenFile(resolved)
        }
        if let unsupported = user.unsupported {
            throw KubeConfigurationError("user \"\(name)\" in \(path) uses \(unsupported), which this client does not support; use a token, tokenFile or client certificate")
        }
        return .none
    }

    private static func base64(_ text: String, field: String, path: String) throws -> [UInt8] {
        let compact = String(text.filter { !$0.isWhitespace })
        guard let data = Data(base64Encoded: compact) else {
            throw KubeConfigurationError("\(field) in \(path) is not valid base64")
        }
        return Array(data)
    }
}
