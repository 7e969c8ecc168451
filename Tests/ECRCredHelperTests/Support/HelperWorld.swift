import Foundation
import KubeTestServer
import TestSupport
import Testing

/// Everything one executable-level test needs: a Kubernetes API server with the helper's ServiceAccount
/// (the original ClusterRole unless told otherwise), a temp folder holding the original helper's mounted
/// config files and a kubeconfig, and the moto fixture. Commands run the real binary as a subprocess.
///
/// The API server is the stand-in (a private one per world) or the real kube-apiserver of the test run
/// (shared by every test). On the real server a world keeps to itself by name: its own ServiceAccount
/// bound to exactly the rules under test (never cluster-admin), its own secret name (the rules' resource
/// names follow it), its own Lease name. What only the stand-in can tell (its request log, faults) stays in
/// `server`, which stand-in-only tests use.
struct HelperWorld {
    static let helperUser = "system:serviceaccount:kube-system:aws-ecr-cred-helper"
    static let secretName = "registry-aws-ecr"

    let kind: APIServerKind
    /// The stand-in; nil on the real server.
    let standIn: KubeTestServer?
    /// The real kube-apiserver; nil on the stand-in.
    let real: RealAPIServer?
    /// The stand-in (stand-in-only tests: request log, faults, restarts).
    var server: KubeTestServer { standIn! }
    /// The pull secret's name in this world: the original's on the stand-in, a name of its own on the
    /// shared real server.
    let secretName: String
    /// The helper's user name, as the API server authenticates its token.
    let helperUser: String
    /// The Lease name for leader election in this world.
    let leaseName: String
    let moto: MotoFixture
    let binary: String
    let directory: String
    let configDirectory: String
    let awsConfigDirectory: String
    let kubeconfig: String
    /// The helper's bearer token: random, so hygiene tests can look for it in output.
    let token: String

