/// An API error as the real server reports it: an HTTP code and a `Status` object, with the reason and
/// message formats of kube-apiserver.
struct APIStatus: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    var details: JSONValue?
    var retryAfterSeconds: Int?

    var json: JSONValue {
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "code": .number(Double(code)),
        ]
        // Internal errors (500) of the real server carry no reason at all.
        if !reason.isEmpty { status["reason"] = .string(reason) }
        if let details { status["details"] = details }
        return status
    }

    static func details(_ kind: ResourceKind, name: String?, causes: [JSONValue]? = nil) -> JSONValue {
        var details: JSONValue = ["kind": .string(kind.plural)]
        if let name { details["name"] = .string(name) }
        if !kind.group.isEmpty { details["group"] = .string(kind.group) }
        if let causes { details["causes"] = .array(causes) }
        return details
    }

    static let unauthorized = APIStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func notFound(_ kind: ResourceKind, name: String) -> APIStatus {
        APIStatus(
            code: 404, reason: "NotFound", message: "\(kind.qualifiedName) \"\(name)\" not found",
            details: details(kind, name: name))
    }

    static func pathNotFound() -> APIStatus {
        APIStatus(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func alreadyExists(_ kind: ResourceKind, name: String) -> APIStatus {
        APIStatus(
            code: 409, reason: "AlreadyExists", message: "\(kind.qualifiedName) \"\(name)\" already exists",
            details: details(kind, name: name))
    }

    static func conflict(_ kind: ResourceKind, name: String) -> APIStatus {
        APIStatus(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(kind.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: details(kind, name: name))
    }

    /// A 500 without a reason, as the real server answers what its apply machinery cannot handle.
    static func internalError(_ message: String) -> APIStatus {
        APIStatus(code: 500, reason: "", message: message)
    }

    static func badRequest(_ message: String) -> APIStatus {
        APIStatus(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ method: String) -> APIStatus {
        APIStatus(
            code: 405, reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource",
            details: nil)
    }

    static func unsupportedMediaType(_ contentType: String) -> APIStatus {
        APIStatus(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
    }

    /// `Secret "x" is invalid: type: Invalid value: "...": field is immutable`.
    static func invalid(_ kind: ResourceKind, name: String, field: String, value: String, detail: String) -> APIStatus {
        let causeMessage = "Invalid value: \"\(value)\": \(detail)"
        return APIStatus(
            code: 422, reason: "Invalid", message: "\(kind.kind) \"\(name)\" is invalid: \(field): \(causeMessage)",
            details: [
                "name": .string(name), "kind": .string(kind.kind),
                "causes": [["reason": "FieldValueInvalid", "message": .string(causeMessage), "field": .string(field)]],
            ])
    }

    /// One failed check of a field, as the real validation reports it.
    struct FieldError: Sendable {
        var field: String
        /// `FieldValueRequired`, `FieldValueForbidden`, `FieldValueInvalid`.
        var reason: String
        /// `Required value`, `Forbidden: ...`, `Invalid value: "v": ...`.
        var message: String

        static func required(_ field: String) -> FieldError {
            FieldError(field: field, reason: "FieldValueRequired", message: "Required value")
        }

        static func forbidden(_ field: String, _ detail: String) -> FieldError {
            FieldError(field: field, reason: "FieldValueForbidden", message: "Forbidden: \(detail)")
        }
    }

    /// Every error of one write at once: `Secret "x" is invalid: a: Required value`, or with several
    /// `Secret "x" is invalid: [a: Required value, b: Required value]`, as the real server joins them.
    static func invalid(_ kind: ResourceKind, name: String, errors: [FieldError]) -> APIStatus {
        let parts = errors.map { "\($0.field): \($0.message)" }
        let summary = parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
        return APIStatus(
            code: 422, reason: "Invalid", message: "\(kind.kind) \"\(name)\" is invalid: \(summary)",
            details: [
                "name": .string(name), "kind": .string(kind.kind),
                "causes": .array(errors.map {
                    ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
                }),
            ])
    }

    /// Invalid request options: `PatchOptions.meta.k8s.io "" is invalid: fieldManager: ...`.
    static func invalid(optionsKind: String, errors: [FieldError]) -> APIStatus {
        let parts = errors.map { "\($0.field): \($0.message)" }
        let summary = parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
        return APIStatus(
            code: 422, reason: "Invalid", message: "\(optionsKind).meta.k8s.io \"\" is invalid: \(summary)",
            details: [
                "group": "meta.k8s.io", "kind": .string(optionsKind),
                "causes": .array(errors.map {
                    ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
                }),
            ])
    }

    /// `Secret "x" is invalid: data[.dockerconfigjson]: Required value`.
    static func required(_ kind: ResourceKind, name: String, field: String) -> APIStatus {
        APIStatus(
            code: 422, reason: "Invalid", message: "\(kind.kind) \"\(name)\" is invalid: \(field): Required value",
            details: [
                "name": .string(name), "kind": .string(kind.kind),
                "causes": [["reason": "FieldValueRequired", "message": "Required value", "field": .string(field)]],
            ])
    }

    /// The real message format: `secrets "n" is forbidden: User "u" cannot get resource "secrets" in API
    /// group "" in the namespace "ns"` (or `at the cluster scope`).
    static func forbidden(
        _ kind: ResourceKind, verb: String, user: String, namespace: String?, name: String?
    ) -> APIStatus {
        let subject = name.map { "\(kind.qualifiedName) \"\($0)\"" } ?? kind.qualifiedName
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIStatus(
            code: 403, reason: "Forbidden",
            message: "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(kind.plural)\" in API group \"\(kind.group)\" \(scope)",
            details: details(kind, name: name))
    }

    /// What the real server says when an apply that would create is refused: the admission message is
    /// nearly empty, so clients must name the verb themselves.
    static func applyCreateForbidden(_ kind: ResourceKind, name: String) -> APIStatus {
        APIStatus(
            code: 403, reason: "Forbidden", message: "\(kind.qualifiedName) \"\(name)\" is forbidden: ",
            details: details(kind, name: name))
    }

    static func injected(_ code: Int, retryAfterSeconds: Int?) -> APIStatus {
        let (reason, message): (String, String) =
            switch code {
            case 429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later")
            case 500: ("InternalError", "an error on the server (\"injected fault\") has prevented the request from succeeding")
            case 503: ("ServiceUnavailable", "the server is currently unable to handle the request")
            case 504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request")
            case 401: ("Unauthorized", "Unauthorized")
            case 403: ("Forbidden", "forbidden (injected fault)")
            case 404: ("NotFound", "the server could not find the requested resource")
            case 409: ("Conflict", "conflict (injected fault)")
            case 410: ("Expired", "too old resource version")
            default: (code >= 500 ? "InternalError" : "BadRequest", "injected fault")
            }
        var status = APIStatus(code: code, reason: reason, message: message)
        status.retryAfterSeconds = retryAfterSeconds
        if let retryAfterSeconds { status.details = ["retryAfterSeconds": .number(Double(retryAfterSeconds))] }
        return status
    }

    static func expired(_ requested: String, oldest: UInt64) -> APIStatus {
        APIStatus(
            code: 410, reason: "Expired",
            message: "too old resource version: \(requested) (\(oldest))")
    }
}
