import KubeClient
import Logging

/// Writes the desired secret into namespaces: one server-side apply per namespace that needs it (which
/// creates or updates in one call and works under the original ClusterRole), fanned out with bounded
/// concurrency. Namespaces whose secret already matches are skipped, so a resync of a fresh cluster sends
/// no write at all.
public struct SecretWriter: Sendable {
    public let client: KubernetesClient
    public let logger: Logger

    public init(client: KubernetesClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// - Parameter observed: what is known to be in each namespace now (from the watch cache or a list);
    ///   a namespace missing from it is written without looking first.
    public func write(
        _ desired: DesiredSecret,
        to namespaces: [String],
        observed: [String: ObservedSecret],
        concurrency: Int
    ) async -> [String: NamespaceOutcome] {
        var outcomes: [String: NamespaceOutcome] = [:]
        var pending: [String] = []
        for namespace in namespaces {
            if let existing = observed[namespace] {
                if !DesiredSecret.mayAdopt(existing) {
                    outcomes[namespace] = .foreign(type: existing.type ?? "Opaque")
                    continue
                }
                if desired.isSatisfied(by: existing) {
                    outcomes[namespace] = .unchanged
                    continue
                }
            }
            pending.append(namespace)
        }
        guard !pending.isEmpty else { return outcomes }
        // One encoding for every namespace: the body leaves the namespace out, the URL names it.
        let body: EncodedBody<Secret>
        do {
            body = try client.encodedBody(desired.secret(in: nil))
        } catch {
            for namespace in pending { outcomes[namespace] = .failed(reason: "cannot encode the secret: \(error)", retryable: false) }
            return outcomes
        }

        await withTaskGroup(of: (String, NamespaceOutcome).self) { group in
            var next = pending.makeIterator()
            func startNext() -> Bool {
                guard let namespace = next.next() else { return false }
                group.addTask { (namespace, await self.apply(body, name: desired.name, in: namespace)) }
                return true
            }
            for _ in 0..<max(1, concurrency) where !startNext() { break }
            while let (namespace, outcome) = await group.next() {
                outcomes[namespace] = outcome
                _ = startNext()
            }
        }
        return outcomes
    }

    /// One apply; never throws, so one namespace failing never stops the others.
    func apply(_ body: EncodedBody<Secret>, name: String, in namespace: String) async -> NamespaceOutcome {
        do {
            try await client.apply(body, namespace: namespace, name: name, fieldManager: DesiredSecret.fieldManager, force: true)
            return .written
        } catch let error as KubeAPIError {
            // A secret of our name with another type: `type` is immutable, so the server refuses (422).
            if error.statusCode == 422 || error.reason == "Invalid" {
                if let existing = try? await client.get(Secret.self, namespace: namespace, name: name),
                   !DesiredSecret.mayAdopt(existing) {
                    return .foreign(type: existing.type ?? "Opaque")
                }
            }
            return .failed(reason: Self.explain(error, namespace: namespace, secretName: name), retryable: error.isRetryable || error.isNotFound)
        } catch {
            return .failed(reason: "\(error)", retryable: true)
        }
    }

    static func explain(_ error: KubeAPIError, namespace: String, secretName: String) -> String {
        if error.isNotFound {
            return "namespace \(namespace) does not exist (create it, or remove it from NAMESPACES)"
        }
        if error.isForbidden {
            return "forbidden to write secret \(secretName) in \(namespace): the ClusterRole needs get/patch on secrets with resourceNames [\(secretName)] plus create on secrets (check that SECRET_NAME matches the role's resourceNames)"
        }
        return error.description
    }
}
