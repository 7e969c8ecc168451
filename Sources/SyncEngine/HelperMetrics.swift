#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CoreMetrics
import Metrics
import Synchronization

/// The helper's metrics, through swift-metrics (the executable bootstraps the Prometheus exporter and takes
/// each family's HELP text from `families`).
///
/// Conventions: base units in the name (`_seconds`, `_timestamp_seconds`), `_total` on counters, and labels
/// whose values are bounded by the configuration (region, registry, outcome, state, resource), never by the
/// number of namespaces. Per-namespace series exist only when the user opts in (`perNamespaceFailures`).
/// Counters and state gauges are created at zero when the metrics are made, so `increase()` sees the first
/// event and every family is declared from the first scrape.
///
/// One per process: the namespace bookkeeping behind `target_namespaces` and
/// `oldest_secret_expiry_timestamp_seconds` lives in the value and is shared by its copies. It follows the
/// calls the controller makes anyway: every pass reports each namespace it handled through
/// `write(_:namespace:)`; a full pass reports every target namespace, then `syncSucceeded(at:namespaces:)`
/// on success. A namespace reported by none of the calls between two `syncSucceeded` has left the selection
/// and is forgotten. `setLeader(false)` forgets them all: a standby holds no state.
public struct HelperMetrics: Sendable {
    public static let prefix = "aws_ecr_cred_helper_"

    /// One metric family as `/metrics` declares it: name, TYPE, label names and HELP text. The executable
    /// passes the HELP text to the exporter; the docs and tests list the same families.
    public struct Family: Sendable, Hashable {
        public enum Kind: String, Sendable { case counter, gauge, histogram }
        public var name: String
        public var kind: Kind
        public var labels: [String]
        public var help: String
        /// Histogram buckets, in seconds.
        public var buckets: [Double]
        /// Only exported when the user opts in to per-namespace series.
        public var optIn: Bool

        init(_ suffix: String, _ kind: Kind, labels: [String] = [], buckets: [Double] = [], optIn: Bool = false, help: String) {
            self.name = HelperMetrics.prefix + suffix
            self.kind = kind
            self.labels = labels
            self.help = help
            self.buckets = buckets
            self.optIn = optIn
        }
    }

    /// States of a target namespace in `target_namespaces{state}`.
    public enum NamespaceState: String, Sendable, CaseIterable {
        /// Holds the current pull secret (written, or already current).
        case fresh
        /// The last write failed; retried with backoff. The namespace keeps whatever it held.
        case failing
        /// A secret of that name but another type belongs to someone else and is left alone.
        case foreign
    }

    public static let lastSuccess = Family(
        "last_success_timestamp_seconds", .gauge,
        help: "Unix time of the last successful full sync (valid tokens, every target namespace attempted); 0 until the first one since the process started."
    )
    public static let tokenExpiry = Family(
        "token_expiry_timestamp_seconds", .gauge, labels: ["region", "registry"],
        help: "Unix time at which the registry token last fetched for this region and registry expires."
    )
    public static let oldestSecretExpiry = Family(
        "oldest_secret_expiry_timestamp_seconds", .gauge,
        help: "Unix time at which the earliest-expiring pull secret this replica wrote into a target namespace expires; absent before the first write and on a standby."
    )
    public static let targetNamespaces = Family(
        "target_namespaces", .gauge, labels: ["state"],
        help: "Target namespaces by the state of their pull secret after the last attempt: fresh (holds the current token), failing (the last write failed, retried with backoff), foreign (another type's secret of that name, left alone). 0 on a standby."
    )
    public static let managedNamespaces = Family(
        "managed_namespaces", .gauge,
        help: "Target namespaces that held the current pull secret after the last successful full sync."
    )
    public static let refreshDuration = Family(
        "refresh_duration_seconds", .histogram, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
        help: "Time to fetch the registry tokens from AWS (every region, STS and retries included), per successful refresh."
    )
    public static let refreshFailures = Family(
        "refresh_failures_total", .counter,
        help: "Refreshes that failed (AWS refused or unreachable, or the configuration is invalid); existing secrets stay untouched and the refresh is retried with backoff."
    )
    public static let awsRequests = Family(
        "aws_requests_total", .counter, labels: ["outcome"],
        help: "ECR GetAuthorizationToken fetches by outcome: success counts one per region fetched, failure one per failed refresh."
    )
    public static let secretWrites = Family(
        "secret_writes_total", .counter, labels: ["outcome"],
        help: "Pull secret writes by outcome, one per target namespace per pass: written (server-side apply sent), unchanged (already current, nothing sent), foreign (left alone), failed."
    )
    public static let namespaceWriteFailures = Family(
        "namespace_write_failures_total", .counter, labels: ["target_namespace"], optIn: true,
        help: "Failed pull secret writes per target namespace (METRICS_PER_NAMESPACE=true only: one series per namespace that ever failed)."
    )
    public static let watchRestarts = Family(
        "watch_restarts_total", .counter, labels: ["resource"],
        help: "Watch restarts (relist after a dropped connection or 410 Gone) by watched resource."
    )
    public static let apiThrottledRequests = Family(
        "api_throttled_requests_total", .counter,
        help: "Secret writes the API server throttled (429, or a 5xx with Retry-After); they are retried, not failed."
    )
    public static let leaderFamily = Family(
        "leader", .gauge,
        help: "1 while this replica writes the secrets (always, without leader election), 0 on a standby."
    )

