#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import KubeTestServer
import Logging
import Synchronization
import SyncEngine
import TestSupport

/// Registry logins without AWS, for reconcile behaviour that needs control over tokens and expiry (the
/// AWS path itself is tested against moto). Counts calls, and fails on demand.
final class FixedTokenSource: RegistryTokenSource {
    struct Failure: Error, CustomStringConvertible { var description: String }
    private let state = Mutex<(calls: Int, failing: Bool, generation: Int, lifetime: Double)>((0, false, 0, 12 * 3600))

    var calls: Int { state.withLock { $0.calls } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }
    /// New passwords on the next fetch, as a real refresh gives.
    func rotate() { state.withLock { $0.generation += 1 } }
    func setLifetime(_ seconds: Double) { state.withLock { $0.lifetime = seconds } }

    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        let (failing, generation, lifetime) = state.withLock { state in
            state.calls += 1
            return (state.failing, state.generation, state.lifetime)
        }
        if failing { throw Failure(description: "AWS is down (test)") }
        let now = Date()
        let ids = access.registryIDs.isEmpty ? ["123456789012"] : access.registryIDs
        let credentials = access.regions.flatMap { region in
            ids.map { id in
                RegistryCredential(
                    registry: "https://\(id).dkr.ecr.\(region).amazonaws.com", username: "AWS",
                    password: Sensitive("token-\(region)-\(id)-\(generation)"), expiresAt: now.addingTimeInterval(lifetime), region: region
                )
            }
        }
        return RegistryLogin(credentials: credentials, fetchedAt: now)
    }
}

/// A test server, a client with the original helper's RBAC, and a controller wired to them.
struct EngineFixture {
    static let helperToken = "helper-token"
    let server: KubeTestServer
    let kube: KubernetesClient
    let settings: MemorySettingsSource
    let tokens: FixedTokenSource
    let status = HelperStatus()
    let logs: CapturedLogs

    static func start(
        namespaces: [String] = ["default", "kube-system", "team-a", "team-b"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        settings: [String: String] = [:],
        watchHistoryLimit: Int = 1000
    ) async throws -> EngineFixture {
        let server = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: "system:serviceaccount:kube-system:aws-ecr-cred-helper", token: helperToken, rules: rules)],
            namespaces: namespaces,
            watchHistoryLimit: watchHistoryLimit
        ))
        var values = [
            "NAMESPACES": "default team-a team-b",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_DEFAULT_REGION": "us-east-1",
        ]
        values.merge(settings) { _, new in new }
        let logs = CapturedLogs()
        let kube = try KubernetesClient(
            configuration: KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: .bearerToken(helperToken)),
            logger: logs.logger(label: "kube")
        )
        return EngineFixture(server: server, kube: kube, settings: MemorySettingsSource(values), tokens: FixedTokenSource(), logs: logs)
    }

    init(server: KubeTestServer, kube: KubernetesClient, settings: MemorySettingsSource, tokens: FixedTokenSource, logs: CapturedLogs) {
        self.server = server
        self.kube = kube
        self.settings = settings
        self.tokens = tokens
        self.logs = logs
    }

    func controller(tick: Duration = .milliseconds(50)) -> SyncController {
        SyncController(
            dependencies: .init(kube: kube, tokens: tokens, settings: settings, status: status, logger: logs.logger(label: "engine")),
            tickInterval: tick
        )
    }

    /// The secret as stored by the server (bypassing RBAC).
    func secret(_ namespace: String, _ name: String = "registry-aws-ecr") async throws -> Secret? {
        try await server.object("secrets", namespace: namespace, name: name)?.decode(Secret.self)
    }

    func writes() async -> [RecordedRequest] {
        await server.requests().filter { ["create", "update", "patch", "delete"].contains($0.verb) && $0.resource == "secrets" }
    }

    /// Runs the controller in a task for the duration of `body`, then stops it.
    func running<T: Sendable>(_ controller: SyncController, _ body: () async throws -> T) async throws -> T {
        let task = Task { await controller.run() }
        defer { task.cancel() }
        return try await body()
    }

    func shutdown() async {
        try? await kube.shutdown()
        try? await server.stop()
    }
}
