/// A Kubernetes label selector in its string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3,m<7`), parsed
/// once so namespace watch events can be matched locally with the same meaning the API server gives it
/// (k8s.io/apimachinery/pkg/labels/selector.go; SyncEngineTests checks the matches against a real server).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
        /// `key>N`: the label exists, is an integer, and is greater than N.
        case greaterThan(String, Int64)
        /// `key<N`: the label exists, is an integer, and is less than N.
        case lessThan(String, Int64)
    }

    public let requirements: [Requirement]
    /// The selector as the user wrote it, sent to the API server unchanged.
    public let description: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingASCIIWhitespace()
        var requirements: [Requirement] = []
        for clause in Self.splitClauses(trimmed) {
            let c = clause.trimmingASCIIWhitespace()
            if c.isEmpty { throw ParseError(description: "empty requirement in label selector \"\(printable(trimmed))\"") }
            requirements.append(try Self.parseClause(c, in: trimmed))
        }
        if requirements.isEmpty { throw ParseError(description: "label selector is empty") }
        self.requirements = requirements
        self.description = trimmed
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case let .equals(key, value): labels[key] == value
            case let .notEquals(key, value): labels[key] != value
            case let .in(key, values): labels[key].map(values.contains) ?? false
            case let .notIn(key, values): !(labels[key].map(values.contains) ?? false)
            case let .exists(key): labels[key] != nil
            case let .notExists(key): labels[key] == nil
            case let .greaterThan(key, bound): labels[key].flatMap { Int64($0) }.map { $0 > bound } ?? false
            case let .lessThan(key, bound): labels[key].flatMap { Int64($0) }.map { $0 < bound } ?? false
            }
        }
    }

    // Commas separate requirements except inside the parentheses of `in (...)`.
    private static func splitClauses(_ text: String) -> [Substring] {
        var clauses: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for index in text.indices {
            switch text[index] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                clauses.append(text[start..<index])
                start = text.index(after: index)
            default: break
            }
        }
        if start < text.endIndex || !clauses.isEmpty { clauses.append(text[start...]) }
        return clauses
    }

    private static func parseClause(_ clause: String, in whole: String) throws(ParseError) -> Requirement {
        func bad() -> ParseError {
            // printable: a selector file with a line break must still give a one-line message.
            ParseError(description: "cannot parse \"\(printable(clause))\" in label selector \"\(printable(whole))\": use key=value, key!=value, key in (a,b), key notin (a,b), key, !key, key>N or key<N")
        }
        if clause.hasPrefix("!") {
            let key = String(clause.dropFirst()).trimmingASCIIWhitespace()
            guard isValidKey(key) else { throw bad() }
            return .notExists(key)
        }
        if let range = clause.firstRange(of: "!=") {
            let key = String(clause[..<range.lowerBound]).trimmingASCIIWhitespace()
            let value = String(clause[range.upperBound...]).trimmingASCIIWhitespace()
            guard isValidKey(key), isValidValue(value) else { throw bad() }
            return .notEquals(key, value)
        }
        if let range = clause.firstRange(of: "==") ?? clause.firstRange(of: "=") {
            let key = String(clause[..<range.lowerBound]).trimmingASCIIWhitespace()
            let value = String(clause[range.upperBound...]).trimmingASCIIWhitespace()
            guard isValidKey(key), isValidValue(value) else { throw bad() }
            return .equals(key, value)
        }
        for (symbol, greater) in [(">", true), ("<", false)] {
            if let range = clause.firstRange(of: symbol) {
                let key = String(clause[..<range.lowerBound]).trimmingASCIIWhitespace()
                let value = String(clause[range.upperBound...]).trimmingASCIIWhitespace()
                // The API server: "for 'Gt', 'Lt' operators, the value must be an integer".
                guard isValidKey(key), let bound = Int64(value) else { throw bad() }
                return greater ? .greaterThan(key, bound) : .lessThan(key, bound)
            }
        }
        for (word, negated) in [(" notin ", true), (" in ", false)] {
            if let range = clause.firstRange(of: word) {
                let key = String(clause[..<range.lowerBound]).trimmingASCIIWhitespace()
                var list = String(clause[range.upperBound...]).trimmingASCIIWhitespace()
                guard isValidKey(key), list.hasPrefix("("), list.hasSuffix(")") else { throw bad() }
                list = String(list.dropFirst().dropLast())
                let values = Set(list.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingASCIIWhitespace() })
                guard !values.isEmpty, values.allSatisfy({ !$0.isEmpty && isValidValue($0) }) else { throw bad() }
                return negated ? .notIn(key, values) : .in(key, values)
            }
        }
        guard isValidKey(clause) else { throw bad() }
        return .exists(clause)
    }

    private static func isValidKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 317 else { return false }
        return key.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "/")
        }
    }

    private static func isValidValue(_ value: String) -> Bool {
        value.utf8.count <= 63 && value.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
        }
    }
}
