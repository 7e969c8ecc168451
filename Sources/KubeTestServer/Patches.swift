#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON merge patch (RFC 7386): objects merge recursively, `null` deletes, everything else replaces.
enum MergePatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

/// JSON patch (RFC 6902): add, remove, replace, test, copy and move on JSON pointers.
enum JSONPatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) throws(APIStatus) -> JSONValue {
        guard let operations = patch.arrayValue else {
            // Go's encoding/json, decoding into jsonpatch.Patch (a slice).
            let type = switch patch {
                case .object: "object"
                case .string: "string"
                case .number: "number"
                case .bool: "bool"
                default: "array"
            }
            throw APIStatus.badRequest("json: cannot unmarshal \(type) into Go value of type jsonpatch.Patch")
        }
        var document = target
        for operation in operations {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw APIStatus.badRequest("json patch operation needs op and path")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add", "replace":
                guard let value = operation["value"] else { throw APIStatus.badRequest("json patch \(op) needs a value") }
                if op == "replace", get(pointer, in: document) == nil {
                    throw APIStatus(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: \(path)")
                }
                try set(value, at: pointer, in: &document, insert: op == "add")
            case "remove":
                guard get(pointer, in: document) != nil else {
                    throw APIStatus(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: \(path)")
                }
                try remove(pointer, in: &document)
            case "test":
                guard get(pointer, in: document) == operation["value"] else {
                    throw APIStatus(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed")
                }
            case "copy", "move":
                guard let from = operation["from"]?.stringValue, let value = get(try parsePointer(from), in: document) else {
                    throw APIStatus.badRequest("json patch \(op) needs an existing from")
                }
                if op == "move" { try remove(try parsePointer(from), in: &document) }
                try set(value, at: pointer, in: &document, insert: true)
            default:
                throw APIStatus.badRequest("unknown json patch operation \(op)")
            }
        }
        return document
    }

    private static func parsePointer(_ path: String) throws(APIStatus) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw APIStatus.badRequest("invalid json pointer \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    private static func get(_ pointer: [String], in document: JSONValue) -> JSONValue? {
        var current: JSONValue? = document
        for token in pointer {
            switch current {
            case .object(let members): current = members[token]
            case .array(let elements): current = Int(token).flatMap { elements.indices.contains($0) ? elements[$0] : nil }
            default: return nil
            }
        }
        return current
    }

    private static func set(_ value: JSONValue, at pointer: [String], in document: inout JSONValue, insert: Bool) throws(APIStatus) {
        guard let token = pointer.first else {
            document = value
            return
        }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard var child = members[token] else { throw APIStatus.badRequest("json patch path not found") }
                try set(value, at: rest, in: &child, insert: insert)
                members[token] = child
            }
            document = .object(members)
        case .array(var elements):
            let index = token == "-" ? elements.count : Int(token) ?? -1
            if rest.isEmpty {
                if insert, index >= 0, index <= elements.count {
                    elements.insert(value, at: index)
                } else if elements.indices.contains(index) {
                    elements[index] = value
                } else {
                    throw APIStatus.badRequest("json patch index out of range")
                }
            } else {
                guard elements.indices.contains(index) else { throw APIStatus.badRequest("json patch index out of range") }
                try set(value, at: rest, in: &elements[index], insert: insert)
            }
            document = .array(elements)
        default:
            throw APIStatus.badRequest("json patch path not found")
        }
    }

    private static func remove(_ pointer: [String], in document: inout JSONValue) throws(APIStatus) {
        guard let token = pointer.first else { return }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = nil
            } else if var child = members[token] {
                try remove(rest, in: &child)
                members[token] = child
            }
            document = .object(members)
        case .array(var elements):
            guard let index = Int(token), elements.indices.contains(index) else { throw APIStatus.badRequest("json patch index out of range") }
            if rest.isEmpty { elements.remove(at: index) } else { try remove(rest, in: &elements[index]) }
            document = .array(elements)
        default:
            throw APIStatus.badRequest("json patch path not found")
        }
    }
}
