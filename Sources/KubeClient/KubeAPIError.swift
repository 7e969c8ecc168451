import CommonBasics

/// The API server answered a request with an error status.
///
/// `description` is one line built by the client, naming verb, resource, namespace and name, because the
/// server's own message can be nearly empty (an apply that would create is refused with
/// `secrets "x" is forbidden: `).
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    public var statusCode: Int
    /// The decoded `Status` body, when the server sent one.
    public var status: KubeStatus?
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`.
    public var verb: String
    /// The plural resource, e.g. `secrets`.
    public var resource: String
    /// The API group (`""` for core).
    public var group: String
    public var namespace: String?
    public var name: String?
    /// From the `Retry-After` header (or `details.retryAfterSeconds`), for 429 and 5xx answers.
    public var retryAfter: Duration?

    public init(
        statusCode: Int, status: KubeStatus?, verb: String, resource: String, group: String = "",
        namespace: String?, name: String?, retryAfter: Duration? = nil
    ) {
        self.statusCode = statusCode
        self.status = status
        self.verb = verb
        self.resource = resource
        self.group = group
        self.namespace = namespace
        self.name = name
        self.retryAfter = retryAfter
    }

    public var reason: String? { status?.reason }

    public var isNotFound: Bool { statusCode == 404 || reason == "NotFound" }
    public var isForbidden: Bool { statusCode == 403 || reason == "Forbidden" }
    public var isUnauthorized: Bool { statusCode == 401 || reason == "Unauthorized" }
    public var isAlreadyExists: Bool { reason == "AlreadyExists" || (statusCode == 409 && verb == "create" && reason == nil) }
    public var isConflict: Bool { statusCode == 409 && !isAlreadyExists }
    /// The resourceVersion asked for is too old (HTTP 410, or a watch `ERROR` event with code 410): relist.
    public var isGone: Bool { statusCode == 410 || reason == "Expired" || reason == "Gone" }
    public var isTooManyRequests: Bool { statusCode == 429 }
    /// 429 and 5xx: trying again later may succeed. (Conflicts are retryable too, but only after re-reading.)
    public var isRetryable: Bool { statusCode == 429 || (500...599).contains(statusCode) }

    var target: String {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        let object = name.map { "\(qualified)/\($0)" } ?? qualified
        if let namespace { return "\(object) in namespace \(namespace)" }
        return name == nil ? "\(object) at the cluster scope" : object
    }

    /// The verbs RBAC checks for this request: server-side apply is authorized as `patch`, and as `create`
    /// when the object does not exist yet.
    var rbacVerbs: String {
        switch verb {
        case "apply": "patch (and create, so apply can create the object)"
        default: verb
        }
    }

    public var description: String {
        let serverMessage = Self.informative(status?.message)
        var line: String
        if isForbidden {
            line = "forbidden: cannot \(verb) \(target) (RBAC: the ServiceAccount needs verb \(rbacVerbs) on \(group.isEmpty ? resource : "\(resource).\(group)"))"
        } else if isUnauthorized {
            line = "unauthorized: the API server rejected the credentials for \(verb) \(target) (token expired or revoked, or the client certificate is not trusted)"
        } else if isNotFound {
            line = "not found: \(verb) \(target)"
            if verb == "apply" || verb == "create" { line += " (does the namespace exist?)" }
        } else if isAlreadyExists {
            line = "already exists: \(verb) \(target)"
        } else if isConflict {
            line = "conflict: \(verb) \(target) (the object changed since it was read, or another field manager owns the fields)"
        } else if isGone {
            line = "gone: \(verb) \(target) (the resourceVersion is too old; relist)"
        } else if isTooManyRequests {
            line = "too many requests: \(verb) \(target) (the API server is throttling this client)"
        } else {
            line = "HTTP \(statusCode)\(reason.map { " \($0)" } ?? ""): \(verb) \(target)"
        }
        if let retryAfter { line += "; retry after \(retryAfter.components.seconds)s" }
        if let serverMessage { line += ": \(serverMessage)" }
        return line
    }

    /// The server's message, unless it adds nothing (empty, or ending in `forbidden: `).
    static func informative(_ message: String?) -> String? {
        guard let message else { return nil }
        let trimmed = message.trimmingASCIIWhitespace()
        if trimmed.isEmpty || trimmed.hasSuffix("forbidden:") { return nil }
        // Keep the line a line.
        return String(trimmed.map { $0.isNewline ? " " : $0 })
    }
}

