/// authorization.k8s.io/v1 SelfSubjectAccessReview: "may I do this?", answered by the server's authorizer.
/// Not a `KubeResource` (it is create-only and never stored); send it with `KubernetesClient.post` or `canI`.
public struct SelfSubjectAccessReview: Codable, Sendable, Hashable {
    public static let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    public struct ResourceAttributes: Codable, Sendable, Hashable {
        public var namespace: String?
        public var verb: String?
        public var group: String?
        public var resource: String?
        public var subresource: String?
        public var name: String?

        public init(namespace: String? = nil, verb: String? = nil, group: String? = nil, resource: String? = nil, subresource: String? = nil, name: String? = nil) {
            self.namespace = namespace
            self.verb = verb
            self.group = group
            self.resource = resource
            self.subresource = subresource
            self.name = name
        }
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var resourceAttributes: ResourceAttributes?
        public init(resourceAttributes: ResourceAttributes? = nil) { self.resourceAttributes = resourceAttributes }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var allowed: Bool
        public var denied: Bool?
        public var reason: String?
        public var evaluationError: String?
        public init(allowed: Bool, denied: Bool? = nil, reason: String? = nil, evaluationError: String? = nil) {
            self.allowed = allowed
            self.denied = denied
            self.reason = reason
            self.evaluationError = evaluationError
        }
    }

    public var apiVersion: String = "authorization.k8s.io/v1"
    public var kind: String = "SelfSubjectAccessReview"
    public var metadata: ObjectMeta?
    public var spec: Spec
    public var status: Status?

    public init(spec: Spec, status: Status? = nil) {
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion) ?? "authorization.k8s.io/v1"
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "SelfSubjectAccessReview"
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(Status.self, forKey: .status)
    }
}
