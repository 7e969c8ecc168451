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

    public init(
        method: String, path: String, query: String, verb: String, resource: String, namespace: String?,
        name: String?, user: String?, status: Int, contentType: String?
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
    }
}
