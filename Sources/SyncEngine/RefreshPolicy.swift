#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// When to fetch a new token. The next refresh is the earliest of:
/// - `interval` after the fetch (the original helper's fixed 11.5 h, kept as an upper bound);
/// - `fraction` of the token's real lifetime (default half: a refresh that fails then has hours of retries
///   before any pod notices);
/// - `margin` before the token's `expiresAt`.
/// A token without a future `expiresAt` falls back to the interval. Jitter only ever moves a refresh earlier.
public struct RefreshPolicy: Sendable, Hashable {
    public var interval: Duration = .seconds(11 * 3600 + 1800)
    public var fraction: Double = 0.5
    public var margin: Duration = .seconds(3600)
    /// How often everything is re-checked against the cluster without a new token (a safety net under the watches).
    public var resync: Duration = .seconds(300)
    /// Up to this share of the delay is taken off at random, so replicas and restarts spread out.
    public var jitter: Double = 0.05
    /// Never refresh more often than this, even for tokens that expire very soon.
    public var minimumDelay: Duration = .seconds(5)

    public init() {}

    /// Delay from `fetchedAt` (when the tokens were fetched) until the next refresh.
    public func delay(fetchedAt: Date, expiries: [Date?], random: Double = Double.random(in: 0..<1)) -> Duration {
        var delay = interval.seconds
        for case let expiresAt? in expiries {
            let lifetime = expiresAt.timeIntervalSince(fetchedAt)
            guard lifetime > 0 else { continue }
            delay = min(delay, lifetime * fraction, lifetime - margin.seconds)
        }
        delay -= delay * jitter * random
        delay = max(delay, minimumDelay.seconds)
        return .milliseconds(Int64(delay * 1000))
    }
}
