import KubeClient
import Logging

/// What `cleanup` does in one cluster: deletes the secrets this helper manages (found by name across all
/// namespaces, deleted only when labelled as ours) and removes its ServiceAccount references. Nothing
/// else is touched.
public enum ClusterCleanup {
    public enum Outcome: Sendable, Equatable {
        case removed
        case wouldRemove
        case kept
        case failed(String)

        public var text: String {
            switch self {
            case .removed: "removed"
            case .wouldRemove: "would remove"
            case .kept: "kept (not managed by aws-ecr-cred-helper)"
            case .failed(let reason): "failed: \(reason)"
            }
        }
    }

    /// Every namespace holding a secret of that name, with what was done there. Throws only when the
    /// secrets cannot be listed.
    public static func run(
        _ client: KubernetesClient, secretName: String, serviceAccounts: [String], dryRun: Bool, logger: Logger
    ) async throws -> [(namespace: String, outcome: Outcome)] {
        let list = try await client.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(secretName)")
        let patcher = ServiceAccountPatcher(client: client, logger: logger)
        var results: [(namespace: String, outcome: Outcome)] = []
        for secret in list.items.sorted(by: { ($0.metadata.namespace ?? "") < ($1.metadata.namespace ?? "") }) {
            guard let namespace = secret.metadata.namespace else { continue }
            guard secret.metadata.labels?[DesiredSecret.managedByLabel] == "aws-ecr-cred-helper" else {
                results.append((namespace, .kept))
                continue
            }
            if dryRun {
                results.append((namespace, .wouldRemove))
                continue
            }
            do {
                try await patcher.remove(secretName: secretName, serviceAccounts: serviceAccounts, namespace: namespace)
                try await client.delete(Secret.self, namespace: namespace, name: secretName)
                results.append((namespace, .removed))
            } catch {
                results.append((namespace, .failed("\(error)")))
            }
        }
        return results
    }
}
