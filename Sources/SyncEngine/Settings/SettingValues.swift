/// One raw setting and where it came from, so a validation error can say which file, variable or flag to fix.
public struct SettingValue: Sendable, Hashable {
    public var raw: String
    /// e.g. `file /config/NAMESPACES`, `environment NAMESPACES`, `flag --namespaces`.
    public var origin: String

    public init(_ raw: String, origin: String) {
        self.raw = raw
        self.origin = origin
    }

    /// The value without surrounding whitespace, CR/LF or byte-order mark.
    public var trimmed: String { raw.trimmingASCIIWhitespace() }
}

/// The raw settings of one cycle, already resolved by precedence (flag > environment > file) by whoever
/// read them. Keys are the environment variable names (`NAMESPACES`, `SECRET_NAME`, ...).
public struct SettingValues: Sendable {
    public var values: [String: SettingValue]

    public init(_ values: [String: SettingValue] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> SettingValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The trimmed value, or nil when unset or blank.
    func string(_ key: String) -> String? {
        guard let value = values[key]?.trimmed, !value.isEmpty else { return nil }
        return value
    }

    /// Items separated by whitespace or commas (the original used spaces; files often hold newlines).
    func list(_ key: String) -> [String] {
        guard let raw = values[key]?.raw else { return [] }
        return raw.split { $0 == "," || $0.isWhitespace || $0 == "\u{FEFF}" }
            .map(String.init)
    }

    func origin(_ key: String) -> String { values[key]?.origin ?? "default" }
}
