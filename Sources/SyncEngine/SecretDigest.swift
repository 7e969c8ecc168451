import Crypto
import KubeClient

/// A Secret as the controller's reflector reads it: metadata, type and the digest of `.dockerconfigjson`.
/// Decoding it never materializes any other key's data, so listing thousands of secrets (ours and the
/// original helper's, a few KB each) costs their pages in flight, not their contents.
public struct SecretDigest: KubeResource {
    public static let apiVersion = Secret.apiVersion
    public static let kind = Secret.kind
    public static let plural = Secret.plural
    public static let isNamespaced = true

    public var metadata: ObjectMeta
    public var type: String?
    /// SHA-256 of the decoded `.dockerconfigjson`; nil when the key is absent or not base64.
    public var contentDigest: SHA256Digest?

    enum CodingKeys: String, CodingKey { case metadata, type, data }

    struct DataKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        if container.contains(.data), try !container.decodeNil(forKey: .data) {
            let data = try container.nestedContainer(keyedBy: DataKey.self, forKey: .data)
            let encoded = try data.decodeIfPresent(Base64Bytes.self, forKey: DataKey(stringValue: DesiredSecret.dataKey))
            contentDigest = encoded.map { SHA256.hash(data: $0.bytes) }
        }
    }

    /// Never written: the controller writes `Secret`s.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metadata, forKey: .metadata)
        try container.encodeIfPresent(type, forKey: .type)
    }
}

extension ObservedSecret {
    public init(_ secret: SecretDigest) {
        self.init(
            type: secret.type,
            isManaged: secret.metadata.labels?[DesiredSecret.managedByLabel] == DesiredSecret.managedByValue,
            contentDigest: secret.contentDigest,
            instance: secret.metadata.labels?[Installation.labelKey])
    }
}
