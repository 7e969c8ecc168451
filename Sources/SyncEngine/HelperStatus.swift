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
        public var lastAttempt: Date?
        public var lastError: String?
        public var consecutiveFailures: Int
        public var login: RegistryLogin?
        public var nextRefresh: Date?
        public var failingNamespaces: [String: String]
        public var isLeader: Bool
        public var leaderElection: Bool
        public var lastLoopHeartbeat: ContinuousClock.Instant?
    }

    private var snapshot = Snapshot(
        lastSuccess: nil, lastAttempt: nil, lastError: nil, consecutiveFailures: 0, login: nil, nextRefresh: nil,
        failingNamespaces: [:], isLeader: false, leaderElection: false, lastLoopHeartbeat: nil
    )

    public init() {}

    public var current: Snapshot { snapshot }

    /// Ready once a sync succeeded and no managed token has expired; a standby replica (not leading) is ready
    /// as long as it is alive, since it has nothing to serve until it leads.
    public func readiness(now: Date = Date()) -> (ready: Bool, reason: String) {
        if snapshot.leaderElection && !snapshot.isLeader { return (true, "standby: another replica leads") }
        guard snapshot.lastSuccess != nil, let login = snapshot.login else {
            return (false, snapshot.lastError.map { "no successful sync yet: \($0)" } ?? "no successful sync yet")
        }
        if login.hasExpired(at: now) {
            return (false, "a managed token expired at \(login.earliestExpiry.map { KubeTime.time($0) } ?? "?") and refreshing has failed since: \(snapshot.lastError ?? "unknown error")")
        }
        return (true, "ok")
    }

    func recordAttempt(at date: Date) { snapshot.lastAttempt = date }

    func recordSuccess(login: RegistryLogin, at date: Date, failing: [String: String]) {
        snapshot.lastSuccess = date
        snapshot.login = login
        snapshot.lastError = nil
        snapshot.consecutiveFailures = 0
        snapshot.failingNamespaces = failing
    }

    func recordFailure(_ message: String) {
        snapshot.lastError = message
        snapshot.consecutiveFailures += 1
    }

    func recordNamespaceFailures(_ failing: [String: String]) { snapshot.failingNamespaces = failing }

    func recordNextRefresh(_ date: Date?) { snapshot.nextRefresh = date }

    public func setLeadership(enabled: Bool, leading: Bool) {
        snapshot.leaderElection = enabled
        snapshot.isLeader = leading
    }

    func heartbeat() { snapshot.lastLoopHeartbeat = .now }
}
