/// One request as the server saw it. `verb` uses RBAC names (get, list, watch, create, update, patch,
/// delete); `status` is 0 for a dropped connection.
public struct RecordedRequest: Sendable, Codable, Hashable {
    public var method: String
    public var path: String
    public var query: String
    public var verb: String
    public var resource: String
    public var namespace: String?
    public var name: String?
    public var user: String?
    public var status: Int
    public var contentType: String?
    /// The body holds `\/`: legal JSON, but go-yaml rejects it in apply bodies, and issue 12 found every
    /// write of the first build refused by real clusters for it. Recorded for every content type, so tests
    /// can show the helper never sends it.
    public var bodyEscapesSlash: Bool

    public init(
        method: String, path: String, query: String, verb: String, resource: String, namespace: String?,
        name: String?, user: String?, status: Int, contentType: String?, bodyEscapesSlash: Bool = false
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.user = user
        self.status = status
        self.contentType = contentType
        self.bodyEscapesSlash = bodyEscapesSlash
    }

    /// Whether `body` holds a backslash followed by a slash.
    static func escapesSlash(_ body: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        for byte in body {
            if previous == UInt8(ascii: "\\") && byte == UInt8(ascii: "/") { return true }
            // An escaped backslash (`\\/`) is a backslash, then a plain slash.
            previous = previous == UInt8(ascii: "\\") ? 0 : byte
        }
        return false
    }
}
