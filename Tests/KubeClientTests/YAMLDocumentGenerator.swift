import TestSupport
@testable import KubeClient

/// Generates small YAML documents in the subset the reader supports, together with the tree they mean.
struct YAMLDocumentGenerator {
    var random: SplitMix64
    let step: Int

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        step = [2, 2, 4, 3].randomElement(using: &random)!
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    // MARK: Trees

    mutating func tree(depth: Int = 0) -> YAMLNode {
        if depth >= 3 || (depth > 0 && chance(35)) { return scalar() }
        if chance(55) {
            var keys: Set<String> = []
            var pairs: [(key: String, value: YAMLNode)] = []
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let key = self.key()
                guard keys.insert(key).inserted else { continue }
                pairs.append((key, chance(8) ? .mapping([]) : tree(depth: depth + 1)))
            }
            return .mapping(pairs)
        }
        return .sequence((0..<Int.random(in: 1...3, using: &random)).map { _ in chance(8) ? .sequence([]) : tree(depth: depth + 1) })
    }

    private mutating func key() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let tail = Array("abcdefghijklmnopqrstuvwxyz0123456789-_")
        var key = String(letters.randomElement(using: &random)!)
        for _ in 0..<Int.random(in: 0...8, using: &random) { key.append(tail.randomElement(using: &random)!) }
        return key
    }

    mutating func scalar() -> YAMLNode {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return .scalar("", quoted: false)
        case 1...5: return .scalar(plainText(), quoted: false)
        default: return .scalar(quotedText(), quoted: true)
        }
    }

    private mutating func plainText() -> String {
        let first = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let rest = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_:-=@+")
        var words: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            var word = String(first.randomElement(using: &random)!)
            for _ in 0..<Int.random(in: 0...10, using: &random) { word.append(rest.randomElement(using: &random)!) }
            while word.hasSuffix(":") { word.removeLast() }
            words.append(word)
        }
        return words.joined(separator: " ")
    }

    private mutating func quotedText() -> String {
        let alphabet = Array("abc XYZ 019 :#,[]{}'\"\\-?!&*|>%@`é✓\t")
        return String((0..<Int.random(in: 0...14, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }

    // MARK: Text

    /// Renders `tree` in block style with random comments, blank lines, flow leaves and quoting styles.
    mutating func render(_ tree: YAMLNode) -> String {
        var lines: [String] = []
        if chance(20) { lines.append("# generated document") }
        if chance(15) { lines.append("---") }
        if case .scalar = tree {
            lines.append(scalarText(tree, flow: false))
        } else {
            lines += block(tree, indent: 0)
        }
        if chance(10) { lines.append("...") }
        return lines.joined(separator: "\n") + (chance(80) ? "\n" : "")
    }

    /// The same tree as JSON (pretty or compact, the way `kubectl -o json` or an editor writes it): every
    /// string quoted, empty plain scalars as `null`. Returns the tree the text means.
    mutating func renderJSON(_ tree: YAMLNode) -> (text: String, tree: YAMLNode) {
        let pretty = chance(70)
        func convert(_ node: YAMLNode) -> YAMLNode {
            switch node {
            case .scalar(let text, let quoted): !quoted && text.isEmpty ? .scalar("null", quoted: false) : .scalar(text, quoted: true)
            case .sequence(let items): .sequence(items.map(convert))
            case .mapping(let pairs): .mapping(pairs.map { ($0.key, convert($0.value)) })
            }
        }
        func quote(_ text: String) -> String {
            var out = "\""
            for character in text {
                switch character {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\t": out += "\\t"
                default: out.append(character)
                }
            }
            return out + "\""
        }
        func json(_ node: YAMLNode, indent: Int) -> String {
            let pad = pretty ? "\n" + String(repeating: " ", count: indent + 4) : ""
            let close = pretty ? "\n" + String(repeating: " ", count: indent) : ""
            switch node {
            case .scalar(let text, let quoted): return quoted ? quote(text) : text
            case .sequence(let items):
                if items.isEmpty { return "[]" }
                return "[" + items.map { pad + json($0, indent: indent + 4) }.joined(separator: ",") + close + "]"
            case .mapping(let pairs):
                if pairs.isEmpty { return "{}" }
                return "{" + pairs.map { pad + quote($0.key) + ": " + json($0.value, indent: indent + 4) }.joined(separator: ",") + close + "}"
            }
        }
        let converted = convert(tree)
        return (json(converted, indent: 0) + "\n", converted)
    }

    private mutating func decorate(_ line: String) -> [String] {
        var result: [String] = []
        if chance(8) { result.append("") }
        if chance(8) { result.append(String(repeating: " ", count: Int.random(in: 0...6, using: &random)) + "# a comment: with [stuff]") }
        result.append(line)
        return result
    }

    private mutating func trailingComment() -> String { chance(12) ? "  # trailing comment" : "" }

    private func isEmptyCollection(_ node: YAMLNode) -> Bool {
        switch node {
        case .mapping(let pairs): pairs.isEmpty
        case .sequence(let items): items.isEmpty
        case .scalar: false
        }
    }

    /// Collections of scalars that read back the same in flow style: no empty plain scalars (they would
    /// need quotes) and no plain `:` (older YAML readers refuse it inside flow collections).
    private func isFlat(_ node: YAMLNode) -> Bool {
        func flowSafe(_ node: YAMLNode) -> Bool {
            guard case .scalar(let text, let quoted) = node else { return false }
            return quoted || (!text.isEmpty && !text.contains(":"))
        }
        switch node {
        case .mapping(let pairs): return pairs.allSatisfy { flowSafe($0.value) }
        case .sequence(let items): return items.allSatisfy(flowSafe)
        case .scalar: return true
        }
    }

    private mutating func block(_ node: YAMLNode, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        switch node {
        case .scalar:
            lines += decorate(pad + scalarText(node, flow: false) + trailingComment())
        case .mapping(let pairs):
            for (key, value) in pairs {
                let head = pad + keyText(key) + ":"
                switch value {
                case .scalar(let text, let quoted) where text.isEmpty && !quoted:
                    lines += decorate(head + trailingComment())
                case .scalar:
                    lines += decorate(head + " " + scalarText(value, flow: false) + trailingComment())
                case _ where isEmptyCollection(value) || (isFlat(value) && chance(25)):
                    lines += decorate(head + " " + flow(value) + trailingComment())
                case .sequence where chance(50):
                    lines += decorate(head + trailingComment())
                    lines += block(value, indent: indent)
                default:
                    lines += decorate(head + trailingComment())
                    lines += block(value, indent: indent + step)
                }
            }
        case .sequence(let items):
            for item in items {
                switch item {
                case .scalar(let text, let quoted) where text.isEmpty && !quoted:
                    lines += decorate(pad + "-" + trailingComment())
                case .scalar:
                    lines += decorate(pad + "- " + scalarText(item, flow: false) + trailingComment())
                case _ where isEmptyCollection(item) || (isFlat(item) && chance(25)):
                    lines += decorate(pad + "- " + flow(item) + trailingComment())
                default:
                    // Render the item two columns deeper, then put "- " in front of its first line.
                    var inner = block(item, indent: indent + 2)
                    let first = inner.firstIndex { !$0.trimmingPrefixSpaces.isEmpty && !$0.trimmingPrefixSpaces.hasPrefix("#") }!
                    inner[first] = pad + "- " + inner[first].dropFirst(indent + 2)
                    lines += inner
                }
            }
        }
        return lines
    }

    private mutating func keyText(_ key: String) -> String {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: "\"\(key)\""
        case 1: "'\(key)'"
        default: key
        }
    }

    private mutating func flow(_ node: YAMLNode) -> String {
        switch node {
        case .scalar: return scalarText(node, flow: true)
        case .sequence(let items): return "[" + items.map { flow($0) }.joined(separator: ", ") + "]"
        case .mapping(let pairs): return "{" + pairs.map { keyText($0.key) + ": " + flow($0.value) }.joined(separator: ", ") + "}"
        }
    }

    private mutating func scalarText(_ node: YAMLNode, flow: Bool) -> String {
        guard case .scalar(let text, let quoted) = node else { return "" }
        if !quoted { return text.isEmpty && flow ? "\"\"" : text }
        if chance(40) && !text.contains("\t") && !text.contains("\\") {
            return "'" + text.replacingAll("'", with: "''") + "'"
        }
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += chance(50) ? "\\t" : "\t"
            case "é": out += chance(50) ? "\\u00e9" : "é"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}

extension String {
    var trimmingPrefixSpaces: Substring { drop { $0 == " " } }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
