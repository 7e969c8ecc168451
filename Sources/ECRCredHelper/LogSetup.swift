#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import SyncEngine
import Synchronization

/// Human-readable lines by default, JSON lines with `LOG_FORMAT=json`, written to standard error.
enum LogSetup {
    struct Problem: Error, CustomStringConvertible { let description: String }

    static func bootstrap(level: String?, format: String?) throws(Problem) -> Logger.Level {
        let levelText = (level ?? "info").lowercased()
        guard let parsedLevel = Logger.Level(rawValue: levelText == "warn" ? "warning" : levelText) else {
            throw Problem(description: "LOG_LEVEL \"\(levelText)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        let json: Bool
        switch (format ?? "text").lowercased() {
        case "text", "": json = false
        case "json": json = true
        case let other: throw Problem(description: "LOG_FORMAT \"\(other)\" is not text or json")
        }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, json: json)
            handler.logLevel = parsedLevel
            return handler
        }
        return parsedLevel
    }
}

/// Writes one line per event; a lock keeps lines whole when tasks log at once.
struct LineLogHandler: LogHandler {
    let label: String
    let json: Bool
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    static let output = Mutex<Void>(())

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Self.timestamp()
        var line: String
        if json {
            line = "{\"time\":\(JSONString.quote(time)),\"level\":\(JSONString.quote(event.level.rawValue)),\"logger\":\(JSONString.quote(label)),\"msg\":\(JSONString.quote(event.message.description))"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                line += ",\(JSONString.quote(key)):\(JSONString.quote(value.description))"
            }
            if let error = event.error { line += ",\"error\":\(JSONString.quote("\(error)"))" }
            line += "}\n"
        } else {
            line = "\(time) \(event.level.rawValue.uppercased()) \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            if let error = event.error { line += " error=\(error)" }
            line += "\n"
        }
        Self.output.withLock { _ in writeStandardError(line) }
    }

    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let millis = pad(Int32(spec.tv_nsec / 1_000_000), 3)
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(millis)Z"
    }
}
