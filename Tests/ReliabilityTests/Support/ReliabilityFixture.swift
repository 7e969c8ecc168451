import Foundation
import KubeClient
import KubeTestServer
import Logging
import Synchronization
import SyncEngine
import TestSupport

/// The test server, the helper's client (original RBAC unless told otherwise), an admin client, a scripted
/// token source, an observer of every secret version, and a controller wired to them.
struct ReliabilityFixture {
    static let helperUser = "system:serviceaccount:kube-system:aws-ecr-cred-helper"
    static let helperToken = "helper-token-0123456789abcdef"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYRELIABILITYKEY"

    let server: KubeTestServer
    let kube: KubernetesClient
    let admin: KubernetesClient
    let settings: MemorySettingsSource
    let tokens: ScriptedTokenSource
    let status = HelperStatus()
    let logs: CapturedLogs
    let observer: SecretObserver
    let targets: [String]

    /// - Parameters:
    ///   - requestTimeout: the helper client's per-request timeout (short for timeout faults).
    ///   - auth: how the helper authenticates; the default is its fixed token.
    static func start(
        namespaces: [String] = ["default", "kube-system", "team-a", "team-b"],
        targets: [String] = ["default", "team-a", "team-b"],
        rules: [PolicyRule] = PolicyRule.originalHelperRole(),
        settings: [String: String] = [:],
        watchHistoryLimit: Int = 1000,
        requestTimeout: Duration = .seconds(30),
        auth: KubeAuth = .bearerToken(helperToken),
        tokenRefreshInterval: Duration = .seconds(60),
        registries: [String]? = nil
    ) async throws -> ReliabilityFixture {
        let server = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: helperUser, token: helperToken, rules: rules)],
            namespaces: namespaces,
            watchHistoryLimit: watchHistoryLimit,
            bookmarkInterval: .seconds(1)
        ))
        var values = [
            "NAMESPACES": targets.joined(separator: " "),
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": secretKey,
            "AWS_DEFAULT_REGION": "us-east-1",
        ]
        values.merge(settings) { _, new in new }
        let logs = CapturedLogs()
        var configuration = KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: auth)
        configuration.tokenRefreshInterval = tokenRefreshInterval
        let kube = try KubernetesClient(configuration: configuration, logger: logs.logger(label: "kube"), requestTimeout: requestTimeout)
        var quiet = Logger(label: "admin")
        quiet.logLevel = .critical
        let admin = try KubernetesClient(
            configuration: KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: .bearerToken(server.adminToken)),
            logger: quiet
        )
        let settingsSource = MemorySettingsSource(values)
        let regions = try settingsSource.load().aws.regions
        let observer = SecretObserver(registries: registries ?? regions.map { ScriptedTokenSource.registry(region: $0) })
        observer.start(server: server, admin: admin)
        return ReliabilityFixture(
            server: server, kube: kube, admin: admin, settings: settingsSource, tokens: ScriptedTokenSource(), logs: logs,
            observer: observer, targets: targets
        )
    }

    init(
        server: KubeTestServer, kube: KubernetesClient, admin: KubernetesClient, settings: MemorySettingsSource,
        tokens: ScriptedTokenSource, logs: CapturedLogs, observer: SecretObserver, targets: [String]
    ) {
        self.server = server
        self.kube = kube
        self.admin = admin
        self.settings = settings
        self.tokens = tokens
        self.logs = logs
        self.observer = observer
        self.targets = targets
    }

    func controller(
        tick: Duration = .milliseconds(50), tokens: (any RegistryTokenSource)? = nil, events: EventRecorder? = nil,
        metrics: HelperMetrics = HelperMetrics()
    ) -> SyncController {
        SyncController(
            dependencies: .init(
                kube: kube, tokens: tokens ?? self.tokens, settings: settings, status: status, metrics: metrics, events: events,
                logger: logs.logger(label: "engine")
            ),
            tickInterval: tick
        )
    }

    /// The secret as the server stores it (bypassing RBAC and faults).
    func secret(_ namespace: String) async -> Secret? {
        try? await server.object("secrets", namespace: namespace, name: "registry-aws-ecr")?.decode(Secret.self)
    }

    /// True when every target holds a valid secret with the current token generation.
    func allFresh(generation: Int? = nil) async -> Bool {
        let generation = generation ?? tokens.generation
        for namespace in targets {
            guard let secret = await secret(namespace), PullSecretCheck.problem(secret, registries: observer.registries) == nil else { return false }
            for registry in observer.registries {
                let region = registry.dropFirst(ScriptedTokenSource.registryPrefix.count).prefix { $0 != "." }
                guard PullSecretCheck.password(secret, registry: registry) == ScriptedTokenSource.password(region: String(region), generation: generation) else {
                    return false
                }
            }
        }
        return true
    }

    /// Asks for a new token the way a user does: by rotating the AWS key (the controller refetches at once).
    func forceRefresh() {
        tokens.rotate()
        settings.update { $0["AWS_SECRET_ACCESS_KEY"] = "\(Self.secretKey)\(tokens.generation)" }
    }

    func requests(_ verb: String, status: Int? = nil) async -> [RecordedRequest] {
        await server.requests().filter { $0.verb == verb && $0.resource == "secrets" && (status == nil || $0.status == status) }
    }

    /// Runs the controller in a task for the duration of `body`, then stops it.
    func running<T: Sendable>(_ controller: SyncController, _ body: () async throws -> T) async throws -> T {
        let task = Task { await controller.run() }
        defer { task.cancel() }
        return try await body()
    }

    func shutdown() async {
        observer.stop()
        try? await kube.shutdown()
        try? await admin.shutdown()
        try? await server.stop()
    }
}