    /// Every family the helper can export, in the order the docs list them.
    public static let families: [Family] = [
        lastSuccess, tokenExpiry, oldestSecretExpiry, targetNamespaces, managedNamespaces, refreshDuration,
        refreshFailures, awsRequests, secretWrites, namespaceWriteFailures, watchRestarts, apiThrottledRequests,
        leaderFamily,
    ]

    /// The family a swift-metrics label belongs to.
    public static func family(named name: String) -> Family? { families.first { $0.name == name } }

    /// Which series a value records. A process serving one cluster records them all without a `cluster`
    /// label (as before fleet mode). In fleet mode each cluster's controller records its own series with
    /// `cluster=<name>`, and the fleet records the AWS side once (one token fetch per region for the
    /// whole fleet), so the token and AWS families carry no `cluster` label.
    public enum Scope: Sendable, Hashable {
        case process
        case cluster(String)
        case fleet
    }

    private let book: NamespaceBook
    private let perNamespaceFailures: Bool
    public let scope: Scope
    private let clusterDimension: [(String, String)]
    private let lastSuccessGauge: Gauge?
    private let refreshDurationTimer: Metrics.Timer?
    private let refreshFailureCounter: Counter?
    private let managedNamespacesGauge: Gauge?
    private let leaderGauge: Gauge?

    /// - Parameter perNamespaceFailures: also count failed writes per target namespace
    ///   (`namespace_write_failures_total{target_namespace}`): one series per namespace that ever failed.
    public init(perNamespaceFailures: Bool = false, scope: Scope = .process) {
        self.perNamespaceFailures = perNamespaceFailures
        self.scope = scope
        let cluster: [(String, String)]
        if case .cluster(let name) = scope { cluster = [("cluster", name)] } else { cluster = [] }
        clusterDimension = cluster
        let recordsAWS = scope == .process || scope == .fleet
        let recordsCluster = scope != .fleet
        lastSuccessGauge = recordsCluster ? Gauge(label: Self.lastSuccess.name, dimensions: cluster) : nil
        refreshDurationTimer = recordsAWS ? Metrics.Timer(label: Self.refreshDuration.name, preferredDisplayUnit: .seconds) : nil
        refreshFailureCounter = recordsCluster ? Counter(label: Self.refreshFailures.name, dimensions: cluster) : nil
        managedNamespacesGauge = recordsCluster ? Gauge(label: Self.managedNamespaces.name, dimensions: cluster) : nil
        leaderGauge = recordsAWS ? Gauge(label: Self.leaderFamily.name) : nil
        if recordsAWS {
            for outcome in ["success", "failure"] { _ = Self.awsRequests(outcome: outcome) }
        }
        if recordsCluster {
            for outcome in ["written", "unchanged", "foreign", "failed"] {
                _ = Counter(label: Self.secretWrites.name, dimensions: cluster + [("outcome", outcome)])
            }
            for resource in ["secrets", "namespaces"] {
                _ = Counter(label: Self.watchRestarts.name, dimensions: cluster + [("resource", resource)])
            }
            _ = Counter(label: Self.apiThrottledRequests.name, dimensions: cluster)
        }
        book = NamespaceBook(cluster: cluster, publishes: recordsCluster)
    }

