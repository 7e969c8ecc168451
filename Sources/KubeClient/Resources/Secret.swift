/// core/v1 Secret. `description` lists the keys only, never the values.
public struct Secret: KubeResource, Hashable, CustomStringConvertible {
    public static let apiVersion = "v1"
    public static let kind = "Secret"
    public static let plural = "secrets"
    public static let isNamespaced = true

    public var metadata: ObjectMeta
    public var type: String?
    public var data: [String: Base64Bytes]?
    /// Write-only convenience of the API: merged into `data` by the server, never returned.
    public var stringData: [String: String]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta, type: String? = nil, data: [String: Base64Bytes]? = nil, immutable: Bool? = nil) {
        self.metadata = metadata
        self.type = type
        self.data = data
        self.immutable = immutable
    }

    /// A Secret holding `data` as raw bytes (encoded to base64 on the wire).
    public init(
        name: String,
        namespace: String?,
        type: String? = nil,
        data: [String: [UInt8]],
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil,
        immutable: Bool? = nil
    ) {
        self.metadata = ObjectMeta(name: name, namespace: namespace, labels: labels, annotations: annotations)
        self.type = type
        self.data = data.mapValues(Base64Bytes.init)
        self.immutable = immutable
    }

    /// The raw bytes of `data[key]`, or nil when absent.
    public func decodedData(_ key: String) -> [UInt8]? { data?[key]?.bytes }

    /// `data[key]` as UTF-8 text, or nil when absent or not UTF-8.
    public func decodedString(_ key: String) -> String? {
        guard let bytes = decodedData(key) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    public var description: String {
        let keys = (data?.keys.sorted() ?? []).joined(separator: ",")
        return "Secret(\(metadata.namespace ?? "-")/\(metadata.name ?? "-") type=\(type ?? "-") keys=[\(keys)])"
    }
}
