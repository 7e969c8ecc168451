@testable import KubeClient
import Yams

/// One canonical text for a YAML tree, from either reader, so differences print readably.
/// Scalars: `P"text"` (plain) or `Q"text"` (quoted); mappings keep their order.
enum YAMLCanonical {
    static func of(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let text, let quoted):
            return (quoted ? "Q" : "P") + String(reflecting: text)
        case .sequence(let items):
            return "[" + items.map(of).joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return "{" + pairs.map { String(reflecting: $0.key) + ": " + of($0.value) }.joined(separator: ", ") + "}"
        }
    }

    static func of(_ node: Yams.Node) -> String {
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            let marker = scalar.style == .literal || scalar.style == .folded ? "B" : (quoted ? "Q" : "P")
            return marker + String(reflecting: scalar.string)
        case .sequence(let sequence):
            return "[" + sequence.map(of).joined(separator: ", ") + "]"
        case .mapping(let mapping):
            return "{" + mapping.map { pair in
                let key: String
                if case .scalar(let scalar) = pair.key { key = String(reflecting: scalar.string) } else { key = "<complex key>" }
                return key + ": " + of(pair.value)
            }.joined(separator: ", ") + "}"
        case .alias:
            return "<alias>"
        }
    }
}
