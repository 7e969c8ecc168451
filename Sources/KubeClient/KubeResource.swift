import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Kubernetes object type the client can read and write. The resource's REST path is derived from
/// `apiVersion`, `plural` and `isNamespaced`; `apiVersion` and `kind` are written into every request body
/// by the client, so conforming types need not store them.
public protocol KubeResource: Codable, Sendable {
    /// `v1` for the core group, `group/version` otherwise (e.g. `coordination.k8s.io/v1`).
    static var apiVersion: String { get }
    static var kind: String { get }
    /// The lower-case plural used in URLs and RBAC rules, e.g. `secrets`.
    static var plural: String { get }
    static var isNamespaced: Bool { get }
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// The API group (`""` for the core group).
    public static var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// `secrets`, or `leases.coordination.k8s.io` for a named group: the spelling RBAC messages use.
    static var qualifiedPlural: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

/// Standard object metadata. `managedFields` is deliberately left out: it is large, and this client
/// never needs it (server-side apply tracks ownership without the client echoing it).
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var resourceVersion: String?
    public var uid: String?
    public var generation: Int64?
    /// RFC 3339, as the server wrote it.
    public var creationTimestamp: String?
    /// RFC 3339; set once deletion has been requested.
    public var deletionTimestamp: String?
    public var finalizers: [String]?
    public var ownerReferences: [OwnerReference]?

    public init(
        name: String? = nil,
        namespace: String? = nil,
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil,
        resourceVersion: String? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.resourceVersion = resourceVersion
    }
}

public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

public struct LocalObjectReference: Codable, Sendable, Hashable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(
        apiVersion: String? = nil, kind: String? = nil, name: String? = nil, namespace: String? = nil,
        uid: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}

/// A list response: `items` plus the list's `resourceVersion` (where a watch should start) and the
/// `continue` token of a paginated list.
public struct KubeList<R: Decodable & Sendable>: Decodable, Sendable {
    public struct Metadata: Codable, Sendable, Hashable {
        public var resourceVersion: String?
        public var `continue`: String?
        public var remainingItemCount: Int64?

        public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
            self.resourceVersion = resourceVersion
            self.continue = `continue`
            self.remainingItemCount = remainingItemCount
        }
    }
    public var metadata: Metadata
    public var items: [R]

    public init(metadata: Metadata, items: [R]) {
        self.metadata = metadata
        self.items = items
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(Metadata.self, forKey: .metadata) ?? Metadata()
        // The server writes `"items": null` for an empty list in some versions.
        items = try container.decodeIfPresent([R].self, forKey: .items) ?? []
    }

    enum CodingKeys: String, CodingKey { case metadata, items }
}


extension KubeList: Encodable where R: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(items, forKey: .items)
    }
}

/// Wraps an object for encoding so that `apiVersion` and `kind` precede its own fields.
struct TypedObject<R: KubeResource>: Encodable {
    let object: R

    enum Keys: String, CodingKey { case apiVersion, kind }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(R.apiVersion, forKey: .apiVersion)
        try container.encode(R.kind, forKey: .kind)
        try object.encode(to: encoder)
    }
}

/// An object encoded for the wire once, to be sent many times (see `KubernetesClient.encodedBody`).
public struct EncodedBody<R: KubeResource>: Sendable {
    let buffer: ByteBuffer
}
