import Foundation
import KubeTestServer
import Logging
import Synchronization
import Testing
import TestSupport

@testable import KubeClient

/// Lease renewals keep their deadlines while the machine is busy: a CPU hog (two busy processes, one per core
/// here) and a neighbour that blocks every thread of the cooperative pool for seconds. The leader must not
/// step down, and it must keep renewing throughout.
///
/// It blocks the whole pool of the test process on purpose, which would stall every other test running
/// beside it, so it runs alone: scripts/test.sh runs it in a `swift test` of its own after the suite
/// (`LEASE_DEADLINE_TEST=1`). The real kube-apiserver only: the in-process stand-in serves through the very
/// pool that is blocked.
@Suite struct LeaseDeadlineTests {
    static let enabled = ProcessInfo.processInfo.environment["LEASE_DEADLINE_TEST"] == "1" && RealAPIServer.isAvailable
    static let reason: Comment = "runs alone, on the real kube-apiserver: LEASE_DEADLINE_TEST=1 (scripts/test.sh sets it in a run of its own)"

    @Test(.enabled(if: enabled, reason))
    func renewalsKeepTheirDeadlinesBesideACPUHogAndABlockedPool() async throws {
        let server = try #require(RealAPIServer.shared)
        let namespace = "lease-deadline-\(uniqueSuffix())"
        let identity = try await server.makeIdentity(
            name: "elector-\(uniqueSuffix())",
            rules: [PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"], namespaces: [namespace])])
        let logs = CapturedLogs()
        let configuration = KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: .bearerToken(identity.token))
        let client = try KubernetesClient(configuration: configuration, logger: logs.logger(label: "kube"))
        defer { Task { try? await client.shutdown() } }

        // client-go's shape, scaled down: a renewal every 200 ms, given up after 1 s without one.
        let elector = LeaderElector(
            client: client,
            configuration: LeaderElectionConfiguration(
                leaseName: "deadline", namespace: namespace, identity: "pod-a",
                leaseDuration: .seconds(3), renewDeadline: .seconds(1), retryPeriod: .milliseconds(200)),
            logger: logs.logger(label: "elector"))
        let stepDowns = Mutex(0)
        let running = Task {
            await elector.run(onStartedLeading: {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }, onStoppedLeading: { stepDowns.withLock { $0 += 1 } })
        }
        defer { running.cancel() }
        try await eventually("pod-a to lead", timeout: .seconds(20)) { await elector.isLeader }
        let before = try await renewTime(server, namespace)

        // The CPU hog: one busy process per core.
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let hogs = try (0..<max(2, ProcessInfo.processInfo.activeProcessorCount)).map { _ in
            try ChildProcess(executable: "/bin/sh", arguments: ["-c", "while :; do :; done"], environment: [:], outputDirectory: folder.path)
        }
        defer { for hog in hogs { hog.killNow() } }

        // The blocked pool: twice as many blocking tasks as the pool has threads, 3 s each, and a probe queued
        // behind them that shows how long the pool was unavailable.
        let width = ProcessInfo.processInfo.activeProcessorCount
        let blockedFor = Duration.seconds(3)
        let queued = ContinuousClock.now
        let blockers = (0..<(2 * width)).map { _ in
            Task.detached {
                _ = usleep(UInt32(blockedFor.components.seconds) * 1_000_000)  // blocking: the neighbour under test
            }
        }
        let probe = Task.detached { queued.duration(to: .now) }
        for blocker in blockers { await blocker.value }
        let poolWait = await probe.value
        for hog in hogs { hog.killNow() }

        let after = try await renewTime(server, namespace)
        #expect(poolWait >= blockedFor, "the neighbour did not block the pool (the probe waited only \(poolWait))")
        #expect(stepDowns.withLock { $0 } == 0, "the leader stepped down while the pool was blocked: \(logs.all.suffix(20))")
        #expect(await elector.isLeader)
        // Renewed while the pool was blocked: the last renewal is recent, not from before the block.
        #expect(after.timeIntervalSince(before) >= (Double(poolWait.components.seconds) - 1.2), "last renewal \(after), before the block \(before)")
        running.cancel()
        await running.value
    }

    private func renewTime(_ server: RealAPIServer, _ namespace: String) async throws -> Date {
        let lease = try #require(try await server.object("leases", namespace: namespace, name: "deadline"))
        let stamp = try #require(lease["spec"]?["renewTime"]?.stringValue)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try #require(formatter.date(from: stamp), "renewTime \(stamp)")
    }
}
