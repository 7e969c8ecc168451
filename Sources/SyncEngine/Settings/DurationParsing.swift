/// Parses durations the way Kubernetes users write them: Go-style (`11h30m`, `90s`, `1.5h`, `500ms`) or a
/// bare number of seconds (`3600`).
public enum DurationParsing {
    /// About 31 years: longer makes no sense for any setting, and larger values would overflow the
    /// conversion to `Duration` (a trap: `REFRESH_INTERVAL=1e30` crashed the helper on every cycle).
    static let maximumSeconds = 1e9

    public static func parse(_ text: String) -> Duration? {
        let text = text.trimmingASCIIWhitespace()
        guard !text.isEmpty else { return nil }
        if let seconds = Double(text) {
            return seconds >= 0 && seconds <= maximumSeconds ? .milliseconds(Int64((seconds * 1000).rounded())) : nil
        }
        var total = 0.0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            default: return nil
            }
            total += value * scale
        }
        guard total <= maximumSeconds else { return nil }
        return .milliseconds(Int64((total * 1000).rounded()))
    }
}

extension Duration {
    /// `11h30m0s`-style rendering for logs and `--help`.
    public var humanReadable: String {
        var total = Int64(seconds.rounded())
        let hours = total / 3600
        total %= 3600
        let minutes = total / 60
        let secs = total % 60
        if hours > 0 { return minutes == 0 && secs == 0 ? "\(hours)h" : "\(hours)h\(minutes)m\(secs > 0 ? "\(secs)s" : "")" }
        if minutes > 0 { return secs == 0 ? "\(minutes)m" : "\(minutes)m\(secs)s" }
        return "\(secs)s"
    }
}
