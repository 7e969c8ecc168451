#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CoreMetrics
import Metrics

/// The helper's metrics, through swift-metrics (the executable bootstraps the Prometheus exporter).
/// Names follow Prometheus conventions: base units in the name, `_total` for counters.
public struct HelperMetrics: Sendable {
    public static let prefix = "aws_ecr_cred_helper_"

    private let lastSuccess = Gauge(label: prefix + "last_success_timestamp_seconds")
    private let refreshDuration = Metrics.Timer(label: prefix + "refresh_duration_seconds", preferredDisplayUnit: .seconds)
    private let refreshFailures = Counter(label: prefix + "refresh_failures_total")
    private let managedNamespaces = Gauge(label: prefix + "managed_namespaces")
    private let leader = Gauge(label: prefix + "leader")

    public init() {}

    func tokensFetched(_ login: RegistryLogin, regions: Int, duration: Duration) {
        awsRequests(outcome: "success").increment(by: regions)
        refreshDuration.recordNanoseconds(Int64(duration.seconds * 1e9))
        for credential in login.credentials {
            guard let expiresAt = credential.expiresAt else { continue }
            Gauge(label: Self.prefix + "token_expiry_timestamp_seconds", dimensions: [("region", credential.region), ("registry", credential.host)])
                .record(expiresAt.timeIntervalSince1970)
        }
    }

    func tokenFetchFailed() { awsRequests(outcome: "failure").increment() }

    func refreshFailed() { refreshFailures.increment() }

    func syncSucceeded(at date: Date, namespaces: Int) {
        lastSuccess.record(date.timeIntervalSince1970)
        managedNamespaces.record(namespaces)
    }

    func write(_ outcome: NamespaceOutcome, namespace: String) {
        Counter(label: Self.prefix + "secret_writes_total", dimensions: [("outcome", outcome.label)]).increment()
        if case .failed = outcome {
            Counter(label: Self.prefix + "namespace_write_failures_total", dimensions: [("namespace", namespace)]).increment()
        }
    }

    /// The API server answered a write with 429 (or a 5xx with Retry-After).
    func apiThrottled(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: Self.prefix + "api_throttled_requests_total").increment(by: count)
    }

    func watchRestarted(resource: String) {
        Counter(label: Self.prefix + "watch_restarts_total", dimensions: [("resource", resource)]).increment()
    }

    public func setLeader(_ leading: Bool) { leader.record(leading ? 1 : 0) }

    private func awsRequests(outcome: String) -> Counter {
        Counter(label: Self.prefix + "aws_requests_total", dimensions: [("outcome", outcome)])
    }
}
