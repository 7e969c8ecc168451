import Logging
import Synchronization

/// Collects every log line (message and metadata, rendered) so tests can assert that no secret material
/// was logged at any level.
public final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var all: [String] { lines.withLock { $0 } }

    public func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger at `.trace` that writes into this capture.
    public func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, sink: self) }
        logger.logLevel = .trace
        return logger
    }

    /// The captured lines that contain any of `needles` (empty needles are ignored).
    public func lines(containingAnyOf needles: [String]) -> [String] {
        let needles = needles.filter { !$0.isEmpty }
        return all.filter { line in needles.contains { line.contains($0) } }
    }
}

struct CapturingHandler: LogHandler {
    let label: String
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        sink.append("\(event.level) \(label): \(event.message) \(rendered)\(error)")
    }
}
