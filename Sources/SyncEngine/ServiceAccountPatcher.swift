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

    /// The patch: the whole list as read (plus or minus ours), guarded by the resourceVersion it was read
    /// at, and the claims annotation (null removes it when no claim is left).
    struct PullSecretsPatch: Encodable, Sendable {
        var resourceVersion: String?
        var imagePullSecrets: [LocalObjectReference]
        var claims: ServiceAccountClaims

        enum Keys: String, CodingKey { case metadata, imagePullSecrets, resourceVersion, annotations }
        struct AnnotationKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var metadata = container.nestedContainer(keyedBy: Keys.self, forKey: .metadata)
            try metadata.encodeIfPresent(resourceVersion, forKey: .resourceVersion)
            var annotations = metadata.nestedContainer(keyedBy: AnnotationKey.self, forKey: .annotations)
            let key = AnnotationKey(stringValue: Installation.serviceAccountAnnotation)
            if let value = claims.annotation { try annotations.encode(value, forKey: key) } else { try annotations.encodeNil(forKey: key) }
            try container.encode(imagePullSecrets, forKey: .imagePullSecrets)
        }
    }

    /// What one namespace's ServiceAccounts needed.
    public struct Outcome: Sendable, Equatable {
        /// A line per ServiceAccount that could not be patched.
        public var failures: [String] = []
        /// ServiceAccounts that do not exist (yet): not a failure, since the controller manager creates a new
        /// namespace's `default` ServiceAccount a moment after the namespace, and the helper is often faster.
        public var missing: [String] = []
    }

    /// Adds our entry and claims it for `installation`. An entry already there without any installation's
    /// claim (an earlier version added it) is claimed: the installation serving the namespace adopts it, as
    /// it adopts the secret. One another installation claims is left to it.
    public func ensure(secretName: String, installation: Installation, serviceAccounts: [String], namespace: String) async -> Outcome {
        var outcome = Outcome()
        for name in serviceAccounts {
            for attempt in 1...3 {
                do {
                    let account = try await client.get(ServiceAccount.self, namespace: namespace, name: name)
                    var entries = account.imagePullSecrets ?? []
                    var claims = ServiceAccountClaims(account.metadata.annotations?[Installation.serviceAccountAnnotation])
                    let present = entries.contains(where: { $0.name == secretName })
                    // There and claimed (by us, or by another installation): nothing to write.
                    if present && !claims.isUnclaimed(secretName: secretName) { break }
                    if !present { entries.append(LocalObjectReference(name: secretName)) }
                    claims.insert(installation, secretName: secretName)
                    let patch = PullSecretsPatch(resourceVersion: account.metadata.resourceVersion, imagePullSecrets: entries, claims: claims)
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

    /// Takes away `installation`'s claim on our entry, and the entry when no other installation claims it;
    /// an entry no installation claims (an earlier version's) is removed too, since the caller removes this
    /// installation's secret from the namespace. Every other entry stays as it was. With `dryRun` nothing is
    /// written. Returns how many entries were (or would be) removed.
    public func remove(
        secretName: String, installation: Installation, serviceAccounts: [String], namespace: String, dryRun: Bool = false
    ) async throws -> Int {
        var removed = 0
        for name in serviceAccounts {
            for attempt in 1...3 {
                let account: ServiceAccount
                do {
                    account = try await client.get(ServiceAccount.self, namespace: namespace, name: name)
                } catch let error as KubeAPIError where error.isNotFound { break }
                let entries = account.imagePullSecrets ?? []
                var claims = ServiceAccountClaims(account.metadata.annotations?[Installation.serviceAccountAnnotation])
                let ours = claims.contains(installation, secretName: secretName)
                guard ours || claims.isUnclaimed(secretName: secretName) else { break }
                claims.remove(installation, secretName: secretName)
                let dropsEntry = entries.contains(where: { $0.name == secretName }) && claims.isUnclaimed(secretName: secretName)
                guard dropsEntry || ours else { break }
                if dryRun {
                    removed += dropsEntry ? 1 : 0
                    break
                }
                let patch = PullSecretsPatch(
                    resourceVersion: account.metadata.resourceVersion,
                    imagePullSecrets: dropsEntry ? entries.filter { $0.name != secretName } : entries,
                    claims: claims)
                do {
                    _ = try await client.mergePatch(ServiceAccount.self, namespace: namespace, name: name, patch: patch)
                } catch let error as KubeAPIError where error.isConflict && attempt < 3 {
                    continue
                }
                removed += dropsEntry ? 1 : 0
                break
            }
        }
        return removed
    }
}

/// The `aws-ecr-cred-helper/instances` annotation of a ServiceAccount: which installation added which
/// `imagePullSecrets` entry, as `instance=secret` pairs separated by commas, sorted. Pure.
public struct ServiceAccountClaims: Sendable, Hashable {
    public private(set) var pairs: Set<Pair>

    public struct Pair: Sendable, Hashable, Comparable {
        public var instance: String
        public var secretName: String
        public static func < (a: Pair, b: Pair) -> Bool { (a.instance, a.secretName) < (b.instance, b.secretName) }
    }

    public init(_ annotation: String?) {
        pairs = Set((annotation ?? "").split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingASCIIWhitespace() }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            return Pair(instance: parts[0], secretName: parts[1])
        })
    }

    /// The annotation's value; nil when no claim is left (the annotation is removed).
    public var annotation: String? {
        pairs.isEmpty ? nil : pairs.sorted().map { "\($0.instance)=\($0.secretName)" }.joined(separator: ",")
    }

    public func contains(_ installation: Installation, secretName: String) -> Bool {
        pairs.contains(Pair(instance: installation.label, secretName: secretName))
    }

    /// No installation claims an entry of this name.
    public func isUnclaimed(secretName: String) -> Bool { !pairs.contains { $0.secretName == secretName } }

    public mutating func insert(_ installation: Installation, secretName: String) {
        pairs.insert(Pair(instance: installation.label, secretName: secretName))
    }

    public mutating func remove(_ installation: Installation, secretName: String) {
        pairs.remove(Pair(instance: installation.label, secretName: secretName))
    }
}
