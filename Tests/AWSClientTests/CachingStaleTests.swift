import Foundation
import Synchronization
import Testing
import TestSupport

@testable import AWSClient

/// `CachingCredentialProvider.markStale()`: the files behind the credentials changed (a renewed certificate), so
/// the next call renews them, falls back on the cached ones if that fails, and a fetch begun before the mark
/// does not count as current.
@Suite struct CachingStaleTests {
    /// Hands out numbered credentials valid for an hour; fails while `failing`; waits for `gate` when set.
    final class Counting: AWSCredentialProvider, Sendable {
        let calls = Mutex(0)
        let failing = Mutex(false)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holding = Mutex(false)

        struct Refused: Error {}

        func credentials() async throws -> AWSCredentials {
            let n = calls.withLock { $0 += 1; return $0 }
            if holding.withLock({ $0 }) {
                await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
            }
            if failing.withLock({ $0 }) { throw Refused() }
            return AWSCredentials(accessKeyID: "ASIA\(n)", secretAccessKey: "s", sessionToken: "t", expiration: Date().addingTimeInterval(3600))
        }
    }

    @Test func markStaleRenewsAndFallsBack() async throws {
        let base = Counting()
        let cache = CachingCredentialProvider(base)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        cache.markStale()
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        // A renewal that fails after a change: the cached credentials, still valid, until one succeeds.
        base.failing.withLock { $0 = true }
        cache.markStale()
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        base.failing.withLock { $0 = false }
        #expect(try await cache.credentials().accessKeyID == "ASIA5")
        #expect(base.calls.withLock { $0 } == 5)
    }

    @Test func aFetchBegunBeforeTheMarkIsNotCurrent() async throws {
        let base = Counting()
        let cache = CachingCredentialProvider(base)
        base.holding.withLock { $0 = true }
        let first = Task { try await cache.credentials() }
        try await eventually("the first fetch to start") { base.gate.withLock { $0 != nil } }
        cache.markStale()  // the files change while the fetch is running
        base.holding.withLock { $0 = false }
        base.gate.withLock { $0?.resume(); $0 = nil }
        #expect(try await first.value.accessKeyID == "ASIA1")
        #expect(try await cache.credentials().accessKeyID == "ASIA2", "fetched again after the mark")
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
    }

    /// A call after the mark while the earlier fetch is still running starts a fetch of its own instead of
    /// waiting for (and returning) the stale one.
    @Test func aCallAfterTheMarkDoesNotJoinAFetchBegunBeforeIt() async throws {
        let base = Counting()
        let cache = CachingCredentialProvider(base)
        base.holding.withLock { $0 = true }
        let first = Task { try await cache.credentials() }
        try await eventually("the first fetch to start") { base.gate.withLock { $0 != nil } }
        cache.markStale()
        base.holding.withLock { $0 = false }
        let answer = Mutex<String?>(nil)
        let second = Task {
            let key = try await cache.credentials().accessKeyID
            answer.withLock { $0 = key }
        }
        // Bounded, and the first fetch is released either way, so a regression fails instead of hanging.
        let got = try? await eventuallyValue("the call after the mark to answer", timeout: .seconds(10)) { answer.withLock { $0 } }
        base.gate.withLock { $0?.resume(); $0 = nil }
        _ = try await first.value
        _ = try? await second.value
        #expect(got == "ASIA2", "a fetch of its own, not the stale one in flight")
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
    }
}
