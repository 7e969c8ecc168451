#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CommonBasics
import KubeClient
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import SyncEngine
import UnixSignals

/// `run`: sync now, then keep every secret fresh until SIGTERM.
struct RunCommand: Subcommand {
    static let name = "run"
    static let abstract = "Sync now, then keep every secret fresh until SIGTERM (the default command)."
    static let discussion = """
        The container's command. Configuration problems of a cycle are logged and retried (the mounted files \
        may be fixed meanwhile); problems with the process settings (HTTP_PORT, leader election) stop it at \
        once, together with every other problem found.
        """
    static let switches = [FleetInvocation.includeLocalSwitch]
    static let concerns: [Setting.Concern] = [
        .locations, .awsLocation, .kubernetes, .fleet, .fleetScale, .namespaces, .secret, .aws, .schedule, .serviceAccounts, .writes, .listener, .leaderElection,
        .pod, .logging,
    ]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "stopped by SIGTERM or SIGINT"),
            (1, "could not start: invalid process settings, no Kubernetes configuration, or the HTTP port in use (one line each)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        // Before the clients start their threads (see MemoryRelease.limitArenas).
        MemoryRelease.limitArenas(to: 2)
        if let fleet = try invocation.fleet() {
            try await runFleet(fleet)
            return
        }
        let logger = invocation.logger
        let kubeConfiguration = try invocation.kubeConfiguration()
        let source = invocation.settings
        let (values, _) = source.read()
        var reader = SettingsReader(values)
        let process = ProcessSettings.read(
            &reader, concerns: Set(Self.concerns), kubeNamespace: kubeConfiguration.namespace, hostname: invocation.environment["HOSTNAME"]
        )
        if !reader.problems.isEmpty {
            // The process cannot start; say everything that is wrong, the cycle's settings included.
            var problems = reader.problems.map(\.line)
            do { _ = try source.load() } catch { problems += error.problems }
            throw HelperFailure(lines: problems)
        }
        let kube = try KubernetesClient(configuration: kubeConfiguration, logger: logger)
        let tokens: ECRTokenSource
        do { tokens = try invocation.tokenSource() } catch {
            try? await kube.shutdown()
            throw error
        }

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(HelpfulPrometheusFactory(registry: registry))
        let election = process.leaderElection
        let status = HelperStatus()
        await status.setLeadership(enabled: election != nil, leading: election == nil)
        var events: EventRecorder?
        if let pod = process.podName, let podNamespace = process.podNamespace ?? kubeConfiguration.namespace {
            events = EventRecorder(client: kube, podName: pod, podNamespace: podNamespace, logger: logger)
        }
        let dependencies = SyncController.Dependencies(
            kube: kube, tokens: tokens, settings: source, status: status,
            metrics: HelperMetrics(perNamespaceFailures: process.metricsPerNamespace), events: events, logger: logger
        )
        // Without election this replica is the one that writes; the gauge says so as `status` does.
        if election == nil { dependencies.metrics.setLeader(true) }
        var services: [any Service] = [
            SyncService(dependencies: dependencies, election: election, status: status, logger: logger)
        ]
        let port = process.httpPort
        if port != 0 {
            services.append(HTTPEndpoints.application(port: port, status: status, registry: registry, logger: logger))
        }
        logger.info("aws-ecr-cred-helper \(HelperVersion.current) starting", metadata: [
            "kubernetes": "\(kubeConfiguration.server)",
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
        } catch let error as IOError where error.errnoCode == EADDRINUSE && port != 0 {
            // NIO's bind error names a syscall, not the setting; 8080 is often taken on a workstation.
            try? await kube.shutdown()
            try? await tokens.shutdown()
            throw HelperFailure("HTTP_PORT \(port) is in use by another process: set HTTP_PORT (or --http-port) to a free port, or 0 to turn /healthz, /readyz and /metrics off")
        } catch {
            try? await kube.shutdown()
            try? await tokens.shutdown()
            throw error
        }
        try? await kube.shutdown()
        try? await tokens.shutdown()
    }
}
