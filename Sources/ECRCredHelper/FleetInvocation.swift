#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KubeClient
import Logging
import SyncEngine

/// What a command line says about the fleet (docs/fleet.md): its targets, the helper's own cluster (when
/// it has one), and where the kubeconfig Secrets are read.
struct FleetInvocation {
    var settings: FleetSettings
    /// The helper's own cluster: served as the member `local`, and where kubeconfig Secrets are read.
    var own: KubeConfiguration?
    /// The namespace holding the kubeconfig Secrets: the helper's own.
    var secretNamespace: String
    /// Whether the own cluster is also a member (`local`): in a pod, with an explicit `--kubeconfig`, or
    /// with `--include-local`. From a workstation, KUBECONFIG or ~/.kube/config alone do not make it one:
    /// whatever cluster the current context names would otherwise be synced or cleaned up with the fleet.
    var includesLocal = true

    /// The switch of every command that serves a fleet.
    static let includeLocalSwitch = Switch(
        name: "include-local",
        help: "Fleet mode from a workstation: also serve the cluster of KUBECONFIG or ~/.kube/config as the member local (in a pod, or with --kubeconfig, it is one anyway).")

    /// Clusters with their sources, for one-shot commands (`sync`, `status`, `cleanup`).
    func sources(oneShot: Bool, logger: Logger) throws -> (ClusterSources, ownClient: KubernetesClient?) {
        var ownClient: KubernetesClient?
        var local: ClusterTarget?
        if let own {
            var configuration = own
            if oneShot { configuration.retriesFailedConnections = false }
            if includesLocal { local = ClusterSources.localTarget(configuration) }
            if settings.clusterSecretSelector != nil { ownClient = try KubernetesClient(configuration: configuration, logger: logger) }
        }
        var secrets: ClusterSources.SecretSelection?
        if let selector = settings.clusterSecretSelector, let ownClient {
            secrets = .init(client: ownClient, namespace: secretNamespace, selector: selector)
        }
        return (ClusterSources(local: local, directory: settings.clustersDirectory.map(ClustersDirectory.init(path:)), secrets: secrets), ownClient)
    }

    /// A client for one cluster of a one-shot command: a refused connection fails at once.
    static func oneShotClient(_ configuration: KubeConfiguration, _ logger: Logger) throws -> KubernetesClient {
        var configuration = configuration
        configuration.retriesFailedConnections = false
        return try KubernetesClient(configuration: configuration, logger: logger)
    }
}

extension Invocation {
    /// The fleet of this command line, or nil without fleet targets (the single-cluster helper, as before).
    /// Problems of the fleet settings are thrown with every other problem of `extra`.
    func fleet(extraProblems: [String] = []) throws -> FleetInvocation? {
        let (values, _) = source(concerns: [.fleet, .fleetCluster, .fleetScale, .pod]).read()
        var reader = SettingsReader(values)
        let settings = FleetSettings.read(&reader)
        let problems = extraProblems + reader.problems.map(\.line)
        if !problems.isEmpty { throw HelperFailure(lines: problems) }
        guard settings.hasTargets else {
            if settings.cluster != nil {
                throw HelperFailure("--cluster chooses one cluster of a fleet, and no fleet is configured: set CLUSTERS_DIR (--clusters-dir) or CLUSTER_SECRET_SELECTOR (--cluster-secret-selector)")
            }
            return nil
        }
        let own = try ownConfiguration()
        if settings.clusterSecretSelector != nil, own == nil {
            throw HelperFailure("CLUSTER_SECRET_SELECTOR reads kubeconfig Secrets from the helper's own cluster, and there is none: run it in a pod, or give --kubeconfig of the cluster holding the Secrets")
        }
        let namespace = values.string(.podNamespace) ?? own?.namespace ?? "default"
        let inPod = !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty && (environment["KUBECONFIG"] ?? "").isEmpty
        let includesLocal = inPod || flags[.kubeconfig] != nil || switches.contains(FleetInvocation.includeLocalSwitch.name)
        return FleetInvocation(settings: settings, own: own, secretNamespace: namespace, includesLocal: includesLocal)
    }

    /// The helper's own cluster in fleet mode: nil when the user has none (no --kubeconfig, KUBECONFIG,
    /// ~/.kube/config or pod): then the fleet is served alone. A configuration that exists but is broken is
    /// still an error.
    func ownConfiguration() throws -> KubeConfiguration? {
        let home = environment["HOME"].map { ($0.hasSuffix("/") ? $0 : $0 + "/") + ".kube/config" }
        let exists = { (path: String) in access(path, F_OK) == 0 }
        let given = flags[.kubeconfig] != nil || !(environment["KUBECONFIG"] ?? "").isEmpty
            || !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty || home.map(exists) == true
        guard given else { return nil }
        return try kubeConfiguration()
    }
}

/// The fleet's targets, read once, narrowed to `--cluster` when given.
enum FleetTargets {
    static func list(_ fleet: FleetInvocation, logger: Logger) async throws -> (targets: [ClusterTarget], problems: [String]) {
        let (sources, ownClient) = try fleet.sources(oneShot: true, logger: logger)
        let (all, problems) = await sources.listOnce()
        try? await ownClient?.shutdown()
        guard let wanted = fleet.settings.cluster else { return (all, problems) }
        guard let target = all.first(where: { $0.name == wanted }) else {
            let names = all.map(\.name).joined(separator: ", ")
            let hint = wanted == ClusterSources.localName && !fleet.includesLocal
                ? " (the own cluster joins from a workstation only with --include-local or --kubeconfig)" : ""
            throw HelperFailure(lines: problems + ["no cluster named \(wanted) in the fleet; its clusters: \(names.isEmpty ? "none" : names)\(hint)"])
        }
        return ([target], [])
    }
}
