/// A parsed `labelSelector`: requirements joined by commas, all of which must hold.
struct LabelSelector: Sendable, Hashable {
    enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int)
        case lessThan(String, Int)
    }

    var requirements: [Requirement]

    static let everything = LabelSelector(requirements: [])

    init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    init(parsing text: String) throws(APIStatus) {
        var requirements: [Requirement] = []
        for part in Self.splitTopLevel(text) {
            let term = part.trimmingSpaces
            if term.isEmpty { continue }
            requirements.append(try Self.parseRequirement(term))
        }
        self.requirements = requirements
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            case .greaterThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 > bound } ?? false
            case .lessThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 < bound } ?? false
            }
        }
    }

    /// Splits on commas outside parentheses (`a in (x,y),b` has two requirements).
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1; current.append(character)
            case ")": depth -= 1; current.append(character)
            case "," where depth == 0: parts.append(current); current = ""
            default: current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    private static func parseRequirement(_ term: String) throws(APIStatus) -> Requirement {
        let invalid = APIStatus.badRequest("unable to parse requirement: \(term)")
        if term.hasPrefix("!") {
            let key = String(term.dropFirst()).trimmingSpaces
            guard isValidKey(key) else { throw invalid }
            return .doesNotExist(key)
        }
        for (word, isIn) in [(" notin ", false), (" in ", true)] {
            if let range = term.firstRange(of: word) {
                let key = String(term[..<range.lowerBound]).trimmingSpaces
                var list = String(term[range.upperBound...]).trimmingSpaces
                guard isValidKey(key), list.hasPrefix("("), list.hasSuffix(")") else { throw invalid }
                list = String(list.dropFirst().dropLast())
                let values = Set(list.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces })
                return isIn ? .isIn(key, values) : .notIn(key, values)
            }
        }
        for (op, make) in [
            ("!=", { (k: String, v: String) in Requirement.notEquals(k, v) }),
            ("==", { (k: String, v: String) in Requirement.equals(k, v) }),
            ("=", { (k: String, v: String) in Requirement.equals(k, v) }),
        ] {
            if let range = term.firstRange(of: op) {
                let key = String(term[..<range.lowerBound]).trimmingSpaces
                let value = String(term[range.upperBound...]).trimmingSpaces
                guard isValidKey(key), isValidValue(value) else { throw invalid }
                return make(key, value)
            }
        }
        for (op, greater) in [(">", true), ("<", false)] {
            if let range = term.firstRange(of: op) {
                let key = String(term[..<range.lowerBound]).trimmingSpaces
                guard isValidKey(key), let bound = Int(String(term[range.upperBound...]).trimmingSpaces) else { throw invalid }
                return greater ? .greaterThan(key, bound) : .lessThan(key, bound)
            }
        }
        guard isValidKey(term) else { throw invalid }
        return .exists(term)
    }

    private static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 317 && key.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    }

    private static func isValidValue(_ value: String) -> Bool {
        value.count <= 63 && value.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }
}

/// A parsed `fieldSelector`: `path=value`, `path==value`, `path!=value` joined by commas, where path is a dotted
/// path into the object (`metadata.name`, `metadata.namespace`, `type`, `involvedObject.name`).
struct FieldSelector: Sendable, Hashable {
    struct Requirement: Sendable, Hashable {
        var path: [String]
        var value: String
        var negated: Bool
    }

    var requirements: [Requirement]

    static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    init(parsing text: String) throws(APIStatus) {
        var requirements: [Requirement] = []
        for part in text.split(separator: ",") {
            let term = String(part).trimmingSpaces
            if term.isEmpty { continue }
            let negated: Bool
            let range: Range<String.Index>
            if let found = term.firstRange(of: "!=") {
                negated = true
                range = found
            } else if let found = term.firstRange(of: "==") {
                negated = false
                range = found
            } else if let found = term.firstRange(of: "=") {
                negated = false
                range = found
            } else {
                throw APIStatus.badRequest("invalid field selector: '\(term)'")
            }
            let path = String(term[..<range.lowerBound]).trimmingSpaces
            let value = String(term[range.upperBound...]).trimmingSpaces
            guard !path.isEmpty else { throw APIStatus.badRequest("invalid field selector: '\(term)'") }
            requirements.append(Requirement(path: path.split(separator: ".").map(String.init), value: value, negated: negated))
        }
        self.requirements = requirements
    }

    /// The object name this selector pins down (`metadata.name=x`): RBAC uses it as the name of a list or watch.
    var pinnedName: String? { pinned("name") }
    var pinnedNamespace: String? { pinned("namespace") }

    private func pinned(_ field: String) -> String? {
        requirements.first { $0.path == ["metadata", field] && !$0.negated }?.value
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            var current: JSONValue? = object
            for key in requirement.path { current = current?[key] }
            let actual: String =
                switch current {
                case .string(let text): text
                case .bool(let flag): flag ? "true" : "false"
                case .number(let number): JSONValue.number(number).jsonString
                default: ""
                }
            return (actual == requirement.value) != requirement.negated
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " { view = view.dropFirst() }
        while let last = view.last, last == " " { view = view.dropLast() }
        return String(view)
    }
}
