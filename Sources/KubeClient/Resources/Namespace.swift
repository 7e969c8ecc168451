/// core/v1 Namespace.
public struct Namespace: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Namespace"
    public static let plural = "namespaces"
    public static let isNamespaced = false

    public struct Status: Codable, Sendable, Hashable {
        /// `Active` or `Terminating`.
        public var phase: String?
        public init(phase: String? = nil) { self.phase = phase }
    }

    public var metadata: ObjectMeta
    public var status: Status?

    public init(metadata: ObjectMeta, status: Status? = nil) {
        self.metadata = metadata
        self.status = status
    }

    public init(name: String, labels: [String: String]? = nil) {
        self.metadata = ObjectMeta(name: name, labels: labels)
    }

    public var isTerminating: Bool { status?.phase == "Terminating" || metadata.deletionTimestamp != nil }
}