    /// A cluster's controller records only what the login means for its secrets; the fleet's shared
    /// token source records the fetch itself.
    func tokensFetched(_ login: RegistryLogin, regions: Int, duration: Duration) {
        if case .cluster = scope {
            _ = book.tokensFetched(registries: [], expiry: login.earliestExpiry)
            return
        }
        Self.awsRequests(outcome: "success").increment(by: regions)
        refreshDurationTimer?.recordNanoseconds(Int64(duration.seconds * 1e9))
        var registries: Set<RegistryKey> = []
        for credential in login.credentials {
            guard let expiresAt = credential.expiresAt else { continue }
            let key = RegistryKey(region: credential.region, registry: credential.host)
            registries.insert(key)
            key.gauge.record(expiresAt.timeIntervalSince1970)
        }
        // A region or registry no longer configured leaves no stale series behind (in fleet mode each
        // region's fetch is recorded alone: only that region's registries are compared).
        let gone = book.tokensFetched(registries: registries, expiry: login.earliestExpiry, regions: scope == .fleet ? Set(login.credentials.map(\.region)) : nil)
        for gone in gone { gone.gauge.destroy() }
    }

    func tokenFetchFailed() {
        if case .cluster = scope { return }
        Self.awsRequests(outcome: "failure").increment()
    }

    func refreshFailed() { refreshFailureCounter?.increment() }

    func syncSucceeded(at date: Date, namespaces: Int) {
        lastSuccessGauge?.record(date.timeIntervalSince1970)
        managedNamespacesGauge?.record(namespaces)
        book.fullPassSucceeded()
    }

    func write(_ outcome: NamespaceOutcome, namespace: String) {
        Counter(label: Self.secretWrites.name, dimensions: clusterDimension + [("outcome", outcome.label)]).increment()
        if case .failed = outcome, perNamespaceFailures {
            Counter(label: Self.namespaceWriteFailures.name, dimensions: clusterDimension + [("target_namespace", namespace)]).increment()
        }
        book.record(outcome, namespace: namespace)
    }

    /// The API server answered a write with 429 (or a 5xx with Retry-After).
    func apiThrottled(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: Self.apiThrottledRequests.name, dimensions: clusterDimension).increment(by: count)
    }

    func watchRestarted(resource: String) {
        Counter(label: Self.watchRestarts.name, dimensions: clusterDimension + [("resource", resource)]).increment()
    }

    public func setLeader(_ leading: Bool) {
        leaderGauge?.record(leading ? 1 : 0)
        if !leading { book.forgetAll() }
    }

    /// A cluster that left the fleet: its series go with it.
    public func forgetCluster() {
        guard case .cluster = scope else { return }
        book.forgetAll()
        lastSuccessGauge?.destroy()
        managedNamespacesGauge?.destroy()
        book.destroyGauges()
    }

    private static func awsRequests(outcome: String) -> Counter {
        Counter(label: awsRequests.name, dimensions: [("outcome", outcome)])
    }
}

/// A registry whose token expiry is exported.
struct RegistryKey: Hashable, Sendable {
    var region: String
    var registry: String

    var gauge: Gauge {
        Gauge(label: HelperMetrics.tokenExpiry.name, dimensions: [("region", region), ("registry", registry)])
    }
}

/// The state and the expiry of the secret of every target namespace, as counts: O(1) per reported
/// namespace however many there are (expiries are counted per distinct value, of which there are a few).
struct NamespaceStates: Sendable {
    struct Entry: Sendable, Equatable {
        var state: HelperMetrics.NamespaceState
        /// Expiry of the token the namespace holds, when this process wrote it or found it current.
        var expiry: Date?
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var counts: [HelperMetrics.NamespaceState: Int] = [:]
    private var expiries: [Date: Int] = [:]
    /// Namespaces reported since the last successful full pass.
    private var reported: Set<String> = []
    /// Expiry of the token the last successful fetch returned.
    var currentExpiry: Date?

    var oldestExpiry: Date? { expiries.keys.min() }

