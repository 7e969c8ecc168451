#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KubeClient
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import SyncEngine
import UnixSignals

extension RunCommand {
    /// `run` with fleet targets: one controller per cluster (its own cluster among them when it has
    /// one), one token fetch per region for the fleet, /readyz for the fleet as a whole.
    func runFleet(_ fleet: FleetInvocation) async throws {
        let logger = invocation.logger
        let source = invocation.settings
        let (values, _) = source.read()
        var reader = SettingsReader(values)
        let process = ProcessSettings.read(
            &reader, concerns: Set(Self.concerns), kubeNamespace: fleet.own?.namespace, hostname: invocation.environment["HOSTNAME"]
        )
        var problems = reader.problems.map(\.line)
        if process.leaderElection != nil, fleet.own == nil {
            problems.append("LEADER_ELECTION holds a Lease in the helper's own cluster, and there is none: run it in a pod, or give --kubeconfig")
        }
        if fleet.settings.group != nil {
            if fleet.own == nil {
                problems.append("FLEET_GROUP holds membership Leases in the helper's own cluster, and there is none: run it in a pod, or give --kubeconfig")
            }
            if process.leaderElection != nil {
                problems.append("FLEET_GROUP and LEADER_ELECTION exclude each other: with a group every replica serves its share of the clusters; turn LEADER_ELECTION off")
            }
        }
        if !problems.isEmpty {
            do { _ = try source.load() } catch { problems += error.problems }
            throw HelperFailure(lines: problems)
        }
        let (sources, ownClient) = try fleet.sources(oneShot: false, logger: logger)
        var electionClient: KubernetesClient?
        let tokensSource: ECRTokenSource
        do {
            if process.leaderElection != nil || fleet.settings.group != nil, let own = fleet.own {
                electionClient = try ownClient ?? KubernetesClient(configuration: own, logger: logger)
            }
            tokensSource = try invocation.tokenSource()
        } catch {
            try? await ownClient?.shutdown()
            throw error
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(HelpfulPrometheusFactory(registry: registry))
        let fleetMetrics = HelperMetrics(scope: .fleet)
        let status = FleetStatus()
        var membership: FleetMembership?
        if let group = fleet.settings.group, let client = electionClient {
            let identity = process.podName ?? invocation.environment["HOSTNAME"] ?? "aws-ecr-cred-helper-\(UInt32.random(in: 0...UInt32.max))"
            do { try FleetMembership.validate(group: group, identity: identity) } catch {
                await Self.close(ownClient, electionClient, tokensSource)
                throw HelperFailure("FLEET_GROUP: \(error)")
            }
            membership = FleetMembership(
                client: client, namespace: process.podNamespace ?? fleet.secretNamespace, group: group, identity: identity,
                leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2), logger: logger)
        }
        let supervisor = FleetSupervisor(dependencies: .init(
            sources: sources, settings: source, tokens: SharedTokenSource(source: tokensSource, metrics: fleetMetrics), status: status,
            assignment: membership.map { MembershipAssignment(membership: $0) } ?? ServeEveryCluster(),
            perNamespaceFailures: process.metricsPerNamespace, eventInstance: process.podName, logger: logger))
        var services: [any Service] = [
            FleetService(supervisor: supervisor, election: process.leaderElection.flatMap { election in electionClient.map { (election, $0) } },
                         membership: membership, status: status, metrics: fleetMetrics, logger: logger)
        ]
        let port = process.httpPort
        if port != 0 { services.append(HTTPEndpoints.application(port: port, status: status, registry: registry, logger: logger)) }
        logger.info("aws-ecr-cred-helper \(HelperVersion.current) starting in fleet mode", metadata: [
            "own_cluster": "\(fleet.own?.server ?? "none")",
            "clusters_dir": "\(fleet.settings.clustersDirectory ?? "-")",
            "cluster_secret_selector": "\(fleet.settings.clusterSecretSelector.map { "\($0) in namespace \(fleet.secretNamespace)" } ?? "-")",
            "http_port": "\(port)",
            "leader_election": "\(process.leaderElection != nil)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE && port != 0 {
            await Self.close(ownClient, electionClient, tokensSource)
            throw HelperFailure("HTTP_PORT \(port) is in use by another process: set HTTP_PORT (or --http-port) to a free port, or 0 to turn /healthz, /readyz and /metrics off")
        } catch {
            await Self.close(ownClient, electionClient, tokensSource)
            throw error
        }
        await Self.close(ownClient, electionClient, tokensSource)
    }

    static func close(_ own: KubernetesClient?, _ election: KubernetesClient?, _ tokens: ECRTokenSource) async {
        try? await own?.shutdown()
        if let election, election !== own { try? await election.shutdown() }
        try? await tokens.shutdown()
    }
}

/// The fleet as a lifecycle service. With leader election only the leader serves the fleet (scale-out by
/// membership instead is docs/fleet.md's "Scale out").
struct FleetService: Service {
    let supervisor: FleetSupervisor
    let election: (LeaderElectionConfiguration, KubernetesClient)?
    /// Scale-out: the membership Lease of this replica, held while the fleet runs.
    let membership: FleetMembership?
    let status: FleetStatus
    let metrics: HelperMetrics
    let logger: Logger

    func run() async throws {
        if let membership {
            metrics.setLeader(true)
            let logger = self.logger
            // The Lease lives as long as the fleet runs; a failure of its own (bad timing settings) is logged
            // and this replica then serves nothing (its member list stays empty).
            let holder = Task {
                do { try await membership.run() } catch { logger.error("fleet membership stopped: \(error)") }
            }
            await supervisor.run()
            holder.cancel()
            await holder.value
            return
        }
        guard let (configuration, client) = election else {
            metrics.setLeader(true)
            await supervisor.run()
            return
        }
        let elector = LeaderElector(client: client, configuration: configuration, logger: logger)
        let supervisor = self.supervisor, status = self.status, metrics = self.metrics
        await status.setStandby(true)
        await withGracefulShutdownHandler {
            await elector.run(
                onStartedLeading: {
                    await status.setStandby(false)
                    metrics.setLeader(true)
                    await supervisor.run()
                    if !Task.isCancelled { await elector.release() }
                },
                onStoppedLeading: {
                    await status.setStandby(true)
                    metrics.setLeader(false)
                }
            )
        } onGracefulShutdown: {
            Task {
                if await !elector.isLeader { await elector.release() }
            }
        }
    }
}
