import KubeClient

/// One cluster of the fleet as its source describes it: a name, where it came from, how to reach it, and
/// an optional namespace selection of its own. Two targets are equal when a controller built from one
/// would behave the same as one built from the other: a rotated kubeconfig (another `digest`) is a new
/// target, so its controller is restarted with the new credentials.
public struct ClusterTarget: Sendable, Equatable, CustomStringConvertible {
    /// The cluster's name in `status`, metrics (`cluster` label), logs and `--cluster`.
    public var name: String
    /// `file /clusters/edge-1`, `secret fleet/edge-1-kubeconfig (Cluster API)`.
    public var origin: String
    /// How to reach the cluster, or why it cannot be reached (an invalid kubeconfig: shown in status).
    public var connection: Result<KubeConfiguration, ClusterSourceError>
    /// A hash of everything the connection was made from (never the contents themselves).
    public var digest: String
    /// NAMESPACES / EXCLUDE_NAMESPACES / NAMESPACE_SELECTOR for this cluster only (from annotations).
    public var namespaceOverride: NamespaceOverride

    public init(name: String, origin: String, connection: Result<KubeConfiguration, ClusterSourceError>, digest: String, namespaceOverride: NamespaceOverride = NamespaceOverride()) {
        self.name = name
        self.origin = origin
        self.connection = connection
        self.digest = digest
        self.namespaceOverride = namespaceOverride
    }

    public var description: String { "\(name) (\(origin))" }

    public static func == (a: ClusterTarget, b: ClusterTarget) -> Bool {
        a.name == b.name && a.origin == b.origin && a.digest == b.digest && a.namespaceOverride == b.namespaceOverride
            && a.problem == b.problem
    }

    /// Why the cluster cannot be served, when its source is unusable.
    public var problem: String? {
        if case .failure(let error) = connection { return error.description }
        return nil
    }

    /// Cluster names are DNS labels (lowercase letters, digits, '-', at most 63): they go into metric
    /// labels, file names and command lines unchanged.
    public static func isValidName(_ name: String) -> Bool { KubernetesNames.isLabel(name) }
}

/// A cluster source that cannot be used, in one line naming the source and the fix (never a credential).
public struct ClusterSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A stable, non-reversible fingerprint of source bytes, to notice rotations without keeping the bytes.
/// FNV-1a 64: collisions would only delay noticing one rotation until the next change.
enum ContentDigest {
    static func of(_ parts: [[UInt8]]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
