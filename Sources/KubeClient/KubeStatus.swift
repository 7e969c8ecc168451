/// The API server's `Status` object: the body of every error response and of watch `ERROR` events.
public struct KubeStatus: Codable, Sendable, Hashable {
    public struct Details: Codable, Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var retryAfterSeconds: Int?
        public init(name: String? = nil, group: String? = nil, kind: String? = nil, retryAfterSeconds: Int? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// `Success` or `Failure`.
    public var status: String?
    public var code: Int?
    /// Machine-readable: `NotFound`, `Forbidden`, `Conflict`, `AlreadyExists`, `Expired`, `Gone`, ...
    public var reason: String?
    public var message: String?
    public var details: Details?

    public init(status: String? = nil, code: Int? = nil, reason: String? = nil, message: String? = nil, details: Details? = nil) {
        self.status = status
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }
}
