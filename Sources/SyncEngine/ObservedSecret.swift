import Crypto
import KubeClient

/// What the helper remembers of a secret it saw in a namespace: enough to decide whether a write is
/// needed and allowed, without keeping the whole object (thousands of namespaces are watched).
public struct ObservedSecret: Sendable, Hashable {
    public var type: String?
    /// Labelled `app.kubernetes.io/managed-by: aws-ecr-cred-helper`.
    public var isManaged: Bool
    /// SHA-256 of `.dockerconfigjson`, nil when the key is absent.
    public var contentDigest: SHA256Digest?
    /// The installation it is labelled with (`aws-ecr-cred-helper/instance`); nil for secrets written
    /// before installations had one, and for everyone else's.
    public var instance: String?

    public init(_ secret: Secret) {
        type = secret.type
        isManaged = secret.metadata.labels?[DesiredSecret.managedByLabel] == DesiredSecret.managedByValue
        contentDigest = secret.decodedData(DesiredSecret.dataKey).map { SHA256.hash(data: $0) }
        instance = secret.metadata.labels?[Installation.labelKey]
    }

    public init(type: String?, isManaged: Bool, contentDigest: SHA256Digest?, instance: String? = nil) {
        self.type = type
        self.isManaged = isManaged
        self.contentDigest = contentDigest
        self.instance = instance
    }
}
