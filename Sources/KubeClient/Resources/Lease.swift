/// coordination.k8s.io/v1 Lease, used for leader election.
public struct Lease: KubeResource, Hashable {
    public static let apiVersion = "coordination.k8s.io/v1"
    public static let kind = "Lease"
    public static let plural = "leases"
    public static let isNamespaced = true

    public struct Spec: Codable, Sendable, Hashable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int32?
        /// RFC 3339 MicroTime (`2006-01-02T15:04:05.000000Z`), see `KubeTime`.
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int32?

        public init(
            holderIdentity: String? = nil,
            leaseDurationSeconds: Int32? = nil,
            acquireTime: String? = nil,
            renewTime: String? = nil,
            leaseTransitions: Int32? = nil
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}
