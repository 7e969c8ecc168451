import KubeClient
import Logging
import ServiceLifecycle
import SyncEngine

/// Process-level settings for leader election (environment or flags only: they cannot change at runtime).
struct LeaderElectionSettings: Sendable {
    var namespace: String
    var leaseName: String
    var identity: String

    static func make(flag: String?, namespace: String?, leaseName: String?, identity: String?) throws -> LeaderElectionSettings? {
        switch flag?.lowercased() {
        case nil, "", "false", "0", "no", "off": return nil
        case "true", "1", "yes", "on": break
        case let other?: throw HelperFailure("LEADER_ELECTION \"\(other)\" is not true or false")
        }
        guard let namespace, !namespace.isEmpty else {
            throw HelperFailure("LEADER_ELECTION is on but the Lease namespace is unknown: set LEADER_ELECTION_NAMESPACE, or POD_NAMESPACE from the downward API")
        }
        let identity = identity ?? "aws-ecr-cred-helper-\(UInt32.random(in: 0...UInt32.max))"
        return LeaderElectionSettings(namespace: namespace, leaseName: leaseName ?? "aws-ecr-cred-helper", identity: identity)
    }
}

/// The sync loop as a lifecycle service. With leader election, only the leader runs the loop; losing the
/// lease stops it, and graceful shutdown releases the lease so another replica takes over at once.
struct SyncService: Service {
    let dependencies: SyncController.Dependencies
    let election: LeaderElectionSettings?
    let status: HelperStatus
    let logger: Logger

    func run() async throws {
        guard let election else {
            await SyncController(dependencies: dependencies).run()
            return
        }
        try await runElected(election)
    }
}

extension SyncService {
    /// Only the leader syncs. On graceful shutdown the leader first lets its pass in flight finish, then
    /// releases the lease; a standby just stops competing.
    func runElected(_ election: LeaderElectionSettings) async throws {
        let elector = LeaderElector(
            client: dependencies.kube,
            configuration: LeaderElectionConfiguration(leaseName: election.leaseName, namespace: election.namespace, identity: election.identity),
            logger: logger
        )
        let dependencies = self.dependencies
        let status = self.status
        await withGracefulShutdownHandler {
            await elector.run(
                onStartedLeading: {
                    await status.setLeadership(enabled: true, leading: true)
                    dependencies.metrics.setLeader(true)
                    await SyncController(dependencies: dependencies).run()
                    if !Task.isCancelled { await elector.release() }
                },
                onStoppedLeading: {
                    await status.setLeadership(enabled: true, leading: false)
                    dependencies.metrics.setLeader(false)
                }
            )
        } onGracefulShutdown: {
            Task {
                if await !elector.isLeader { await elector.release() }
            }
        }
    }
}
