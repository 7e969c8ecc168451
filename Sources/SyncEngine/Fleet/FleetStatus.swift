#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `/readyz` and `/healthz` ask, of one cluster's status or of a whole fleet's.
public protocol HealthReporting: Sendable {
    func ready() async -> (ready: Bool, reason: String)
    func alive(limit: Duration) async -> (alive: Bool, reason: String)
}

extension HelperStatus: HealthReporting {
    public func ready() async -> (ready: Bool, reason: String) { readiness() }
    public func alive(limit: Duration) async -> (alive: Bool, reason: String) { liveness(limit: limit) }
}

/// The fleet's health: one `HelperStatus` per served cluster, plus the clusters whose source is unusable.
///
/// `/readyz` is ready when the cluster sources have been read and every served cluster is ready (its
/// first pass reached every target namespace, and its token has not expired); otherwise it names the
/// clusters that are not, with their reasons. `/healthz` fails only when every cluster's worker is stuck:
/// one stuck cluster is that cluster's problem, and restarting the process would not help the others.
public actor FleetStatus: HealthReporting {
    public struct Cluster: Sendable {
        public var name: String
        public var origin: String
        public var server: String?
        /// Why the cluster is not served (an unusable kubeconfig, a duplicate name), when it is not.
        public var problem: String?
        public var status: HelperStatus?
    }

    private var clusters: [String: Cluster] = [:]
    private var sourcesRead = false
    /// With leader election, a standby serves nothing and is ready while alive.
    private var standby = false
    private var sourceProblems: [String] = []

    public init() {}

    public func setClusters(_ clusters: [Cluster], sourceProblems: [String]) {
        self.clusters = Dictionary(clusters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.sourceProblems = sourceProblems
        sourcesRead = true
    }

    public var all: [Cluster] { clusters.values.sorted { $0.name < $1.name } }

    public func cluster(_ name: String) -> Cluster? { clusters[name] }

    public var problems: [String] { sourceProblems }

    public func setStandby(_ standby: Bool) {
        self.standby = standby
        if standby { clusters = [:] }
    }

    public func ready() async -> (ready: Bool, reason: String) {
        if standby { return (true, "standby: another replica leads") }
        guard sourcesRead else { return (false, "the cluster sources have not been read yet") }
        var notReady: [String] = []
        for cluster in all {
            if let problem = cluster.problem {
                notReady.append("\(cluster.name): \(problem)")
            } else if let status = cluster.status {
                let (ready, reason) = await status.readiness()
                if !ready { notReady.append("\(cluster.name): \(reason)") }
            }
        }
        if notReady.isEmpty {
            return (true, clusters.isEmpty ? "ok: serving no clusters" : "ok: \(clusters.count) clusters")
        }
        let shown = notReady.prefix(5).joined(separator: "\n")
        let more = notReady.count > 5 ? "\n(and \(notReady.count - 5) more)" : ""
        return (false, "\(notReady.count) of \(clusters.count) clusters not ready:\n\(shown)\(more)")
    }

    public func alive(limit: Duration) async -> (alive: Bool, reason: String) {
        var stuck: [String] = []
        var running = 0
        for cluster in all {
            guard let status = cluster.status else { continue }
            running += 1
            let (alive, reason) = await status.liveness(limit: limit)
            if !alive { stuck.append("\(cluster.name): \(reason)") }
        }
        if running > 0, stuck.count == running {
            return (false, "every cluster's sync loop is stuck: \(stuck.prefix(3).joined(separator: "; "))")
        }
        return (true, stuck.isEmpty ? "ok" : "ok (stuck: \(stuck.joined(separator: "; ")))")
    }
}
