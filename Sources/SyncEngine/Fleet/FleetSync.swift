import KubeClient
import Logging

/// `sync` over a fleet: one pass per cluster, all at once, sharing one login per region. A cluster that
/// cannot be reached fails alone and never holds up the others' writes.
public enum FleetSync {
    public struct ClusterResult: Sendable {
        public var name: String
        public var origin: String
        public var report: SyncReport?
        /// Why nothing was attempted in this cluster (unusable source, unreachable, bad settings).
        public var failure: String?

        public var succeeded: Bool { failure == nil && (report?.allSucceeded ?? false) }
    }

    public static func syncOnce(
        targets: [ClusterTarget], settings: any SettingsSource, tokens: SharedTokenSource, timeout: Duration, logger: Logger,
        makeClient: @escaping @Sendable (KubeConfiguration, Logger) throws -> KubernetesClient = { try KubernetesClient(configuration: $0, logger: $1) }
    ) async -> [ClusterResult] {
        if let fleet = try? settings.load() { await tokens.setPolicy(fleet.refresh) }
        return await withTaskGroup(of: ClusterResult.self) { group in
            for target in targets {
                group.addTask {
                    var logger = logger
                    logger[metadataKey: "cluster"] = "\(target.name)"
                    var result = ClusterResult(name: target.name, origin: target.origin)
                    let configuration: KubeConfiguration
                    switch target.connection {
                    case .failure(let error):
                        result.failure = error.description
                        return result
                    case .success(let value): configuration = value
                    }
                    let client: KubernetesClient
                    do { client = try makeClient(configuration, logger) } catch {
                        result.failure = "\(target.origin): \(error)"
                        return result
                    }
                    // A cluster that cannot be reached fails at once instead of waiting out the first pass's
                    // bounded wait for its lists.
                    if let problem = await reachability(client) {
                        result.failure = problem
                        try? await client.shutdown()
                        return result
                    }
                    let controller = SyncController(dependencies: .init(
                        kube: client, tokens: tokens, settings: OverriddenSettingsSource(base: settings, override: target.namespaceOverride),
                        status: HelperStatus(), metrics: HelperMetrics(scope: .cluster(target.name)), logger: logger))
                    do {
                        result.report = try await controller.syncOnce(timeout: timeout)
                    } catch {
                        result.failure = "\(error)"
                    }
                    try? await client.shutdown()
                    return result
                }
            }
            var results: [ClusterResult] = []
            results.reserveCapacity(targets.count)
            for await result in group { results.append(result) }
            return results.sorted { $0.name < $1.name }
        }
    }

    /// Why the cluster cannot be worked on (unreachable, credentials refused), or nil. Any other answer
    /// means it is there; RBAC problems show per namespace.
    public static func reachability(_ client: KubernetesClient) async -> String? {
        do {
            try await client.ping()
            return nil
        } catch let error as KubeTransportError {
            return error.description
        } catch let error as KubeAPIError where error.isUnauthorized {
            return "the API server at \(client.configuration.server) did not accept the credentials (401 Unauthorized, auth: \(client.configuration.auth)); check the kubeconfig's token, client certificate or exec plugin"
        } catch {
            return nil
        }
    }
}
