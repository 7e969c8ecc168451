import Foundation
import KubeClient
import KubeTestServer
import SyncEngine
import Testing
import TestSupport

/// Faults on the Kubernetes side while the controller runs. Each test: the helper recovers on its own,
/// every target ends with a fresh secret, and the observer saw no version that was empty, partial or
/// expired, and no deletion.
@Suite struct KubeFaultTests {
    /// Initial sync, then `fault` while a refresh is forced, then recovery; checks the invariants.
    private func survive(
        _ fixture: ReliabilityFixture,
        timeout: Duration = .seconds(30),
        during fault: (ReliabilityFixture) async throws -> Void
    ) async throws {
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("initial sync", timeout: .seconds(10)) { await fixture.allFresh(generation: 0) }
            try await fault(fixture)
            try await eventually("every secret fresh after the fault", timeout: timeout) { await fixture.allFresh() }
        }
        #expect(fixture.observer.violations.isEmpty, "\(fixture.observer.violations)")
        #expect(fixture.observer.versionsSeen >= fixture.targets.count * 2)
    }

    @Test(arguments: [500, 503, 504])
    func serverErrorsOnPatchAreRetried(status: Int) async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .status(status), times: 4))
            fixture.forceRefresh()
            try await eventually("the faults fired") { await fixture.requests("patch", status: status).count == 4 }
        }
    }

    @Test func tooManyRequestsWithRetryAfterIsRetried() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .status(429, retryAfterSeconds: 1), times: 3))
            fixture.forceRefresh()
            try await eventually("the 429s fired") { await fixture.requests("patch", status: 429).count == 3 }
        }
    }

    @Test func requestTimeoutsAreRetried() async throws {
        // The client gives up after 500 ms; the server holds the first PATCHes for 2 s (then applies them).
        let fixture = try await ReliabilityFixture.start(requestTimeout: .milliseconds(500))
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .delay(.seconds(2)), times: 3))
            fixture.forceRefresh()
            try await eventually("a timeout was logged") {
                !fixture.logs.lines(containingAnyOf: ["timed out", "timeout", "deadline"]).isEmpty
            }
        }
    }

    @Test func droppedConnectionsAreRetried() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .dropConnection, times: 4))
            fixture.forceRefresh()
            try await eventually("the drops fired") { await fixture.requests("patch", status: 0).count == 4 }
        }
    }

    @Test func serverRestartMidSync() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            // Slow writes so the restart lands while the pass is in flight.
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .delay(.milliseconds(300)), times: 3))
            let calls = fixture.tokens.calls
            fixture.forceRefresh()
            try await eventually("the new token fetched, writes under way") { fixture.tokens.calls > calls }
            // The listener rebinds the same port; retry if the old socket is not released yet.
            _ = try await eventuallyValue("the server listening again", timeout: .seconds(10), poll: .milliseconds(100)) { () -> Bool? in
                (try? await fixture.server.restart()) != nil ? true : nil
            }
        }
    }

    @Test func watchClosedMidStreamIsResumedAndStillRepairs() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            try await eventually("watches open") { await fixture.server.openWatchCount >= 2 }
            await fixture.server.closeWatches(dropConnections: true)
            // A change made while the helper's watch is being re-established must still be noticed.
            fixture.observer.allowDeletion(in: "team-a")
            await fixture.server.delete("secrets", namespace: "team-a", name: "registry-aws-ecr")
            try await eventually("restored after the watch resumed", timeout: .seconds(10)) { await fixture.secret("team-a") != nil }
            fixture.forceRefresh()
        }
    }

    @Test func goneAfterHistoryExpiredRelists() async throws {
        let fixture = try await ReliabilityFixture.start(watchHistoryLimit: 3)
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            try await eventually("watches open") { await fixture.server.openWatchCount >= 2 }
            // The next resumes are refused with 410 Gone (as after a server's history moved on): relist.
            await fixture.server.inject(FaultRule(method: "GET", pathContains: "watch=true", fault: .status(410), times: 2))
            await fixture.server.closeWatches()
            // Push the history past its limit too.
            for i in 0..<12 { await fixture.server.createNamespace("filler-\(i)") }
            fixture.observer.allowDeletion(in: "team-b")
            await fixture.server.delete("secrets", namespace: "team-b", name: "registry-aws-ecr")
            try await eventually("restored after relist", timeout: .seconds(15)) { await fixture.secret("team-b") != nil }
            fixture.forceRefresh()
        }
        #expect(!fixture.logs.lines(containingAnyOf: ["expired; relisting"]).isEmpty)
    }

    @Test func serviceAccountTokenRotatedOnDiskIsPickedUpAfter401() async throws {
        let directory = try TemporaryFolder()
        let tokenFile = directory.path + "/token"
        try Data(ReliabilityFixture.helperToken.utf8).write(to: URL(fileURLWithPath: tokenFile))
        // A long refresh interval: only the 401 makes the client read the file again.
        let fixture = try await ReliabilityFixture.start(auth: .tokenFile(tokenFile), tokenRefreshInterval: .seconds(3600))
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture) { fixture in
            let rotated = "rotated-helper-token-fedcba9876543210"
            await fixture.server.addUser(TestUser(name: ReliabilityFixture.helperUser, token: rotated, rules: PolicyRule.originalHelperRole()))
            await fixture.server.removeToken(ReliabilityFixture.helperToken)
            try Data(rotated.utf8).write(to: URL(fileURLWithPath: tokenFile), options: .atomic)
            fixture.forceRefresh()
            try await eventually("the old token was refused once") { await !fixture.requests("patch", status: 401).isEmpty }
        }
        #expect(fixture.logs.lines(containingAnyOf: ["rotated-helper-token", ReliabilityFixture.helperToken]).isEmpty)
    }

    @Test func forbiddenInOneNamespaceRecoversWhenAllowedAgain() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await survive(fixture, timeout: .seconds(30)) { fixture in
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/team-b/secrets/", fault: .status(403)))
            fixture.forceRefresh()
            try await eventually("the others refreshed while team-b is forbidden", timeout: .seconds(10)) {
                let a = await fixture.secret("team-a").flatMap { PullSecretCheck.password($0, registry: fixture.observer.registries[0]) }
                return a == ScriptedTokenSource.password(region: "us-east-1", generation: fixture.tokens.generation)
            }
            try await eventually("team-b retried with backoff") { await fixture.requests("patch", status: 403).count >= 2 }
            let failing = await fixture.status.current.failingNamespaces
            #expect(failing["team-b"]?.contains("forbidden") == true, "\(failing)")
            await fixture.server.clearFaults()
        }
    }

    @Test func missingNamespaceIsServedOnceCreated() async throws {
        let fixture = try await ReliabilityFixture.start(targets: ["default", "team-a", "late"])
        defer { Task { await fixture.shutdown() } }
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("the others synced") {
                let first = await fixture.secret("default")
                let second = await fixture.secret("team-a")
                return first != nil && second != nil
            }
            try await eventually("404 reported") {
                await fixture.status.current.failingNamespaces["late"]?.contains("does not exist") == true
            }
            await fixture.server.createNamespace("late")
            try await eventually("late namespace served by the retry", timeout: .seconds(20)) { await fixture.allFresh() }
        }
        #expect(fixture.observer.violations.isEmpty, "\(fixture.observer.violations)")
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("reliability-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
