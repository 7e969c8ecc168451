/// core/v1 ServiceAccount.
public struct ServiceAccount: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "ServiceAccount"
    public static let plural = "serviceaccounts"
    public static let isNamespaced = true

    public var metadata: ObjectMeta
    public var imagePullSecrets: [LocalObjectReference]?
    public var secrets: [ObjectReference]?
    public var automountServiceAccountToken: Bool?

    public init(metadata: ObjectMeta, imagePullSecrets: [LocalObjectReference]? = nil, secrets: [ObjectReference]? = nil) {
        self.metadata = metadata
        self.imagePullSecrets = imagePullSecrets
        self.secrets = secrets
    }
}
