/// A YAML document tree as the small reader produces it: scalars keep their text and whether they were
/// quoted (so `"true"` stays a string while plain `true` may be read as a boolean); mappings keep their order.
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String, quoted: Bool)
    case sequence([YAMLNode])
    case mapping([(key: String, value: YAMLNode)])

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case let (.scalar(a, qa), .scalar(b, qb)): a == b && qa == qb
        case let (.sequence(a), .sequence(b)): a == b
        case let (.mapping(a), .mapping(b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// Plain `""`, `~`, `null`, `Null`, `NULL`.
    public var isNull: Bool {
        guard case .scalar(let text, quoted: false) = self else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The text of a non-null scalar.
    public var string: String? {
        guard case .scalar(let text, _) = self, !isNull else { return nil }
        return text
    }

    /// YAML 1.1/1.2 booleans as kubeconfigs write them.
    public var bool: Bool? {
        guard case .scalar(let text, let quoted) = self else { return nil }
        if quoted { return nil }
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    public var items: [YAMLNode]? {
        if case .sequence(let items) = self { return items }
        return isNull ? [] : nil
    }
}

/// A YAML syntax error or an unsupported construct, with the position where it was found.
public struct YAMLError: Error, Sendable, CustomStringConvertible, Equatable {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "line \(line), column \(column): \(message)" }
}
