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
    static func bootstrap(_ settings: LoggingSettings) -> Logger {
        Console.useJSON(settings.json)
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, json: settings.json)
            handler.logLevel = settings.level
            return handler
        }
        var logger = Logger(label: Console.label)
        logger.logLevel = settings.level
        return logger
    }
}

/// Lines on standard error that are the command's own report rather than log events (`sync`'s failures
/// and summary, error messages): plain lines by default, and with `LOG_FORMAT=json` JSON objects of the same
/// shape as the log's, so that every line on standard error parses.
enum Console {
    static let label = "aws-ecr-cred-helper"
    private static let json = Mutex(false)

    static func useJSON(_ on: Bool) { json.withLock { $0 = on } }
    static var isJSON: Bool { json.withLock { $0 } }

    /// One line; in JSON mode an object with `level` and `metadata`.
    static func line(_ text: String, level: Logger.Level = .error, metadata: Logger.Metadata = [:]) {
        if isJSON {
            LineLogHandler.write(LineLogHandler.jsonLine(label: label, level: level, message: text, metadata: metadata, error: nil))
        } else {
            LineLogHandler.write(text + "\n")
        }
    }

    /// A failure of the command: `Error: first line` and further lines as they are (text), or one JSON
    /// object per line.
    static func failure(_ lines: [String]) {
        for (index, line) in lines.enumerated() {
            if isJSON {
                Console.line(line, level: .error)
            } else {
                LineLogHandler.write((index == 0 ? "Error: " : "") + line + "\n")
            }
        }
    }
}

/// `sync`'s view of the controller's log: drops the controller's pass summary (the event with
/// `namespaces_failed`), which `sync` replaces with one line per failure and its own summary.
struct PassLogHandler: LogHandler {
    var base: LineLogHandler

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        if event.metadata?["namespaces_failed"] != nil { return }
        base.log(event: event)
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
        if json {
            Self.write(Self.jsonLine(label: label, level: event.level, message: event.message.description, metadata: merged, error: event.error))
        } else {
            var line = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            if let error = event.error { line += " error=\(error)" }
            Self.write(line + "\n")
        }
    }

    static func jsonLine(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata, error: (any Error)?) -> String {
        var line = "{\"time\":\(JSONString.quote(timestamp())),\"level\":\(JSONString.quote(level.rawValue)),\"logger\":\(JSONString.quote(label)),\"msg\":\(JSONString.quote(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += ",\(JSONString.quote(key)):\(JSONString.quote(value.description))"
        }
        if let error { line += ",\"error\":\(JSONString.quote("\(error)"))" }
        return line + "}\n"
    }

    static func write(_ line: String) {
        output.withLock { _ in writeStandardError(line) }
    }

    static func timestamp() -> String {
        CivilDate.rfc3339(Date(), fractionDigits: 3)
    }
}

/// Unbuffered, whole-line writes to file descriptor 2 (the C `stderr` global is not concurrency-safe).
func writeStandardError(_ text: String) { writeWhole(text, to: 2) }

/// Whole writes to file descriptor 1.
func writeStandardOutput(_ text: String) { writeWhole(text, to: 1) }

/// Writes all of `text` to `descriptor`, however many calls that takes (stops on an error: nowhere to report).
func writeWhole(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
