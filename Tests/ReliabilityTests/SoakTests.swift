import Foundation
import KubeClient
import KubeTestServer
import SyncEngine
import Testing
import TestSupport

/// The controller on an accelerated clock (a refresh every 2 s, a resync every 3 s) against
/// the test server while random faults hit it: every secret stays valid throughout, the helper keeps
/// refreshing, memory stays flat and no connection or descriptor leaks.
///
/// `RELIABILITY_SOAK_SECONDS` sets the length (default 20, what CI runs); `scripts/soak.sh --minutes N`
/// runs only this test for longer. `RELIABILITY_SOAK_SEED` replays a run's fault sequence.
@Suite struct SoakTests {
    static var seconds: Int { ProcessInfo.processInfo.environment["RELIABILITY_SOAK_SECONDS"].flatMap(Int.init) ?? 20 }
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["RELIABILITY_SOAK_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1..<UInt64.max)
    }
    /// Long runs are alone in the process (scripts/soak.sh), so their memory bound can be tight; the short
    /// run shares the process with every other test.
    static var isLong: Bool { seconds > 60 }

    @Test func randomFaultsOnAnAcceleratedClock() async throws {
        let seed = Self.seed
        var random = SplitMix64(seed: seed)
        let fixture = try await ReliabilityFixture.start(
            namespaces: ["default", "kube-system", "team-a", "team-b", "team-c", "team-d"],
            targets: ["default", "team-a", "team-b", "team-c", "team-d"],
            settings: ["REFRESH_INTERVAL": "2s", "REFRESH_MARGIN": "1s", "RESYNC_INTERVAL": "3s"],
            watchHistoryLimit: 50,
            requestTimeout: .seconds(2)
        )
        defer { Task { await fixture.shutdown() } }
        // Tokens outlive the token-fetch backoff the storm can build up (it doubles to minutes, as it should
        // against a real 12 h token), so "expired" can only mean a stale secret written over a fresh one.
        fixture.tokens.setLifetime(seconds: 600)
        let controller = fixture.controller()
        let clock = ContinuousClock()
        var applied: [String] = []

        let measured = try await fixture.running(controller) { () -> (rss: (Int, Int)?, fds: (Int, Int)?, conns: (Int, Int)?, refreshes: Int) in
            try await eventually("initial sync") { await fixture.allFresh(generation: 0) }
            // Warm-up: connection pools, watches and caches reach their steady size.
            try await runFaults(for: .seconds(min(5, Self.seconds / 4)), fixture: fixture, random: &random, log: &applied)
            await fixture.server.clearFaults()
            fixture.tokens.failNext(0)
            fixture.forceRefresh()
            try await eventually("steady before measuring", timeout: .seconds(60)) { await fixture.allFresh() }
            let rss0 = ProcessProbe.residentKiB(), fds0 = ProcessProbe.openFileDescriptors()
            let conns0 = ProcessProbe.connections(toPort: fixture.server.port)
            let calls0 = fixture.tokens.calls
            let end = clock.now.advanced(by: .seconds(Self.seconds))
            while clock.now < end {
                try await runFaults(for: .seconds(5), fixture: fixture, random: &random, log: &applied)
            }
            await fixture.server.clearFaults()
            fixture.tokens.failNext(0)
            fixture.forceRefresh()
            try await eventually("every secret fresh after the storm", timeout: .seconds(60)) { await fixture.allFresh() }
            let rss1 = ProcessProbe.residentKiB(), fds1 = ProcessProbe.openFileDescriptors()
            let conns1 = ProcessProbe.connections(toPort: fixture.server.port)
            return (
                rss0.flatMap { a in rss1.map { (a, $0) } }, fds0.flatMap { a in fds1.map { (a, $0) } },
                conns0.flatMap { a in conns1.map { (a, $0) } }, fixture.tokens.calls - calls0
            )
        }
        let summary = "seed \(seed), \(Self.seconds)s, faults: \(applied.count), refreshes: \(measured.refreshes), rss KiB: \(String(describing: measured.rss)), fds: \(String(describing: measured.fds)), connections: \(String(describing: measured.conns))"
        print("soak: \(summary)")
        #expect(fixture.observer.violations.isEmpty, "\(summary): \(fixture.observer.violations.prefix(10))")
        #expect(measured.refreshes >= max(2, Self.seconds / 30), "the helper kept refreshing: \(summary)")
        if let (before, after) = measured.conns, before > 0 {
            // One pooled connection per concurrent request at most, plus the watches.
            #expect(after <= max(before, 2) + 8, "connections to the API server grew: \(summary)")
        }
        if let (before, after) = measured.fds {
            #expect(after <= before + (Self.isLong ? 16 : 200), "file descriptors grew: \(summary)")
        }
        if let (before, after) = measured.rss {
            #expect(after - before <= (Self.isLong ? 32 : 256) * 1024, "memory grew: \(summary)")
        }
    }

    /// Applies one random fault every few hundred milliseconds for `duration`.
    private func runFaults(for duration: Duration, fixture: ReliabilityFixture, random: inout SplitMix64, log: inout [String]) async throws {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: duration)
        let namespaces = fixture.targets
        while clock.now < end {
            let namespace = namespaces[Int(random.next() % UInt64(namespaces.count))]
            let times = 1 + Int(random.next() % 3)
            let choice = random.next() % 10
            switch choice {
            case 0: await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .status(500), times: times))
            case 1: await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .status(429, retryAfterSeconds: 1), times: times))
            case 2: await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .dropConnection, times: times))
            case 3: await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .delay(.seconds(3)), times: 1))
            case 4: await fixture.server.closeWatches(dropConnections: random.next() % 2 == 0)
            case 5: await fixture.server.inject(FaultRule(pathContains: "watch=true", fault: .status(410), times: 1))
            // One failed fetch at a time: failures compound into a backoff of minutes (as they should), which
            // would starve the refresh count this test checks.
            case 6: fixture.tokens.failNext(1)
            case 7:
                fixture.observer.allowDeletion(in: namespace)
                await fixture.server.delete("secrets", namespace: namespace, name: "registry-aws-ecr")
            case 8: await fixture.server.inject(FaultRule(method: "GET", fault: .status(503), times: times))
            default: await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/\(namespace)/", fault: .status(403), times: times))
            }
            log.append("\(choice)")
            try await Task.sleep(for: .milliseconds(200 + Int(random.next() % 600)))
            if random.next() % 4 == 0 { await fixture.server.clearFaults() }
        }
    }
}
