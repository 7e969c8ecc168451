/// A secret value (AWS secret key, session token) that prints as `<redacted>` everywhere: in logs,
/// errors, `dump`, string interpolation. Use `.value` only at the point of use.
public struct Sensitive: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
