/// One problem in the settings: the line a user reads, and the setting it is about (for decisions, which
/// never look into the text).
public struct SettingProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A value was given and is wrong.
        case invalid
        /// A required value is missing.
        case missing
        /// A settings file could not be read.
        case unreadable
    }

    public var setting: Setting?
    public var kind: Kind
    /// One line naming the setting, where it came from and what is expected; never a secret value.
    public var line: String

    public init(_ setting: Setting?, _ kind: Kind, _ line: String) {
        self.setting = setting
        self.kind = kind
        self.line = line
    }

    public var description: String { line }
}

/// Every problem found in one cycle's settings, one line each, so a user fixes them all at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var issues: [SettingProblem]
    /// The lines, in order.
    public var problems: [String] { issues.map(\.line) }
    public var description: String { problems.joined(separator: "\n") }

    public init(_ issues: [SettingProblem]) { self.issues = issues }
    public init(problems: [String]) { self.issues = problems.map { SettingProblem(nil, .invalid, $0) } }
}

/// Reads settings for the parsers of each concern and collects every problem on the way.
public struct SettingsReader: Sendable {
    public let values: SettingValues
    public private(set) var problems: [SettingProblem] = []
    /// Problems that do not stop the cycle (duplicates, ignored values), logged once per change.
    public private(set) var warnings: [String] = []

    public init(_ values: SettingValues) { self.values = values }

    public func string(_ setting: Setting) -> String? { values.string(setting) }
    public func list(_ setting: Setting) -> [String] { values.list(setting) }
    public func origin(_ setting: Setting) -> String { values.origin(setting) }

    /// `KEY (origin): message`.
    public mutating func invalid(_ setting: Setting, _ message: String) {
        problems.append(SettingProblem(setting, .invalid, "\(setting.key) (\(origin(setting))): \(message)"))
    }

    /// A required value is missing; not said when its file exists but could not be read (already reported).
    public mutating func missing(_ setting: Setting, _ line: String) {
        guard !values.unreadable.contains(setting.key) else { return }
        problems.append(SettingProblem(setting, .missing, line))
    }

    /// A problem of a combination of settings.
    public mutating func problem(_ setting: Setting?, _ line: String) {
        problems.append(SettingProblem(setting, .invalid, line))
    }

    public mutating func warn(_ line: String) { warnings.append(line) }

    /// Whether a problem about this setting was reported already.
    public func hasProblem(_ setting: Setting) -> Bool {
        problems.contains { $0.setting == setting } || values.unreadable.contains(setting.key)
    }

    /// `true`/`false` (also 1/0, yes/no, on/off); `fallback` when unset.
    public mutating func bool(_ setting: Setting, fallback: Bool = false) -> Bool {
        guard let text = string(setting)?.lowercased() else { return fallback }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            invalid(setting, "\"\(printable(text))\" is not true or false")
            return fallback
        }
    }

    /// A Go-style duration (`11h30m`, `45m`, `90s`) or seconds, at least `minimum`.
    public mutating func duration(_ setting: Setting, fallback: Duration, minimum: Duration) -> Duration {
        guard let text = string(setting) else { return fallback }
        if let parsed = DurationParsing.parse(text), parsed >= minimum { return parsed }
        invalid(setting, "\"\(printable(text))\" is not a duration of at least \(minimum.humanReadable) (e.g. 11h30m, 45m, 3600)")
        return fallback
    }

    /// A whole number in `range`.
    public mutating func integer(_ setting: Setting, fallback: Int, in range: ClosedRange<Int>, meaning: String = "a number", note: String? = nil) -> Int {
        guard let text = string(setting) else { return fallback }
        if let n = Int(text), range.contains(n) { return n }
        invalid(setting, "\"\(printable(text))\" is not \(meaning) from \(range.lowerBound) to \(range.upperBound)\(note.map { " (\($0))" } ?? "")")
        return fallback
    }

    /// Throws every problem, if any.
    public func check() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems) }
    }
}

/// Shows a user's value in an error without dumping control characters or a whole file into the log.
func printable(_ text: String) -> String { Printable.escape(text) }
