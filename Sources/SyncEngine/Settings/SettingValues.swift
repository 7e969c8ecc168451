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
/// read them, with what a message needs to say where a missing value belongs.
public struct SettingValues: Sendable {
    /// By setting key (`NAMESPACES`, `SECRET_NAME`, ...).
    public var values: [String: SettingValue]
    /// Where the file of each setting would be read (`/config/NAMESPACES`), for "set it in ..." advice.
    public var filePaths: [String: String] = [:]
    /// Files that exist but could not be read: already reported, so "is missing" is not said of them.
    public var unreadable: Set<String> = []

    public init(_ values: [String: SettingValue] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> SettingValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public subscript(setting: Setting) -> SettingValue? {
        get { values[setting.key] }
        set { values[setting.key] = newValue }
    }

    /// The trimmed value, or nil when unset or blank.
    public func string(_ setting: Setting) -> String? {
        guard let value = values[setting.key]?.trimmed, !value.isEmpty else { return nil }
        return value
    }

    /// Items separated by whitespace or commas (the original used spaces; files often hold newlines).
    public func list(_ setting: Setting) -> [String] {
        guard let raw = values[setting.key]?.raw else { return [] }
        return raw.split { $0 == "," || $0.isWhitespace || $0 == "\u{FEFF}" }.map(String.init)
    }

    /// `file /config/NAMESPACES`, `environment NAMESPACES`, `flag --namespaces`, or `default`.
    public func origin(_ setting: Setting) -> String { values[setting.key]?.origin ?? "default" }

    /// Every place this setting can be given, for a message about a missing value:
    /// `/config/NAMESPACES, the NAMESPACES variable or --namespaces`.
    public func placesFor(_ setting: Setting) -> String {
        var places: [String] = []
        if let path = filePaths[setting.key] { places.append(path) }
        if setting.readsEnvironment { places.append("the \(setting.key) variable") }
        if let flag = setting.flag { places.append("--\(flag)") }
        guard places.count > 1 else { return places.first ?? setting.key }
        return places.dropLast().joined(separator: ", ") + " or " + places.last!
    }
}
