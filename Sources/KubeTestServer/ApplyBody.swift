// Full Foundation for the values Yams hands back (NSNull, Date): the stand-in is never linked into the product.
import Foundation
import Yams

/// Server-side apply bodies as kube-apiserver reads them: YAML, parsed by go-yaml v2 (sigs.k8s.io/yaml)
/// whatever the content type says, then typed against the object's schema.
///
/// JSON is accepted because it is nearly YAML, but not quite: go-yaml knows only YAML 1.1's escapes in
/// double-quoted scalars, so the `\/` that JSON encoders may write is "found unknown escape character".
/// The stand-in once accepted any JSON here, and a client that escaped `/` passed every test and failed on
/// every real cluster; these rules are checked against the real server by the facts suite.
enum ApplyBody {
    /// The escapes go-yaml v2 accepts after a backslash in a double-quoted scalar.
    static let yamlEscapes = Set("0abt\tnvfre \"'\\N_LPxuU".utf8)

    static func parse(_ bytes: [UInt8]) throws(APIStatus) -> JSONValue {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw APIStatus.badRequest("Incorrect version specified in apply patch. Specified patch version: , expected: v1")
        }
        if let problem = unknownEscape(bytes) { throw yamlError(problem) }
        let body: JSONValue
        if let json = try? JSONValue(parsing: bytes) {
            body = json
        } else {
            do {
                // Of several documents go-yaml reads the first; the rest are never looked at.
                let parser = try Parser(yaml: String(decoding: bytes, as: UTF8.self))
                guard let loaded = try parser.nextRoot()?.any, !(loaded is NSNull) else {
                    throw APIStatus.badRequest("Incorrect version specified in apply patch. Specified patch version: , expected: v1")
                }
                body = try JSONValue(yaml: loaded)
            } catch let status as APIStatus {
                throw status
            } catch let error as YamlError {
                throw yamlError(Self.describe(error))
            } catch {
                throw yamlError("\(error)")
            }
        }
        guard case .object = body else {
            throw APIStatus.badRequest("error decoding YAML: error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}")
        }
        return body
    }

    /// Kind and apiVersion, and (for Secrets) the top-level fields, as the apply machinery types them. The
    /// real server answers these with a bare 500, and so does the stand-in.
    static func checkType(_ body: JSONValue, _ kind: ResourceKind) throws(APIStatus) {
        let apiVersion = body["apiVersion"]?.stringValue ?? ""
        let bodyKind = body["kind"]?.stringValue ?? ""
        if apiVersion.isEmpty {
            throw APIStatus.badRequest("Incorrect version specified in apply patch. Specified patch version: , expected: \(kind.apiVersion)")
        }
        if bodyKind.isEmpty {
            throw APIStatus.internalError("failed to create typed patch object: no corresponding type for \(apiVersion.contains("/") ? apiVersion : "/" + apiVersion), Kind=")
        }
        guard bodyKind == kind.kind, apiVersion == kind.apiVersion else {
            throw APIStatus.internalError("failed to merge config: expected objects of the same type, but got \(bodyKind) and \(kind.kind)")
        }
        if kind.plural == "secrets", let fields = body.objectValue {
            let known: Set<String> = ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"]
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw APIStatus.internalError("failed to create typed patch object: .\(unknown): field not declared in schema")
            }
            // Where the schema has strings, YAML's unquoted `yes`, `1` or a list are not: a bare 500 naming
            // the field and the value as Go prints it.
            var strings: [(String, JSONValue)] = []
            if let type = fields["type"] { strings.append((".type", type)) }
            for map in ["data", "stringData"] {
                for (key, value) in fields[map]?.objectValue ?? [:] { strings.append((".\(map).\(key)", value)) }
            }
            for map in ["labels", "annotations"] {
                for (key, value) in fields["metadata"]?[map]?.objectValue ?? [:] { strings.append((".metadata.\(map).\(key)", value)) }
            }
            for (path, value) in strings.sorted(by: { $0.0 < $1.0 }) where value.stringValue == nil && value != .null {
                throw APIStatus.internalError(
                    "failed to create typed patch object: \(path): expected string, got &value.valueUnstructured{Value:\(goValue(value))}")
            }
        }
    }

    /// A decoded YAML value as Go's `%v` prints it inside a struct.
    static func goValue(_ value: JSONValue) -> String {
        switch value {
        case .bool(let bool): return String(bool)
        case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        case .string(let string): return "\"\(string)\""
        case .null: return "<nil>"
        case .array(let items): return "[]interface {}{" + items.map(goValue).joined(separator: ", ") + "}"
        case .object: return "map[string]interface {}{...}"
        }
    }

    static func yamlError(_ detail: String) -> APIStatus {
        APIStatus.badRequest("error decoding YAML: error converting YAML to JSON: yaml: \(detail)")
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return "line \(mark.line): \(problem)"
        default:
            return "\(error)"
        }
    }

    /// The first backslash escape in a double-quoted scalar that go-yaml rejects, if any. Single-quoted
    /// scalars (no escapes) and comments are skipped.
    static func unknownEscape(_ bytes: [UInt8]) -> String? {
        var index = 0
        var inDouble = false
        var inSingle = false
        var lineStartOrSpace = true
        // go-yaml names the line (1-based) of a scanner error, except on the first line.
        var line = 0
        func at(_ problem: String) -> String { line == 0 ? problem : "line \(line + 1): \(problem)" }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A { line += 1 }
            if inDouble {
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < bytes.count, yamlEscapes.contains(bytes[index + 1]) else {
                        return at("found unknown escape character")
                    }
                    // \\uXXXX and \\UXXXXXXXX: surrogates (and beyond U+10FFFF) are no characters to go-yaml,
                    // so JSON's surrogate pairs are refused.
                    let width = bytes[index + 1] == UInt8(ascii: "u") ? 4 : bytes[index + 1] == UInt8(ascii: "U") ? 8 : 0
                    if width > 0, index + 2 + width <= bytes.count,
                        let code = UInt32(String(decoding: bytes[(index + 2)..<(index + 2 + width)], as: UTF8.self), radix: 16),
                        (0xD800...0xDFFF).contains(code) || code > 0x10FFFF
                    {
                        return at("found invalid Unicode character escape code")
                    }
                    if bytes[index + 1] == 0x0A { line += 1 }
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inDouble = false }
            } else if inSingle {
                if byte == UInt8(ascii: "'") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") { index += 2; continue }
                    inSingle = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inDouble = true
            } else if byte == UInt8(ascii: "'"), lineStartOrSpace {
                inSingle = true
            } else if byte == UInt8(ascii: "#"), lineStartOrSpace {
                while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                continue
            }
            lineStartOrSpace = [0x20, 0x0A, 0x09, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":")].contains(byte)
            index += 1
        }
        return nil
    }
}

extension JSONValue {
    /// A value Yams loaded (YAML 1.1 types, as go-yaml resolves them), as JSON.
    init(yaml value: Any) throws(APIStatus) {
        switch value {
        case let string as String: self = .string(string)
        case let bool as Bool: self = .bool(bool)
        case let int as Int: self = .number(Double(int))
        case let double as Double: self = .number(double)
        case is NSNull: self = .null
        case let array as [Any]:
            var items: [JSONValue] = []
            for item in array { items.append(try JSONValue(yaml: item)) }
            self = .array(items)
        case let map as [AnyHashable: Any]:
            var fields: [String: JSONValue] = [:]
            for (key, item) in map {
                guard let key = key.base as? String else {
                    throw ApplyBody.yamlError("map keys must be strings (got \(key.base))")
                }
                fields[key] = try JSONValue(yaml: item)
            }
            self = .object(fields)
        default:
            if let date = value as? Date {
                self = .string("\(date)")
            } else {
                self = .string("\(value)")
            }
        }
    }
}