    static func start(
        _ kind: APIServerKind = .standIn,
        namespaces: [String] = ["default", "kube-system", "team-a"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        extraUsers: [TestUser] = [],
        realServer: RealAPIServer? = nil
    ) async throws -> HelperWorld {
        let moto = try TestEnvironment.moto()
        let binary = try TestEnvironment.helperBinary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cli-\(UUID().uuidString)").path
        let world: HelperWorld
        switch kind {
        case .standIn:
            let token = "kube-token-" + UUID().uuidString.lowercased()
            let server = try await KubeTestServer.start(KubeTestServerConfiguration(
                users: [TestUser(name: helperUser, token: token, rules: rules)] + extraUsers,
                namespaces: namespaces,
                bookmarkInterval: .seconds(1)
            ))
            world = HelperWorld(
                kind: kind, standIn: server, real: nil, secretName: secretName, helperUser: helperUser,
                leaseName: "aws-ecr-cred-helper", moto: moto, binary: binary, directory: directory,
                configDirectory: directory + "/config", awsConfigDirectory: directory + "/config-aws",
                kubeconfig: directory + "/kubeconfig", token: token
            )
        case .real:
            let real = try #require(realServer ?? RealAPIServer.shared, "\(RealAPIServer.missingReason)")
            let id = uniqueSuffix()
            let name = secretName + "-" + id
            for namespace in namespaces { try await real.createNamespace(namespace) }
            let identity = try await real.makeIdentity(name: "aws-ecr-cred-helper-" + id, rules: Self.renaming(rules, to: name))
            world = HelperWorld(
                kind: kind, standIn: nil, real: real, secretName: name, helperUser: identity.user,
                leaseName: "aws-ecr-cred-helper-" + id, moto: moto, binary: binary, directory: directory,
                configDirectory: directory + "/config", awsConfigDirectory: directory + "/config-aws",
                kubeconfig: directory + "/kubeconfig", token: identity.token
            )
        }
        for folder in [directory, world.configDirectory, world.awsConfigDirectory, directory + "/home"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try world.writeKubeconfig(to: world.kubeconfig, token: world.token)
        return world
    }

    /// Rules written for the original secret name, for a world whose secret has another name.
    static func renaming(_ rules: [PolicyRule], to name: String) -> [PolicyRule] {
        rules.map { rule in
            var rule = rule
            rule.resourceNames = rule.resourceNames.map { $0 == secretName ? name : $0 }
            return rule
        }
    }

    /// Starts a world, runs `body`, and always stops the server and removes the temp folder.
    static func with<T>(
        _ kind: APIServerKind = .standIn,
        namespaces: [String] = ["default", "kube-system", "team-a"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        extraUsers: [TestUser] = [],
        realServer: RealAPIServer? = nil,
        _ body: (HelperWorld) async throws -> T
    ) async throws -> T {
        let world = try await start(kind, namespaces: namespaces, rules: rules, extraUsers: extraUsers, realServer: realServer)
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
        try? await standIn?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - The cluster, on either server (as admin, past RBAC)

    func writeKubeconfig(to path: String, token: String) throws {
        if let standIn {
            try standIn.writeKubeconfig(to: path, token: token)
        } else {
            try write(real!.kubeconfig(token: token), to: path)
        }
    }

    /// Another identity with `rules` (a second replica, another user): its user name and token.
    func makeUser(_ name: String, rules: [PolicyRule]) async throws -> (user: String, token: String) {
        if let standIn {
            let user = "system:serviceaccount:kube-system:\(name)"
            let token = "kube-token-\(name)-" + UUID().uuidString.lowercased()
            await standIn.addUser(TestUser(name: user, token: token, rules: rules))
            return (user, token)
        }
        let identity = try await real!.makeIdentity(name: name + "-" + uniqueSuffix(), rules: Self.renaming(rules, to: secretName))
        return (identity.user, identity.token)
    }

    /// Sets labels on an existing namespace (a merge patch as admin).
    func labelNamespace(_ name: String, _ labels: [String: String]) async throws {
        if let standIn {
            guard var namespace = await standIn.object("namespaces", namespace: nil, name: name) else { return }
            for (key, value) in labels { namespace["metadata"]?["labels"]?[key] = .string(value) }
            try await standIn.put("namespaces", namespace: nil, namespace)
        } else {
            try await real!.createNamespace(name, labels: labels)
        }
    }

    func createNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        if let standIn { await standIn.createNamespace(name, labels: labels) } else { try await real!.createNamespace(name, labels: labels) }
    }

    func object(_ resource: String, namespace: String?, name: String) async throws -> JSONValue? {
        if let standIn { return await standIn.object(resource, namespace: namespace, name: name) }
        return try await real!.object(resource, namespace: namespace, name: name)
    }

    func put(_ resource: String, namespace: String?, _ object: JSONValue) async throws {
        if let standIn { try await standIn.put(resource, namespace: namespace, object) } else { try await real!.put(resource, namespace: namespace, object) }
    }

    func delete(_ resource: String, namespace: String?, name: String) async throws {
        if let standIn { await standIn.delete(resource, namespace: namespace, name: name) } else { try await real!.delete(resource, namespace: namespace, name: name) }
    }

    /// Every object of a resource in a namespace (both servers; on the shared real server other tests' objects too).
    func objects(_ resource: String, namespace: String) async throws -> [JSONValue] {
        if let standIn { return await standIn.objects(resource, namespace: namespace) }
        return try await real!.objects(resource, namespace: namespace)
    }

    /// Every secret of this world's name, in every namespace.
    func managedSecrets() async throws -> [JSONValue] {
        if let standIn {
            return await standIn.objects("secrets", namespace: nil).filter { $0["metadata"]?["name"]?.stringValue == secretName }
        }
        return try await real!.objects("secrets", namespace: nil, fieldSelector: "metadata.name=\(secretName)")
    }

    /// The resourceVersion of this world's secret in each namespace that has one: a write changes it, so
    /// equal maps before and after mean nothing was written (on either server).
    func secretVersions() async throws -> [String: String] {
        var versions: [String: String] = [:]
        for secret in try await managedSecrets() {
            if let namespace = secret["metadata"]?["namespace"]?.stringValue {
                versions[namespace] = secret["metadata"]?["resourceVersion"]?.stringValue
            }
        }
        return versions
    }

    // MARK: - Configuration files, as the original helper's Secrets mount them

    /// The original helper's five files, with the trailing newlines (and a CRLF) its users' files have.
    func writeOriginalConfig(namespaces: [String], keys: MotoFixture.Keys? = nil, secretKey: String? = nil) throws {
        try writeConfig("NAMESPACES", namespaces.joined(separator: " ") + "\n")
        try writeConfig("SECRET_NAME", secretName + "\r\n")
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

    func secret(_ namespace: String, _ name: String? = nil) async -> JSONValue? {
        try? await object("secrets", namespace: namespace, name: name ?? secretName)
    }

    /// The `.dockerconfigjson` of the pull secret, decoded; nil when there is no secret.
    func dockerConfig(_ namespace: String) async throws -> DockerConfig? {
        guard let secret = await secret(namespace) else { return nil }
        return try DockerConfig(secret: secret)
    }

    /// Requests by the helper's ServiceAccount that changed secrets (the stand-in's request log).
    func secretWrites(user: String? = nil) async -> [RecordedRequest] {
        let user = user ?? helperUser
        return await server.requests().filter {
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
