import SyncEngine
import TestSupport
import Testing

/// The governor's AIMD and pauses, on a manual clock.
@Suite struct WriteGovernorTests {
    @Test func throttlingHalvesOncePerRoundAndSuccessesGrowItBack() async throws {
        let governor = WriteGovernor(concurrency: 8, time: ManualTime())
        for _ in 0..<8 { try await governor.acquire() }
        // Eight answers of one round all say 429: the limit halves once, not eight times.
        for _ in 0..<8 { await governor.release(.throttled(retryAfter: nil)) }
        #expect(await governor.currentLimit == 4)
        // Then a round of successes (and one more): additive increase, about one per round.
        for _ in 0..<5 {
            try await governor.acquire()
            await governor.release(.completed(latency: .milliseconds(10)))
        }
        #expect(await governor.currentLimit == 5)
        #expect(await governor.takeStatistics().throttled == 8)
    }

    @Test func retryAfterHoldsEveryNewRequest() async throws {
        let time = ManualTime()
        let governor = WriteGovernor(concurrency: 4, time: time)
        try await governor.acquire()
        await governor.release(.throttled(retryAfter: .seconds(2)))
        let started = Recorded<Bool>()
        let waiting = Task {
            try await governor.acquire()
            started.append(true)
        }
        try await eventually("the next request waits out Retry-After") { time.sleeperCount == 1 }
        #expect(started.all.isEmpty)
        time.advance(by: .seconds(2))
        try await waiting.value
        #expect(started.all == [true])
        #expect(await governor.takeStatistics().waited == .seconds(2))
    }

    @Test func theRateLimitSpacesRequestsAfterTheBurst() async throws {
        let time = ManualTime()
        let governor = WriteGovernor(concurrency: 100, qps: 10, burst: 2, time: time)
        try await governor.acquire()
        try await governor.acquire()
        let third = Task { try await governor.acquire() }
        try await eventually("the third request waits for a token") { time.sleeperCount == 1 }
        time.advance(by: .milliseconds(100))
        try await third.value
    }

    @Test func slowAnswersCountAsCongestion() async throws {
        let governor = WriteGovernor(concurrency: 16, time: ManualTime())
        try await governor.acquire()
        await governor.release(.completed(latency: .milliseconds(20)))
        try await governor.acquire()
        await governor.release(.completed(latency: .seconds(2)))
        #expect(await governor.currentLimit == 8)
    }
}