    mutating func record(_ outcome: NamespaceOutcome, namespace: String) {
        reported.insert(namespace)
        let previous = entries[namespace]
        let entry: Entry
        switch outcome {
        case .written, .unchanged: entry = Entry(state: .fresh, expiry: currentExpiry)
        case .foreign, .otherInstallation: entry = Entry(state: .foreign, expiry: nil)
        // The namespace keeps what it held: a token this process wrote earlier, or something unknown.
        case .failed: entry = Entry(state: .failing, expiry: previous?.expiry)
        }
        set(namespace, entry)
    }

    /// Forgets the namespaces no call reported since the previous successful full pass.
    mutating func fullPassSucceeded() {
        for namespace in entries.keys where !reported.contains(namespace) { set(namespace, nil) }
        reported.removeAll(keepingCapacity: true)
    }

    mutating func forgetAll() { self = NamespaceStates() }

    private mutating func set(_ namespace: String, _ entry: Entry?) {
        if let old = entries[namespace] {
            counts[old.state, default: 0] -= 1
            if let expiry = old.expiry { uncount(expiry) }
        }
        entries[namespace] = entry
        if let entry {
            counts[entry.state, default: 0] += 1
            if let expiry = entry.expiry { expiries[expiry, default: 0] += 1 }
        }
    }

    private mutating func uncount(_ expiry: Date) {
        let left = (expiries[expiry] ?? 0) - 1
        expiries[expiry] = left > 0 ? left : nil
    }
}

/// `NamespaceStates` behind a lock, publishing the gauges on every change (under the lock, so that
/// concurrent callers cannot publish out of order).
final class NamespaceBook: Sendable {
    private struct Locked: Sendable {
        var states = NamespaceStates()
        var registries: Set<RegistryKey> = []
        var oldestPublished = false
    }

    private let locked = Mutex(Locked())
    private let stateGauges: [HelperMetrics.NamespaceState: Gauge]
    private let cluster: [(String, String)]
    private let publishes: Bool

    init(cluster: [(String, String)] = [], publishes: Bool = true) {
        var gauges: [HelperMetrics.NamespaceState: Gauge] = [:]
        if publishes {
            for state in HelperMetrics.NamespaceState.allCases {
                gauges[state] = Gauge(label: HelperMetrics.targetNamespaces.name, dimensions: cluster + [("state", state.rawValue)])
            }
        }
        stateGauges = gauges
        self.cluster = cluster
        self.publishes = publishes
    }

    /// Returns the registries whose expiry series must go. `regions`: only registries of these regions
    /// are compared (a fleet records each region's fetch alone).
    func tokensFetched(registries: Set<RegistryKey>, expiry: Date?, regions: Set<String>? = nil) -> Set<RegistryKey> {
        locked.withLock { locked in
            if let regions {
                let previous = locked.registries.filter { regions.contains($0.region) }
                locked.registries = locked.registries.subtracting(previous).union(registries)
                return previous.subtracting(registries)
            }
            let gone = locked.registries.subtracting(registries)
            locked.registries = registries
            locked.states.currentExpiry = expiry
            return gone
        }
    }

    func destroyGauges() {
        for gauge in stateGauges.values { gauge.destroy() }
        locked.withLock { locked in
            if locked.oldestPublished { Gauge(label: HelperMetrics.oldestSecretExpiry.name, dimensions: cluster).destroy() }
            locked.oldestPublished = false
        }
    }

    func record(_ outcome: NamespaceOutcome, namespace: String) {
        locked.withLock { locked in
            locked.states.record(outcome, namespace: namespace)
            publish(&locked)
        }
    }

    func fullPassSucceeded() {
        locked.withLock { locked in
            locked.states.fullPassSucceeded()
            publish(&locked)
        }
    }

    func forgetAll() {
        locked.withLock { locked in
            locked.states.forgetAll()
            publish(&locked)
        }
    }

    private func publish(_ locked: inout Locked) {
        guard publishes else { return }
        for (state, gauge) in stateGauges { gauge.record(locked.states.counts[state] ?? 0) }
        // Made only when there is a value: a new gauge starts at 0, which would read "expired in 1970".
        if let expiry = locked.states.oldestExpiry {
            Gauge(label: HelperMetrics.oldestSecretExpiry.name, dimensions: cluster).record(expiry.timeIntervalSince1970)
            locked.oldestPublished = true
        } else if locked.oldestPublished {
            Gauge(label: HelperMetrics.oldestSecretExpiry.name, dimensions: cluster).destroy()
            locked.oldestPublished = false
        }
    }
}
