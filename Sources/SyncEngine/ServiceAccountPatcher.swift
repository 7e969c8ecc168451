import KubeClient
import Logging

/// Adds the pull secret to `imagePullSecrets` of chosen ServiceAccounts, so pods need no manifest change.
/// Idempotent (no write when the entry is there) and never removes the user's own entries: the patch
/// carries the whole list as read, plus ours, guarded by the resourceVersion it was read at.
public struct ServiceAccountPatcher: Sendable {
    public let client: KubernetesClient
    public let logger: Logger

    public init(client: KubernetesClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    struct PullSecretsPatch: Encodable, Sendable {
        struct Metadata: Encodable, Sendable { var resourceVersion: String? }
        var metadata: Metadata
        var imagePullSecrets: [LocalObjectReference]
    }

    /// What one namespace's ServiceAccounts needed.
    public struct Outcome: Sendable, Equatable {
        /// A line per ServiceAccount that could not be patched.
        public var failures: [String] = []
        /// ServiceAccounts that do not exist (yet): not a failure, since the controller manager creates a new
        /// namespace's `default` ServiceAccount a moment after the namespace, and the helper is often faster.
        public var missing: [String] = []
    }

    public func ensure(secretName: String, serviceAccounts: [String], namespace: String) async -> Outcome {
        var outcome = Outcome()
        for name in serviceAccounts {
            for attempt in 1...3 {
                do {
                    let account = try await client.get(ServiceAccount.self, namespace: namespace, name: name)
                    var entries = account.imagePullSecrets ?? []
                    if entries.contains(where: { $0.name == secretName }) { break }
                    entries.append(LocalObjectReference(name: secretName))
                    let patch = PullSecretsPatch(metadata: .init(resourceVersion: account.metadata.resourceVersion), imagePullSecrets: entries)
                    _ = try await client.mergePatch(ServiceAccount.self, namespace: namespace, name: name, patch: patch)
                    logger.debug("added pull secret to ServiceAccount", metadata: ["namespace": "\(namespace)", "serviceaccount": "\(name)"])
                    break
                } catch let error as KubeAPIError where error.isNotFound {
                    outcome.missing.append(name)
                    break
                } catch let error as KubeAPIError where error.isConflict && attempt < 3 {
                    continue
                } catch {
                    outcome.failures.append("ServiceAccount \(namespace)/\(name): \(error) (patching ServiceAccounts needs get and patch on serviceaccounts)")
                    break
                }
            }
        }
        return outcome
    }

    /// Removes our entry, leaving every other entry as it was.
    public func remove(secretName: String, serviceAccounts: [String], namespace: String) async throws {
        for name in serviceAccounts {
            let account: ServiceAccount
            do {
                account = try await client.get(ServiceAccount.self, namespace: namespace, name: name)
            } catch let error as KubeAPIError where error.isNotFound { continue }
            let entries = account.imagePullSecrets ?? []
            guard entries.contains(where: { $0.name == secretName }) else { continue }
            let patch = PullSecretsPatch(
                metadata: .init(resourceVersion: account.metadata.resourceVersion),
                imagePullSecrets: entries.filter { $0.name != secretName }
            )
            _ = try await client.mergePatch(ServiceAccount.self, namespace: namespace, name: name, patch: patch)
        }
    }
}
