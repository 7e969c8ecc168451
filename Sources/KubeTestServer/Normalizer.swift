#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Per-kind defaulting and validation the real server does on every write.
enum Normalizer {
    /// `strict: false` (the test-arrangement path) skips the validations of an object's content.
    static func normalize(
        _ object: JSONValue, kind: ResourceKind, name: String, namespace: String, existing: JSONValue?,
        strict: Bool = true
    ) throws(APIStatus) -> JSONValue {
        var object = object
        if strict { try Labels.validate(object, kind: kind, name: name) }
        switch kind.plural {
        case "secrets":
            if strict { try validateName(name, kind: kind) }
            try normalizeSecret(&object, kind: kind, name: name, existing: existing)
            if strict {
                try validateDataKeys(object, kind: kind, name: name)
                try validateSecretType(object, kind: kind, name: name)
            }
        case "namespaces": normalizeNamespace(&object, name: name)
        case "events" where strict: try validateEvent(object, kind: kind, name: name, namespace: namespace)
        default: break
        }
        return object
    }

    /// Object names are DNS-1123 subdomains (253 characters at most).
    private static func validateName(_ name: String, kind: ResourceKind) throws(APIStatus) {
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let valid = !bytes.isEmpty && bytes.count <= 253 && labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return alphanumeric(first) && alphanumeric(last) && label.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
        if !valid {
            throw APIStatus.invalid(
                kind, name: name, field: "metadata.name", value: name,
                detail: #"a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#)
        }
    }

    /// Secret (and ConfigMap) keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
    private static func validateDataKeys(_ object: JSONValue, kind: ResourceKind, name: String) throws(APIStatus) {
        for key in (object["data"]?.objectValue ?? [:]).keys.sorted() {
            let valid = !key.isEmpty && key.utf8.count <= 253 && key.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: ".")
            }
            if !valid {
                throw APIStatus.invalid(
                    kind, name: name, field: "data[\(key)]", value: key,
                    detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
            }
        }
    }

    /// Typed secrets must carry their keys (with valid content), as the real validation (v1.19
    /// `ValidateSecret`) demands, paths included: basic-auth and ssh-auth really name `data[%s][key]`.
    private static func validateSecretType(_ object: JSONValue, kind: ResourceKind, name: String) throws(APIStatus) {
        let data = object["data"]?.objectValue ?? [:]
        var errors: [APIStatus.FieldError] = []
        switch object["type"]?.stringValue {
        case "kubernetes.io/service-account-token":
            if (object["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("metadata.annotations[kubernetes.io/service-account.name]"))
            }
        case "kubernetes.io/basic-auth":
            if data["username"] == nil && data["password"] == nil {
                errors += [.required("data[%s][username]"), .required("data[%s][password]")]
            }
        case "kubernetes.io/ssh-auth":
            if (data["ssh-privatekey"]?.stringValue ?? "").isEmpty { errors.append(.required("data[%s][ssh-privatekey]")) }
        case "kubernetes.io/tls":
            for key in ["tls.crt", "tls.key"] where data[key] == nil { errors.append(.required("data[\(key)]")) }
        default: break
        }
        if !errors.isEmpty { throw APIStatus.invalid(kind, name: name, errors: errors) }

        let keys: [String: String] = [
            "kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg",
        ]
        guard let type = object["type"]?.stringValue, let key = keys[type] else { return }
        guard let encoded = object["data"]?[key]?.stringValue else {
            throw APIStatus.required(kind, name: name, field: "data[\(key)]")
        }
        let decoded = Data(base64Encoded: encoded).map { Array($0) } ?? []
        if (try? JSONValue(parsing: decoded)) == nil {
            throw APIStatus.invalid(
                kind, name: name, field: "data[\(key)]", value: "<secret contents redacted>",
                detail: "invalid character in the JSON document")
        }
    }

    /// core/v1 events must live in their involved object's namespace (or `default` for cluster-scoped ones).
    private static func validateEvent(_ object: JSONValue, kind: ResourceKind, name: String, namespace: String) throws(APIStatus) {
        let involved = object["involvedObject"]?["namespace"]?.stringValue ?? ""
        let matches = involved.isEmpty ? (namespace.isEmpty || namespace == "default") : involved == namespace
        if !matches {
            throw APIStatus.invalid(
                kind, name: name, field: "involvedObject.namespace", value: involved, detail: "does not match event.namespace")
        }
    }

    private static func normalizeSecret(
        _ object: inout JSONValue, kind: ResourceKind, name: String, existing: JSONValue?
    ) throws(APIStatus) {
        var data = object["data"]?.objectValue ?? [:]
        if let given = object["data"], given != .null, given.objectValue == nil {
            throw APIStatus.badRequest("Secret in version \"v1\" cannot be handled as a Secret: data must be an object")
        }
        for (key, value) in data {
            guard let text = value.stringValue else {
                if value == .null { data[key] = nil; continue }
                throw APIStatus.badRequest("Secret in version \"v1\" cannot be handled as a Secret: data[\(key)] must be a string")
            }
            if Data(base64Encoded: text) == nil {
                throw APIStatus.badRequest(
                    "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte \(illegalBase64Offset(text))")
            }
        }
        // stringData is write-only: merged into data, never stored.
        for (key, value) in object["stringData"]?.objectValue ?? [:] {
            if let text = value.stringValue { data[key] = .string(Data(text.utf8).base64EncodedString()) }
        }
        object["stringData"] = nil
        object["data"] = data.isEmpty ? nil : .object(data)
        if object["type"]?.stringValue?.isEmpty ?? true { object["type"] = "Opaque" }
        if let existing, let before = existing["type"]?.stringValue, let after = object["type"]?.stringValue, before != after {
            throw APIStatus.invalid(kind, name: name, field: "type", value: after, detail: "field is immutable")
        }
        if let existing, existing["immutable"] == .bool(true) {
            let detail = "field is immutable when `immutable` is set"
            var errors: [APIStatus.FieldError] = []
            if object["immutable"] != .bool(true) { errors.append(.forbidden("immutable", detail)) }
            if existing["data"] != object["data"] { errors.append(.forbidden("data", detail)) }
            if !errors.isEmpty { throw APIStatus.invalid(kind, name: name, errors: errors) }
        }
    }

    private static func illegalBase64Offset(_ text: String) -> Int {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        for (offset, byte) in text.utf8.enumerated() where !allowed.contains(byte) { return offset }
        return max(0, text.utf8.count - 1)
    }

    private static func normalizeNamespace(_ object: inout JSONValue, name: String) {
        // Real clusters (1.21+) label every namespace with its own name.
        object["metadata"]?["labels"]?["kubernetes.io/metadata.name"] = .string(name)
        if object["metadata"]?["labels"] == nil { object["metadata"]?["labels"] = ["kubernetes.io/metadata.name": .string(name)] }
        if object["spec"]?["finalizers"] == nil { object["spec"] = ["finalizers": ["kubernetes"]] }
        object["status"] = ["phase": "Active"]
    }
}
