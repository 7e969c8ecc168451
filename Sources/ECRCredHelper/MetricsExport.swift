import Metrics
import Prometheus
import SyncEngine

/// swift-metrics -> swift-prometheus, with HELP text. swift-prometheus's own `PrometheusMetricsFactory` creates
/// every family without help (and its registry refuses a second, different help for a family), so `promtool
/// check metrics` would report "no help text" for each one. This factory gives the registry each family's
/// help and histogram buckets from `HelperMetrics.families` when the family is made.
struct HelpfulPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    private let families: [String: HelperMetrics.Family]
    /// For anything not in the catalogue: the library's defaults.
    private let fallback: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry, families: [HelperMetrics.Family] = HelperMetrics.families) {
        self.registry = registry
        self.families = Dictionary(families.map { ($0.name, $0) }) { first, _ in first }
        self.fallback = PrometheusMetricsFactory(registry: registry)
    }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        // The descriptor's name is its non-empty parts joined by "_": here just the label.
        MetricNameDescriptor(metricName: label, unitName: "", helpText: families[label]?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = families[label].map(\.buckets).flatMap { $0.isEmpty ? nil : $0 } ?? fallback.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = families[label].map(\.buckets).flatMap { $0.isEmpty ? nil : $0 }
            .map { $0.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) } }
            ?? fallback.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { fallback.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { fallback.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { fallback.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { fallback.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { fallback.destroyTimer(handler) }
}
