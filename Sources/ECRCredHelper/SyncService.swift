import KubeClient
import Logging
import ServiceLifecycle
import SyncEngine

/// The sync loop as a lifecycle service. With leader election, only the leader runs the loop; losing the
/// lease stops it, and graceful shutdown releases the lease so another replica takes over at once.
struct SyncService: Service {
    let dependencies: SyncController.Dependencies
    let election: LeaderElectionConfiguration?
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
    func runElected(_ election: LeaderElectionConfiguration) async throws {
        let elector = LeaderElector(
            client: dependencies.kube,
            configuration: election,
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
