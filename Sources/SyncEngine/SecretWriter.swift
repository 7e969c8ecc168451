import KubeClient
import Logging

/// The executor's write: one server-side apply per namespace (which creates or updates in one call and
/// works under the original ClusterRole), fanned out with bounded concurrency. Which namespaces need it
/// is decided before, by `Reconcile.plan`.
public struct SecretWriter: Sendable {
    public let client: KubernetesClient
    public let logger: Logger

    public init(client: KubernetesClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The result of one namespace's write.
    public struct Result: Sendable {
        public var outcome: NamespaceOutcome
        /// What to do with the namespace's key (after a failure).
        public var action: RequeueAction = .wait
        /// The resourceVersion the server answered a successful apply with.
        public var resourceVersion: String?
    }

    /// Applies the desired secret in every namespace given (the reconcile already decided they need it),
    /// at most `concurrency` at once. The body is encoded once: it leaves the namespace out, the URL names it.
    public func apply(_ desired: DesiredSecret, to namespaces: [String], concurrency: Int) async -> [String: Result] {
        var results: [String: Result] = [:]
        guard !namespaces.isEmpty else { return results }
        let body: EncodedBody<Secret>
        do {
            body = try client.encodedBody(desired.secret(in: nil))
        } catch {
            for namespace in namespaces {
                results[namespace] = Result(outcome: .failed(reason: "cannot encode the secret: \(error)", retryable: false))
            }
            return results
        }
        await withTaskGroup(of: (String, Result).self) { group in
            var next = namespaces.makeIterator()
            func startNext() -> Bool {
                guard let namespace = next.next() else { return false }
                group.addTask { (namespace, await self.apply(body, name: desired.name, in: namespace)) }
                return true
            }
            for _ in 0..<max(1, concurrency) where !startNext() { break }
            while let (namespace, result) = await group.next() {
                results[namespace] = result
                _ = startNext()
            }
        }
        return results
    }

    /// One apply; never throws, so one namespace failing never stops the others.
    func apply(_ body: EncodedBody<Secret>, name: String, in namespace: String) async -> Result {
        do {
            let version = try await client.apply(body, namespace: namespace, name: name, fieldManager: DesiredSecret.fieldManager, force: true)
            return Result(outcome: .written, resourceVersion: version)
        } catch {
            // A secret of our name with another type appeared since the watch last spoke: `type` is
            // immutable, so the server refuses (422). Look once, to report it as someone else's.
            if let error = error as? KubeAPIError, error.statusCode == 422,
               let existing = try? await client.get(Secret.self, namespace: namespace, name: name), !DesiredSecret.mayAdopt(existing) {
                return Result(outcome: .foreign(type: existing.type ?? "Opaque"))
            }
            let (outcome, action) = ErrorPolicy.namespaceFailure(error, namespace: namespace, secretName: name)
            return Result(outcome: outcome, action: action)
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
