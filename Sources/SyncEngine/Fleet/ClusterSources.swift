import KubeClient
import Logging

/// Where a fleet's clusters come from: its own cluster (when it has one), CLUSTERS_DIR and the Secrets
/// CLUSTER_SECRET_SELECTOR selects in the helper's namespace.
public struct ClusterSources: Sendable {
    /// The Secrets holding kubeconfigs: read through `client`, in `namespace`, matching `selector`.
    public struct SecretSelection: Sendable {
        public var client: KubernetesClient
        public var namespace: String
        public var selector: String
        public init(client: KubernetesClient, namespace: String, selector: String) {
            self.client = client
            self.namespace = namespace
            self.selector = selector
        }
    }

    /// The name the helper's own cluster has in a fleet.
    public static let localName = "local"

    public var local: ClusterTarget?
    public var directory: ClustersDirectory?
    public var secrets: SecretSelection?

    public init(local: ClusterTarget? = nil, directory: ClustersDirectory? = nil, secrets: SecretSelection? = nil) {
        self.local = local
        self.directory = directory
        self.secrets = secrets
    }

    /// The helper's own cluster as a fleet member.
    public static func localTarget(_ configuration: KubeConfiguration) -> ClusterTarget {
        ClusterTarget(name: localName, origin: "own cluster, \(configuration.origin)", connection: .success(configuration), digest: "local")
    }

    /// Every cluster, read once (for `sync`, `status` and `cleanup`). A source that cannot be read is a
    /// problem; the clusters of the others are still returned.
    public func listOnce() async -> (targets: [ClusterTarget], problems: [String]) {
        var problems: [String] = []
        var files: [ClusterTarget] = []
        if let directory {
            do { files = try directory.read() } catch { problems.append(error.description) }
        }
        var fromSecrets: [ClusterTarget] = []
        if let secrets {
            do {
                let list = try await secrets.client.list(Secret.self, namespace: secrets.namespace, labelSelector: secrets.selector)
                fromSecrets = list.items.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }.compactMap(ClusterSecretFormat.target(of:))
            } catch {
                problems.append("cannot list the kubeconfig Secrets (CLUSTER_SECRET_SELECTOR \(secrets.selector) in namespace \(secrets.namespace)): \(error)")
            }
        }
        let combined = Self.combine(local: local, files: files, secrets: fromSecrets)
        return (combined.targets, problems + combined.problems)
    }

    /// One list of clusters: the own cluster, then the folder's, then the Secrets'. A name already taken
    /// is a problem and the later cluster is not served (never two controllers on one name).
    public static func combine(local: ClusterTarget?, files: [ClusterTarget], secrets: [ClusterTarget]) -> (targets: [ClusterTarget], problems: [String]) {
        var seen: [String: String] = [:]
        var targets: [ClusterTarget] = []
        var problems: [String] = []
        for target in (local.map { [$0] } ?? []) + files + secrets {
            if let first = seen[target.name] {
                problems.append("cluster name \"\(target.name)\" of \(target.origin) is already used by \(first); this one is not served: rename the file or set the annotation \(ClusterSecretFormat.clusterNameAnnotation)")
                continue
            }
            seen[target.name] = target.origin
            targets.append(target)
        }
        return (targets, problems)
    }
}

/// Which of the fleet's clusters this replica serves. Without scale-out, all of them; with it, the
/// membership Lease and rendezvous hashing decide (see docs/fleet.md).
public protocol ClusterAssignment: Sendable {
    /// The subset of `clusters` this replica serves now.
    func assigned(_ clusters: [String]) async -> Set<String>
    /// Yields whenever the assignment may have changed (a replica came or went).
    func changes() -> AsyncStream<Void>
}

/// Every cluster, always.
public struct ServeEveryCluster: ClusterAssignment {
    public init() {}
    public func assigned(_ clusters: [String]) async -> Set<String> { Set(clusters) }
    public func changes() -> AsyncStream<Void> { AsyncStream { _ in } }
}
