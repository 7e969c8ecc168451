/// Paces the writes of a fan-out to what the API server grants, as API Priority and Fairness hands it out:
///
/// - **Adaptive concurrency (AIMD)**: at most `limit` requests in flight. It starts at CONCURRENCY, halves
///   on a throttled answer (429, or a 5xx with Retry-After) or when latency grows well past the best seen,
///   at most once per round of requests in flight, and grows back by one per round of successes.
/// - **Retry-After**: the throttled request itself waits it out (SecretWriter); it holds every new request
///   only once the limit is down to one (nothing is left to back off), since APF answers each excess request
///   at once with `Retry-After: 1` and a global pause per answer would idle the seats it grants. After a
///   429 the limit stays below the level where it came for a while, instead of climbing straight back.
/// - **An optional client-side rate limit** (QPS and burst, as client-go's token bucket), off by default.
///
/// One governor lives as long as its controller, so what it learned carries over to the next pass.
public actor WriteGovernor {
    public struct Statistics: Sendable, Equatable {
        /// Answers that said the server is throttling (429, 5xx with Retry-After).
        public var throttled = 0
        /// Time requests spent waiting for a Retry-After pause or the rate limit.
        public var waited: Duration = .zero
        /// The lowest concurrency limit reached.
        public var lowestLimit: Int
    }

    public enum Outcome: Sendable {
        case completed(latency: Duration)
        case throttled(retryAfter: Duration?)
        /// Failed for another reason: says nothing about load.
        case failed
    }

    /// A started request: how many were in flight, itself included, when it was sent. A 429 says the
    /// server had no seat for that many; by the time its answer is read, others may have finished, so
    /// counting what is in flight then would put the level too low (down to 1, from a level of 3).
    public struct Ticket: Sendable {
        public let inFlightAtStart: Int
    }

    public let maximum: Int
    let time: any TimeSource
    let qps: Double?
    let burst: Double
    private var limit: Double
    private var inFlight = 0
    private var pausedUntil: Duration = .zero
    private var tokens: Double
    private var refilledAt: Duration
    private var bestLatency: Duration?
    /// Decreases happen at most once per round: not before `decreaseAllowedAfter` more completions.
    private var completions = 0
    private var decreaseAllowedAfter = 0
    /// Below the limit at which the server last throttled, until `ceilingUntil`.
    private var ceiling: Double?
    private var ceilingUntil: Duration = .zero
    /// How long the limit stays below the level of the last 429.
    let ceilingWindow: Duration = .seconds(10)
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0
    private var statistics: Statistics

    /// - Parameters:
    ///   - concurrency: the most requests in flight (CONCURRENCY), where the limit starts and returns to.
    ///   - qps: requests per second, nil for no client-side limit; `burst` requests may go at once.
    public init(concurrency: Int, qps: Double? = nil, burst: Int = 0, time: any TimeSource = SystemTime()) {
        maximum = max(1, concurrency)
        limit = Double(maximum)
        self.time = time
        self.qps = qps.flatMap { $0 > 0 ? $0 : nil }
        self.burst = Double(max(1, burst))
        tokens = Double(max(1, burst))
        refilledAt = time.now
        statistics = Statistics(lowestLimit: max(1, concurrency))
    }

    public var currentLimit: Int { max(1, Int(limit)) }

    /// Statistics since the last call, which resets them (one summary per pass).
    public func takeStatistics() -> Statistics {
        let taken = statistics
        statistics = Statistics(lowestLimit: currentLimit)
        return taken
    }

    /// Waits until a request may start: under the limit, past any Retry-After pause, with a rate token.
    @discardableResult
    public func acquire() async throws -> Ticket {
        while true {
            try Task.checkCancellation()
            let now = time.now
            if pausedUntil > now {
                let until = pausedUntil
                statistics.waited += until - now
                try await time.sleep(until: until)
                continue
            }
            if let qps {
                refill(now: now, qps: qps)
                if tokens < 1 {
                    let wait = Duration.seconds((1 - tokens) / qps)
                    statistics.waited += wait
                    try await time.sleep(until: now + wait)
                    continue
                }
            }
            if inFlight >= currentLimit {
                nextWaiter += 1
                let id = nextWaiter
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        if Task.isCancelled { continuation.resume() } else { waiters[id] = continuation }
                    }
                } onCancel: {
                    Task { await self.cancelWaiter(id) }
                }
                continue
            }
            if qps != nil { tokens -= 1 }
            inFlight += 1
            return Ticket(inFlightAtStart: inFlight)
        }
    }

    /// Ends a request started with `acquire`, and learns from how it went. `ticket`: what `acquire` returned
    /// (without it, a 429 counts what is in flight now).
    public func release(_ outcome: Outcome, ticket: Ticket? = nil) {
        inFlight -= 1
        completions += 1
        switch outcome {
        case .completed(let latency):
            if bestLatency.map({ latency < $0 }) ?? true { bestLatency = latency }
            // Latency far past the best seen means the server queues us: treat as congestion.
            if let best = bestLatency, latency > max(best * 4, .milliseconds(250)) {
                decrease()
            } else {
                let top = time.now < ceilingUntil ? max(limit, ceiling ?? Double(maximum)) : Double(maximum)
                limit = min(top, limit + 1 / limit)
            }
        case .throttled(let retryAfter):
            statistics.throttled += 1
            if let retryAfter, retryAfter > .zero, limit <= 1 { pausedUntil = max(pausedUntil, time.now + retryAfter) }
            decrease(throttledAt: max(inFlight + 1, ticket?.inFlightAtStart ?? 0))
        case .failed:
            break
        }
        wakeWaiters()
    }

    /// - Parameter throttledAt: requests in flight when the throttled request was sent (its ticket), or when
    ///   its answer was read if more: the limit halves that and stays below it for `ceilingWindow`.
    private func decrease(throttledAt: Int? = nil) {
        guard completions >= decreaseAllowedAfter else { return }
        var base = limit
        if let throttledAt {
            ceiling = Double(max(1, throttledAt - 1))
            ceilingUntil = time.now + ceilingWindow
            // Halve what was really in flight, not a limit that was never reached.
            base = min(limit, Double(throttledAt))
        }
        limit = max(1, base / 2)
        statistics.lowestLimit = min(statistics.lowestLimit, currentLimit)
        // The requests in flight now were sent at the old limit: their answers do not halve it again.
        decreaseAllowedAfter = completions + inFlight + 1
    }

    private func refill(now: Duration, qps: Double) {
        let elapsed = (now - refilledAt).seconds
        refilledAt = now
        tokens = min(burst, tokens + elapsed * qps)
    }

    private func wakeWaiters() {
        let free = currentLimit - inFlight
        guard free > 0, !waiters.isEmpty else { return }
        for id in waiters.keys.sorted().prefix(free) { waiters.removeValue(forKey: id)?.resume() }
    }

    private func cancelWaiter(_ id: UInt64) { waiters.removeValue(forKey: id)?.resume() }
}
