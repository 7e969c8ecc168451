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

    /// APF rejects each excess request at once with Retry-After: 1; pausing everyone for each would idle
    /// the seats the level grants. Above one in flight, a 429 lowers the limit and holds no one.
    @Test func aThrottledAnswerAboveOneHoldsNobodyAndCapsTheClimb() async throws {
        let time = ManualTime()
        let governor = WriteGovernor(concurrency: 8, time: time)
        for _ in 0..<4 { try await governor.acquire() }
        await governor.release(.throttled(retryAfter: .seconds(1)))
        #expect(await governor.currentLimit == 2, "half of the 4 that were in flight")
        for _ in 0..<3 { await governor.release(.completed(latency: .milliseconds(5))) }
        try await governor.acquire()  // no pause: returns at once
        for _ in 0..<50 {
            await governor.release(.completed(latency: .milliseconds(5)))
            try await governor.acquire()
        }
        #expect(await governor.currentLimit == 3, "stays below the 4 in flight when the 429 came")
        time.advance(by: .seconds(11))
        for _ in 0..<20 {
            await governor.release(.completed(latency: .milliseconds(5)))
            try await governor.acquire()
        }
        #expect(await governor.currentLimit > 3, "climbs again once the window has passed")
    }

    /// The answers of one round are read one after another: by the time the 429 of the fourth request is
    /// read, the three that got a seat may be done. The level is what was in flight when it was sent (4),
    /// not what is left (1): the limit halves to 2 and climbs back to 3 under that ceiling, instead of
    /// collapsing to 1 and holding every request for Retry-After.
    @Test func aLateThrottledAnswerCountsWhatWasInFlightWhenItWasSent() async throws {
        let time = ManualTime()
        let governor = WriteGovernor(concurrency: 8, time: time)
        var tickets: [WriteGovernor.Ticket] = []
        for _ in 0..<4 { tickets.append(try await governor.acquire()) }
        #expect(tickets.map(\.inFlightAtStart) == [1, 2, 3, 4])
        for ticket in tickets.prefix(3) { await governor.release(.completed(latency: .milliseconds(5)), ticket: ticket) }
        await governor.release(.throttled(retryAfter: .seconds(1)), ticket: tickets[3])
        #expect(await governor.currentLimit == 2)
        #expect(await governor.takeStatistics().lowestLimit == 2)
        // No Retry-After hold (that is only for a limit of one): the next request starts at once.
        var ticket = try await governor.acquire()
        #expect(time.sleeperCount == 0)
        for _ in 0..<20 {
            await governor.release(.completed(latency: .milliseconds(5)), ticket: ticket)
            ticket = try await governor.acquire()
        }
        #expect(await governor.currentLimit == 3, "settles at the level's 3 seats: below the 4 that were refused")
    }

    /// Down to one request in flight, there is nothing left to back off: Retry-After then holds everyone.
    @Test func retryAfterHoldsEveryNewRequestOnceTheLimitIsOne() async throws {
        let time = ManualTime()
        let governor = WriteGovernor(concurrency: 1, time: time)
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
        _ = try await third.value
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
