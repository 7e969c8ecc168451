import KubeTestServer
import Logging
import Synchronization
import Testing
import TestSupport

@testable import KubeClient

@Suite struct LeaderElectionTests {
    /// Runs an elector in a task and records its leadership callbacks.
    final class Candidate: Sendable {
        let elector: LeaderElector
        let started = Mutex(0)
        let stopped = Mutex(0)
        let leaderWorkCancelled = Mutex(false)
        private let task = Mutex<Task<Void, Never>?>(nil)

        let releaseWhenLeading: Bool
        /// How long the leader work runs before it releases (with `releaseWhenLeading`).
        let workDuration: Duration
        /// The leader work releases from inside when it is cancelled (a work that hands over on its way out).
        let releaseWhenCancelled: Bool

        init(
            client: KubernetesClient, identity: String, leaseDuration: Duration, renewDeadline: Duration = .seconds(5),
            releaseOnCancel: Bool = true, releaseWhenLeading: Bool = false, workDuration: Duration = .zero,
            releaseWhenCancelled: Bool = false, logger: Logger
        ) {
            self.releaseWhenCancelled = releaseWhenCancelled
            self.releaseWhenLeading = releaseWhenLeading
            self.workDuration = workDuration
            elector = LeaderElector(
                client: client,
                configuration: LeaderElectionConfiguration(
                    leaseName: "cred-helper", namespace: "kube-system", identity: identity,
                    leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: .milliseconds(100),
                    releaseOnCancel: releaseOnCancel
                ),
                logger: logger
            )
        }

        func start() {
            let running = Task { [self] in
                await elector.run(
                    onStartedLeading: { [self] in
                        started.withLock { $0 += 1 }
                        if releaseWhenLeading {
                            // A leader whose work is done hands over from inside that work.
                            if workDuration > .zero { try? await Task.sleep(for: workDuration) }
                            await elector.release()
                            return
                        }
                        // Leader work runs until leadership ends.
                        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                        leaderWorkCancelled.withLock { $0 = true }
                        if releaseWhenCancelled { await elector.release() }
                    },
                    onStoppedLeading: { [self] in stopped.withLock { $0 += 1 } }
                )
            }
            task.withLock { $0 = running }
        }

        /// Waits for `run` to return on its own.
        func finished() async {
            await task.withLock { $0 }?.value
        }

        func cancel() async {
            let running = task.withLock { $0 }
            running?.cancel()
            await running?.value
        }

        var isLeader: Bool { get async { await elector.isLeader } }
    }

    @Test func oneLeadsAndReleaseHandsOverAtOnce() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                // A lease long enough that only a release (not expiry) can explain a quick hand-over.
                let a = Candidate(client: client, identity: "pod-a", leaseDuration: .seconds(60), logger: cluster.logger)
                let b = Candidate(client: client, identity: "pod-b", leaseDuration: .seconds(60), logger: cluster.logger)
                a.start()
                try await eventually("pod-a to lead") { await a.isLeader }
                b.start()
                try await eventually("pod-b to be trying") {
                    await cluster.server.requests().contains { $0.resource == "leases" && $0.user != nil && $0.status == 200 && $0.verb == "get" }
                }
                #expect(await !b.isLeader)
                let lease = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(lease?["spec"]?["holderIdentity"]?.stringValue == "pod-a")

                let leadership = await b.elector.leadershipChanges()
                let changes = Recorder(leadership)
                defer { changes.stop() }

                await a.elector.release()
                #expect(await !a.isLeader)
                #expect(a.leaderWorkCancelled.withLock { $0 }, "release waits for the leader work to end")
                #expect(a.stopped.withLock { $0 } == 1)
                await a.finished()
                try await eventually("pod-b to take over after the release") { await b.isLeader }
                try await eventually("pod-b's leadership stream to report it") { changes.all == [false, true] }
                let taken = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(taken?["spec"]?["holderIdentity"]?.stringValue == "pod-b")
                #expect(taken?["spec"]?["leaseTransitions"]?.intValue == 1)

