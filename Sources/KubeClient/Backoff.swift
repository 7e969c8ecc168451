import CommonBasics

/// Exponential backoff with jitter, as the reflector and leader election use after failures.
public struct ExponentialBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Each delay is scaled by a random factor in `1 - jitter ... 1` so that many clients spread out.
    public var jitter: Double

    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before attempt `failures + 1` after `failures` consecutive failures (`failures >= 1`).
    public func delay(afterFailures failures: Int) -> Duration {
        let exponent = Double(max(0, failures - 1))
        let base = initial.seconds * pow(multiplier, min(exponent, 62))
        let capped = min(base, maximum.seconds)
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...1) : 1
        return .nanoseconds(Int64(capped * factor * 1e9))
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) {
            result *= base
            if result > 1e12 { break }
        }
        return result
    }
}
