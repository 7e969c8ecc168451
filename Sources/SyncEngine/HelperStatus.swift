#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient

/// What the helper knows about its own health, for `/readyz`, `/healthz`, `status` and logs.
public actor HelperStatus {
    public struct Snapshot: Sendable {
        public var lastSuccess: Date?
        /// When a pass first reached every target namespace (written, current, or someone else's).
        public var reachedEveryTarget: Date?
        public var lastError: String?
        public var login: RegistryLogin?
        public var failingNamespaces: [String: String]
        public var isLeader: Bool
        public var leaderElection: Bool
        /// Since when the controller's worker has been busy with one batch of keys (nil: idle, waiting
        /// for work). Liveness fails when one batch takes far too long: the loop is stuck.
        public var busySince: ContinuousClock.Instant?
    }

    private var snapshot = Snapshot(
        lastSuccess: nil, reachedEveryTarget: nil, lastError: nil, login: nil, failingNamespaces: [:], isLeader: false, leaderElection: false, busySince: nil
    )

    public init() {}

    public var current: Snapshot { snapshot }

    /// Not ready until a pass has reached every target namespace; from then on ready through transient
    /// outages (of the API server or of AWS) until the token it wrote expires. A standby replica (not
    /// leading) is ready as long as it is alive, since it has nothing to serve until it leads.
    public func readiness(now: Date = Date()) -> (ready: Bool, reason: String) {
        if snapshot.leaderElection && !snapshot.isLeader { return (true, "standby: another replica leads") }
        guard snapshot.lastSuccess != nil, let login = snapshot.login else {
            return (false, snapshot.lastError.map { "no successful sync yet: \($0)" } ?? "no successful sync yet")
        }
        guard snapshot.reachedEveryTarget != nil else {
            let failing = snapshot.failingNamespaces.sorted { $0.key < $1.key }
            let shown = failing.prefix(3).map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            let more = failing.count > 3 ? " (and \(failing.count - 3) more)" : ""
            return (false, "no pass has reached every target namespace yet: \(failing.count) not written\(failing.isEmpty ? "" : ": " + shown + more)")
        }
        if login.hasExpired(at: now) {
            return (false, "a managed token expired at \(login.earliestExpiry.map { KubeTime.time($0) } ?? "?") and refreshing has failed since: \(snapshot.lastError ?? "unknown error")")
        }
        return (true, "ok")
    }

    func recordSuccess(login: RegistryLogin, at date: Date, failing: [String: String], complete: Bool) {
        snapshot.lastSuccess = date
        if complete, snapshot.reachedEveryTarget == nil { snapshot.reachedEveryTarget = date }
        snapshot.login = login
        snapshot.lastError = nil
        snapshot.failingNamespaces = failing
    }

    func recordFailure(_ message: String) {
        snapshot.lastError = message
    }

    func recordNamespaceFailures(_ failing: [String: String]) { snapshot.failingNamespaces = failing }

    public func setLeadership(enabled: Bool, leading: Bool) {
        snapshot.leaderElection = enabled
        snapshot.isLeader = leading
    }

    func workStarted() { snapshot.busySince = .now }

    func workFinished() { snapshot.busySince = nil }

    /// Alive unless the worker has been stuck on one batch for longer than `limit`.
    public func liveness(limit: Duration, now: ContinuousClock.Instant = .now) -> (alive: Bool, reason: String) {
        if let busySince = snapshot.busySince, busySince.duration(to: now) > limit {
            return (false, "sync loop stuck: one batch of work has run for \(busySince.duration(to: now).humanReadable)")
        }
        return (true, "ok")
    }
}