                await a.cancel()
                await b.cancel()
                // Cancelling the leader releases the lease.
                let released = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(released?["spec"]?["holderIdentity"]?.stringValue == "")
                #expect(b.stopped.withLock { $0 } == 1)
            }
        }
    }

    @Test func releaseFromInsideTheLeaderWorkReturnsAndFreesTheLease() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let a = Candidate(client: client, identity: "pod-a", leaseDuration: .seconds(60), releaseWhenLeading: true, logger: cluster.logger)
                a.start()
                await a.finished()
                #expect(a.started.withLock { $0 } == 1)
                #expect(a.stopped.withLock { $0 } == 1)
                #expect(await !a.isLeader)
                let lease = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(lease?["spec"]?["holderIdentity"]?.stringValue == "")
                #expect(lease?["spec"]?["leaseDurationSeconds"]?.intValue == 1)
            }
        }
    }

    /// The work releases while a renewal is in flight, so the elector's own loop reaches the step-down first.
    /// It once waited there for the work, which waited for it: `run` never returned (seen under load in CI).
    @Test func releaseFromInsideTheLeaderWorkDuringARenewalReturns() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let a = Candidate(
                    client: client, identity: "pod-a", leaseDuration: .seconds(60), releaseWhenLeading: true,
                    workDuration: .milliseconds(150), logger: cluster.logger)
                // Renewals (PUT) take 400 ms: the work's release comes while one is in flight.
                await cluster.server.inject(FaultRule(method: "PUT", pathContains: "/leases/", fault: .delay(.milliseconds(400))))
                a.start()
                let done = Mutex(false)
                let waiter = Task { await a.finished(); done.withLock { $0 = true } }
                try await eventually("run to return after the release", timeout: .seconds(10)) { done.withLock { $0 } }
                await waiter.value
                #expect(a.started.withLock { $0 } == 1)
                #expect(a.stopped.withLock { $0 } == 1)
                #expect(await !a.isLeader)
                let lease = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(lease?["spec"]?["holderIdentity"]?.stringValue == "")
            }
        }
    }

    /// `run` is cancelled, and the leader work, cancelled in turn, releases from inside on its way out: the
    /// step-down already waits for that work, so the release must not wait for the step-down.
    @Test func releaseFromInsideTheCancelledLeaderWorkReturns() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let a = Candidate(
                    client: client, identity: "pod-a", leaseDuration: .seconds(60), releaseWhenCancelled: true, logger: cluster.logger)
                a.start()
                try await eventually("pod-a to lead") { await a.isLeader }
                let done = Mutex(false)
                let waiter = Task { await a.cancel(); done.withLock { $0 = true } }
                try await eventually("run to return after the cancellation", timeout: .seconds(10)) { done.withLock { $0 } }
                await waiter.value
                #expect(a.leaderWorkCancelled.withLock { $0 })
                #expect(a.stopped.withLock { $0 } == 1)
                let lease = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(lease?["spec"]?["holderIdentity"]?.stringValue == "")
            }
        }
    }

    @Test func anotherTakesOverWhenTheLeaderStopsRenewing() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let a = Candidate(
                    client: client, identity: "pod-a", leaseDuration: .seconds(1), renewDeadline: .milliseconds(800), releaseOnCancel: false,
                    logger: cluster.logger
                )
                let b = Candidate(client: client, identity: "pod-b", leaseDuration: .seconds(1), renewDeadline: .milliseconds(800), logger: cluster.logger)
                a.start()
                try await eventually("pod-a to lead") { await a.isLeader }
                b.start()
                // pod-a vanishes without releasing (a crash, a partition).
                await a.cancel()
                #expect(a.stopped.withLock { $0 } >= 1)
                let orphaned = await cluster.server.object("leases", namespace: "kube-system", name: "cred-helper")
                #expect(orphaned?["spec"]?["holderIdentity"]?.stringValue == "pod-a")
                try await eventually("pod-b to take over once the lease expired", timeout: .seconds(30)) { await b.isLeader }
                await b.cancel()
            }
        }
    }

    @Test func leaderStepsDownWhenRenewalsFail() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let a = Candidate(client: client, identity: "pod-a", leaseDuration: .seconds(2), renewDeadline: .milliseconds(600), logger: cluster.logger)
                a.start()
                try await eventually("pod-a to lead") { await a.isLeader }
                let startedBefore = a.started.withLock { $0 }
                let stoppedBefore = a.stopped.withLock { $0 }
                await cluster.server.inject(FaultRule(pathContains: "/leases", fault: .status(503)))
                try await eventually("pod-a to step down after the renew deadline") { await !a.isLeader }
                // onStoppedLeading runs after leadership is withdrawn, so wait for it rather than race it.
                try await eventually("onStoppedLeading to run") { a.stopped.withLock { $0 } > stoppedBefore }
                try await eventually("the leader work to be cancelled") { a.leaderWorkCancelled.withLock { $0 } }
                await cluster.server.clearFaults()
                try await eventually("pod-a to lead again") { await a.isLeader }
                try await eventually("onStartedLeading to run again") { a.started.withLock { $0 } > startedBefore }
                await a.cancel()
            }
        }
    }
}
