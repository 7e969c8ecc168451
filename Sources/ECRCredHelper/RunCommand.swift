import ArgumentParser
import KubeClient
import UnixSignals
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SyncEngine

/// `run`: sync now, then keep every secret fresh until SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Sync now, then keep every secret fresh until SIGTERM (the default command)."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Port for /healthz, /readyz and /metrics; 0 turns the listener off. Default 8080. (HTTP_PORT)")
    var httpPort: Int?

    @Option(help: "Run several replicas with one leader holding a Lease: true or false. (LEADER_ELECTION)")
    var leaderElection: String?

    @Option(help: "Namespace of the Lease. Default: the Pod's own (POD_NAMESPACE). (LEADER_ELECTION_NAMESPACE)")
    var leaderElectionNamespace: String?

    @Option(help: "Name of the Lease. Default aws-ecr-cred-helper. (LEADER_ELECTION_LEASE_NAME)")
    var leaderElectionLeaseName: String?

    @Option(help: "Also count failed writes per target namespace (a series per namespace that ever failed): true or false. Default false. (METRICS_PER_NAMESPACE)")
    var metricsPerNamespace: String?

    func run() async throws {
        // Before the clients start their threads (see MemoryRelease.limitArenas).
        MemoryRelease.limitArenas(to: 2)
        let runtime = try Runtime.make(settings, logging)
        let env = runtime.environment
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(HelpfulPrometheusFactory(registry: registry))
        let logger = runtime.logger

        // The clients are open from here on: a bad process setting closes them before it is reported (an
        // HTTP client dropped without shutdown traps instead of printing the error).
        let port: Int
        let election: LeaderElectionSettings?
        let perNamespace: Bool
        do {
            port = try httpPort ?? env["HTTP_PORT"].map { text in
                guard let port = Int(text.filter { $0 != " " && $0 != "\n" }), (0...65535).contains(port) else {
                    throw HelperFailure("HTTP_PORT \"\(text)\" is not a port number from 0 to 65535 (0 turns the listener off)")
                }
                return port
            } ?? 8080
            election = try LeaderElectionSettings.make(
                flag: leaderElection ?? env["LEADER_ELECTION"],
                namespace: leaderElectionNamespace ?? env["LEADER_ELECTION_NAMESPACE"] ?? env["POD_NAMESPACE"] ?? runtime.kube.configuration.namespace,
                leaseName: leaderElectionLeaseName ?? env["LEADER_ELECTION_LEASE_NAME"],
                identity: env["POD_NAME"] ?? env["HOSTNAME"]
            )
            perNamespace = try Self.flag(metricsPerNamespace ?? env["METRICS_PER_NAMESPACE"], name: "METRICS_PER_NAMESPACE")
        } catch {
            await runtime.shutdown()
            throw error
        }

        let status = HelperStatus()
        await status.setLeadership(enabled: election != nil, leading: election == nil)
        var events: EventRecorder?
        if let pod = env["POD_NAME"], let podNamespace = env["POD_NAMESPACE"] ?? runtime.kube.configuration.namespace {
            events = EventRecorder(client: runtime.kube, podName: pod, podNamespace: podNamespace, logger: logger)
        }
        let dependencies = SyncController.Dependencies(
            kube: runtime.kube, tokens: runtime.tokens, settings: runtime.settings, status: status,
            metrics: HelperMetrics(perNamespaceFailures: perNamespace), events: events, logger: logger
        )
        // Without election this replica is the one that writes; the gauge says so as `status` does.
        if election == nil { dependencies.metrics.setLeader(true) }
        var services: [any Service] = [
            SyncService(dependencies: dependencies, election: election, status: status, logger: logger)
        ]
        if port != 0 {
            services.append(HTTPEndpoints.application(port: port, status: status, registry: registry, logger: logger))
        }
        logger.info("aws-ecr-cred-helper \(HelperVersion.current) starting", metadata: [
            "kubernetes": "\(runtime.kube.configuration.server)",
            "http_port": "\(port)",
            "leader_election": "\(election != nil)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch {
            await runtime.shutdown()
            // NIO's bind error names a syscall, not the setting; 8080 is often taken on a workstation.
            if port != 0, "\(error)".contains("Address already in use") {
                throw HelperFailure("HTTP_PORT \(port) is in use by another process: set HTTP_PORT (or --http-port) to a free port, or 0 to turn /healthz, /readyz and /metrics off")
            }
            throw error
        }
        await runtime.shutdown()
    }

    /// A process setting that is true or false (unset: false).
    static func flag(_ text: String?, name: String) throws -> Bool {
        switch text?.filter({ !$0.isWhitespace }).lowercased() {
        case nil, "", "false", "0", "no", "off": return false
        case "true", "1", "yes", "on": return true
        case let other?: throw HelperFailure("\(name) \"\(other)\" is not true or false")
        }
    }
}
