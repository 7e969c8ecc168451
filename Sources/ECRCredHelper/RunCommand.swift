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

    func run() async throws {
        let runtime = try Runtime.make(settings, logging)
        let env = runtime.environment
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = runtime.logger

        let port = try httpPort ?? env["HTTP_PORT"].map { text in
            guard let port = Int(text.filter { $0 != " " && $0 != "\n" }), (0...65535).contains(port) else {
                throw HelperFailure("HTTP_PORT \"\(text)\" is not a port number from 0 to 65535 (0 turns the listener off)")
            }
            return port
        } ?? 8080
        let election = try LeaderElectionSettings.make(
            flag: leaderElection ?? env["LEADER_ELECTION"],
            namespace: leaderElectionNamespace ?? env["LEADER_ELECTION_NAMESPACE"] ?? env["POD_NAMESPACE"] ?? runtime.kube.configuration.namespace,
            leaseName: leaderElectionLeaseName ?? env["LEADER_ELECTION_LEASE_NAME"],
            identity: env["POD_NAME"] ?? env["HOSTNAME"]
        )

        let status = HelperStatus()
        await status.setLeadership(enabled: election != nil, leading: election == nil)
        var events: EventRecorder?
        if let pod = env["POD_NAME"], let podNamespace = env["POD_NAMESPACE"] ?? runtime.kube.configuration.namespace {
            events = EventRecorder(client: runtime.kube, podName: pod, podNamespace: podNamespace, logger: logger)
        }
        let dependencies = SyncController.Dependencies(
            kube: runtime.kube, tokens: runtime.tokens, settings: runtime.settings, status: status, events: events, logger: logger
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
}
