import Foundation
import KubeTestServer
import TestSupport
import Testing

/// Everything one executable-level test needs: a Kubernetes test server with the helper's ServiceAccount
/// (the original ClusterRole unless told otherwise), a temp folder holding the original helper's mounted
/// config files and a kubeconfig, and the moto fixture. Commands run the real binary as a subprocess.
struct HelperWorld {
    static let helperUser = "system:serviceaccount:kube-system:aws-ecr-cred-helper"
    static let secretName = "registry-aws-ecr"

    let server: KubeTestServer
    let moto: MotoFixture
    let binary: String
    let directory: String
    let configDirectory: String
    let awsConfigDirectory: String
    let kubeconfig: String
    /// The helper's bearer token: random, so hygiene tests can look for it in output.
    let token: String

    static func start(
        namespaces: [String] = ["default", "kube-system", "team-a"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        extraUsers: [TestUser] = []
    ) async throws -> HelperWorld {
        let moto = try TestEnvironment.moto()
        let binary = try TestEnvironment.helperBinary()
        let token = "kube-token-" + UUID().uuidString.lowercased()
        let server = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: helperUser, token: token, rules: rules)] + extraUsers,
            namespaces: namespaces,
            bookmarkInterval: .seconds(1)
        ))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cli-\(UUID().uuidString)").path
        let world = HelperWorld(
            server: server, moto: moto, binary: binary, directory: directory,
            configDirectory: directory + "/config", awsConfigDirectory: directory + "/config-aws",
            kubeconfig: directory + "/kubeconfig", token: token
        )
        for folder in [directory, world.configDirectory, world.awsConfigDirectory, directory + "/home"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try server.writeKubeconfig(to: world.kubeconfig, token: token)
        return world
    }

    /// Starts a world, runs `body`, and always stops the server and removes the temp folder.
    static func with<T>(
        namespaces: [String] = ["default", "kube-system", "team-a"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        extraUsers: [TestUser] = [],
        _ body: (HelperWorld) async throws -> T
    ) async throws -> T {
        let world = try await start(namespaces: namespaces, rules: rules, extraUsers: extraUsers)
        do {
            let result = try await body(world)
            await world.shutdown()
            return result
        } catch {
            await world.shutdown()
            throw error
        }
    }

    func shutdown() async {
        try? await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Configuration files, as the original helper's Secrets mount them

    /// The original helper's five files, with the trailing newlines (and a CRLF) its users' files have.
    func writeOriginalConfig(namespaces: [String], keys: MotoFixture.Keys? = nil, secretKey: String? = nil) throws {
        try writeConfig("NAMESPACES", namespaces.joined(separator: " ") + "\n")
        try writeConfig("SECRET_NAME", Self.secretName + "\r\n")
        try writeAWSFiles(keys: keys, secretKey: secretKey)
    }

    /// The original helper's AWS folder: key id, secret key (with a CRLF) and region.
    func writeAWSFiles(keys: MotoFixture.Keys? = nil, secretKey: String? = nil) throws {
        let keys = keys ?? moto.allowed
        try writeAWS("AWS_ACCESS_KEY_ID", keys.accessKeyId + "\n")
        try writeAWS("AWS_SECRET_ACCESS_KEY", (secretKey ?? keys.secretAccessKey) + "\r\n")
        try writeAWS("AWS_DEFAULT_REGION", moto.region + "\n")
    }

    func writeConfig(_ name: String, _ contents: String) throws {
        try write(contents, to: configDirectory + "/" + name)
    }

    func writeAWS(_ name: String, _ contents: String) throws {
        try write(contents, to: awsConfigDirectory + "/" + name)
    }

    /// Replaces a file in one rename, as an editor or a config-management tool does.
    func write(_ contents: String, to path: String) throws {
        let temporary = path + ".tmp-\(UUID().uuidString.prefix(6))"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw SpawnFailure(description: "rename to \(path) failed") }
    }

    // MARK: - Running the binary

    /// `--config-dir`, `--aws-config-dir` and `--kubeconfig` of this world.
    var locationArguments: [String] {
        ["--config-dir", configDirectory, "--aws-config-dir", awsConfigDirectory, "--kubeconfig", kubeconfig]
    }

    /// A clean environment: nothing of the test run's own (AWS_*, KUBECONFIG, HOME) leaks in; AWS calls go
    /// to moto; the HTTP listener is off unless a test asks for it.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": directory + "/home",
            "AWS_ENDPOINT_URL": moto.endpoint,
            "HTTP_PORT": "0",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Starts `aws-ecr-cred-helper <command> <locations> <arguments>`.
    func launch(_ command: String, _ arguments: [String] = [], environment extra: [String: String] = [:], locations: Bool = true) throws -> ChildProcess {
        try ChildProcess(
            executable: binary,
            arguments: [command] + (locations ? locationArguments : []) + arguments,
            environment: environment(extra),
            outputDirectory: directory
        )
    }

    /// Runs a command to its end (killed after `timeout`).
    func run(
        _ command: String, _ arguments: [String] = [], environment extra: [String: String] = [:], locations: Bool = true,
        timeout: Duration = .seconds(30)
    ) async throws -> CommandResult {
        let process = try launch(command, arguments, environment: extra, locations: locations)
        let termination = try await process.wait(timeout: timeout)
        return CommandResult(termination: termination, stdout: process.stdout, stderr: process.stderr)
    }

    // MARK: - What the cluster holds (read as the server stores it, past RBAC)

    func secret(_ namespace: String, _ name: String = secretName) async -> JSONValue? {
        await server.object("secrets", namespace: namespace, name: name)
    }

    /// The `.dockerconfigjson` of the pull secret, decoded; nil when there is no secret.
    func dockerConfig(_ namespace: String) async throws -> DockerConfig? {
        guard let secret = await secret(namespace) else { return nil }
        return try DockerConfig(secret: secret)
    }

    /// Requests by the helper's ServiceAccount that changed secrets.
    func secretWrites(user: String = helperUser) async -> [RecordedRequest] {
        await server.requests().filter {
            $0.resource == "secrets" && $0.user == user && ["create", "update", "patch", "delete"].contains($0.verb)
        }
    }
}

/// A pull secret's `.dockerconfigjson`.
struct DockerConfig: Decodable, Sendable, Equatable {
    struct Entry: Decodable, Sendable, Equatable {
        var username: String
        var password: String
        var auth: String
    }

    var auths: [String: Entry]

    struct Invalid: Error, CustomStringConvertible { let description: String }

    init(secret: JSONValue) throws {
        guard secret["type"]?.stringValue == "kubernetes.io/dockerconfigjson" else {
            throw Invalid(description: "secret type is \(secret["type"]?.stringValue ?? "nil")")
        }
        guard let encoded = secret["data"]?[".dockerconfigjson"]?.stringValue, let bytes = Data(base64Encoded: encoded) else {
            throw Invalid(description: "no base64 .dockerconfigjson in \(secret)")
        }
        self = try JSONDecoder().decode(DockerConfig.self, from: bytes)
    }

    /// Every value that must never be printed: passwords, `auth` values and the whole encoded config.
    var secretValues: [String] {
        auths.values.flatMap { [$0.password, $0.auth] }
    }
}

extension String {
    /// Lines of text, without empty ones.
    var lines: [String] { split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}
