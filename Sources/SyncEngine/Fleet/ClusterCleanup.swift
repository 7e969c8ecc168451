import KubeClient
import Logging

/// What `cleanup` does in one cluster, for the single-cluster command and each cluster of a fleet alike:
/// lists the secrets of our name (one list across namespaces), decides per secret with
/// `CleanupDecision` (pure), then removes this installation's: the secret and the `imagePullSecrets` entries
/// it claims. Nothing another installation or anyone else wrote is touched.
public enum ClusterCleanup {
    /// What cleanup is asked to remove: this installation's objects, in the namespaces its settings select
    /// (or, with `--all-namespaces`, its labelled secrets in every namespace).
    public struct Scope: Sendable {
        public var installation: Installation
        public var secretName: String
        public var serviceAccounts: [String]
        public var namespaces: NamespaceSelection
        public var allNamespaces: Bool

        public init(installation: Installation, secretName: String, serviceAccounts: [String], namespaces: NamespaceSelection, allNamespaces: Bool) {
            self.installation = installation
            self.secretName = secretName
            self.serviceAccounts = serviceAccounts
            self.namespaces = namespaces
            self.allNamespaces = allNamespaces
        }
    }

    /// The decision for every secret of our name in one cluster, namespaces sorted.
    public struct Plan: Sendable {
        public var actions: [(namespace: String, action: CleanupDecision.Action)]
        public var toRemove: Int { actions.count { $0.action == .remove } }
    }

    /// Lists and decides; writes nothing. Throws when the secrets (or, for NAMESPACE_SELECTOR, the
    /// namespaces) cannot be listed.
    public static func plan(_ client: KubernetesClient, scope: Scope) async throws -> Plan {
        let list = try await client.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(scope.secretName)")
        var labelsByNamespace: [String: [String: String]]?
        if let selector = scope.namespaces.labelSelector {
            let namespaces = try await client.list(Namespace.self, namespace: nil, labelSelector: selector.description)
            labelsByNamespace = Dictionary(namespaces.items.compactMap { namespace in
                namespace.metadata.name.map { ($0, namespace.metadata.labels ?? [:]) }
            }, uniquingKeysWith: { first, _ in first })
        }
        var actions: [(namespace: String, action: CleanupDecision.Action)] = []
        for secret in list.items.sorted(by: { ($0.metadata.namespace ?? "") < ($1.metadata.namespace ?? "") }) {
            guard let namespace = secret.metadata.namespace else { continue }
            let selected: Bool
            if let labelsByNamespace {
                // Listed with the selector: a namespace it does not match is not in the list.
                selected = labelsByNamespace[namespace].map { scope.namespaces.selects(name: namespace, labels: $0) } ?? false
            } else {
                selected = scope.namespaces.selects(name: namespace, labels: [:])
            }
            let ownership = SecretOwnership(ObservedSecret(secret), installation: scope.installation)
            actions.append((namespace, CleanupDecision.decide(ownership: ownership, selected: selected, allNamespaces: scope.allNamespaces)))
        }
        return Plan(actions: actions)
    }

    /// Carries the plan out (with `dryRun`, only reads what it would remove). Never throws: a namespace that
    /// fails is a `.failed` line and is counted. `progress` is called after each removal with how many
    /// are done.
    public static func execute(
        _ client: KubernetesClient, plan: Plan, scope: Scope, dryRun: Bool, logger: Logger,
        progress: @Sendable (_ done: Int) -> Void = { _ in }
    ) async -> CleanupReport {
        let patcher = ServiceAccountPatcher(client: client, logger: logger)
        var report = CleanupReport()
        var done = 0
        for (namespace, action) in plan.actions {
            switch action {
            case .remove:
                do {
                    let entries = try await patcher.remove(
                        secretName: scope.secretName, installation: scope.installation, serviceAccounts: scope.serviceAccounts,
                        namespace: namespace, dryRun: dryRun)
                    if !dryRun {
                        do {
                            try await client.delete(Secret.self, namespace: namespace, name: scope.secretName)
                        } catch let error as KubeAPIError where error.isNotFound {
                            // Gone since the list: what cleanup wanted.
                        }
                    }
                    report.secrets += 1
                    report.serviceAccountEntries += entries
                    report.lines.append((namespace, dryRun ? .wouldRemove : .removed))
                    done += 1
                    if !dryRun { progress(done) }
                } catch {
                    report.failures += 1
                    report.lines.append((namespace, .failed("\(error)")))
                }
            case .keepUnmanaged: report.lines.append((namespace, .kept))
            case .keepOtherInstallation(let other):
                report.otherInstallations += 1
                report.byInstallation[other, default: 0] += 1
                report.lines.append((namespace, .keptOtherInstallation(other)))
            case .leaveOtherInstallation(let other):
                report.otherInstallations += 1
                if let other { report.byInstallation[other, default: 0] += 1 }
            case .leaveOutsideSelection: report.ownOutside += 1
            case .ignore: break
            }
        }
        return report
    }
}

/// The pure part of cleanup: what to do with one secret of our name.
public enum CleanupDecision {
    public enum Action: Sendable, Hashable {
        /// This installation's: removed (with its ServiceAccount entries).
        case remove
        /// In a selected namespace, not the helper's (another type, or the original helper's): kept and listed.
        case keepUnmanaged
        /// In a selected namespace, another installation's: kept and listed.
        case keepOtherInstallation(String)
        /// Outside the selected namespaces, another installation's (named), or one without an installation
        /// label (nil: it belongs to whoever serves its namespace): left, counted in the summary.
        case leaveOtherInstallation(String?)
        /// This installation's, outside the selected namespaces (NAMESPACES changed since it was written):
        /// left unless `--all-namespaces`, counted in the summary.
        case leaveOutsideSelection
        /// Not the helper's, outside the selected namespaces: not mentioned.
        case ignore
    }

    /// `--all-namespaces` widens the namespaces, never the ownership: it removes this installation's
    /// labelled secrets everywhere, and a secret without an installation label (an earlier version's) only
    /// where this installation's settings select the namespace, as the running helper would adopt it.
    public static func decide(ownership: SecretOwnership, selected: Bool, allNamespaces: Bool) -> Action {
        switch ownership {
        case .ours: selected || allNamespaces ? .remove : .leaveOutsideSelection
        case .unclaimed: selected ? .remove : .leaveOtherInstallation(nil)
        case .otherInstallation(let other): selected ? .keepOtherInstallation(other) : .leaveOtherInstallation(other)
        case .original, .otherType: selected ? .keepUnmanaged : .ignore
        }
    }
}

/// What cleanup did (or would do) in one cluster or, summed, in a fleet.
public struct CleanupReport: Sendable {
    public enum Outcome: Sendable, Equatable {
        case removed
        case wouldRemove
        case kept
        case keptOtherInstallation(String)
        case failed(String)

        /// The third column of `cleanup`'s lines (`<namespace>\t<text>`).
        public var text: String {
            switch self {
            case .removed: "removed"
            case .wouldRemove: "would remove"
            case .kept: "kept (not managed by aws-ecr-cred-helper)"
            case .keptOtherInstallation(let other): "kept (installation \(other))"
            case .failed(let reason): "failed: \(reason)"
            }
        }
    }

    /// A line per namespace worth one, sorted by namespace.
    public var lines: [(namespace: String, outcome: Outcome)] = []
    /// Secrets removed (or that would be), one per namespace.
    public var secrets = 0
    public var serviceAccountEntries = 0
    /// Secrets of other installations (or without an installation label, outside the selected namespaces).
    public var otherInstallations = 0
    /// This installation's secrets outside the selected namespaces, left without `--all-namespaces`.
    public var ownOutside = 0
    /// The other installations' labelled secrets, by instance: for the hint when none was this one's.
    public var byInstallation: [String: Int] = [:]
    public var failures = 0

    public init() {}

    public static func + (a: CleanupReport, b: CleanupReport) -> CleanupReport {
        var sum = a
        sum.lines += b.lines
        sum.secrets += b.secrets
        sum.serviceAccountEntries += b.serviceAccountEntries
        sum.otherInstallations += b.otherInstallations
        sum.ownOutside += b.ownOutside
        sum.byInstallation.merge(b.byInstallation, uniquingKeysWith: +)
        sum.failures += b.failures
        return sum
    }

    /// The one line cleanup ends with, e.g. `removed 12 secrets and 3 ServiceAccount entries in 12
    /// namespaces; left 4,980 secrets of other installations`. One secret per namespace, so the namespaces
    /// are the secrets counted.
    public func summary(dryRun: Bool) -> String {
        var line = "\(dryRun ? "would remove" : "removed") \(Self.count(secrets, "secret")) and "
            + "\(Self.count(serviceAccountEntries, "ServiceAccount entry", "ServiceAccount entries")) in \(Self.count(secrets, "namespace"))"
        if otherInstallations > 0 {
            line += "; left \(Self.count(otherInstallations, "secret")) of other installations"
        }
        if ownOutside > 0 {
            line += "; left \(Self.count(ownOutside, "secret")) of this installation outside the selected namespaces (--all-namespaces removes them)"
        }
        if failures > 0 { line += "; \(failures) failed" }
        return line
    }

    /// When nothing of this installation was found but others' secrets were: which installations they are,
    /// most secrets first (a few), so that a user who ran cleanup with the wrong identity (from a workstation,
    /// without the pod's INSTANCE) sees which one to give. Nil otherwise.
    public func otherInstallationsHint(_ installation: Installation, shown: Int = 3) -> String? {
        guard secrets == 0, ownOutside == 0, failures == 0, !byInstallation.isEmpty else { return nil }
        let ranked = byInstallation.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var names = ranked.prefix(shown).map { "\($0.key) (\(Self.grouped($0.value)))" }
        if ranked.count > shown { names.append("\(ranked.count - shown) more") }
        return "no secret of installation \(installation) was found; the helper's secrets here belong to installations \(names.joined(separator: ", ")): give --instance to clean up one of them"
    }

    /// `1 secret`, `4,980 secrets`.
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(grouped(n)) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    /// Thousands separated by commas, whatever the locale: the line is an interface.
    static func grouped(_ n: Int) -> String {
        var digits = String(n.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(digits.suffix(3), at: 0)
            digits = String(digits.dropLast(3))
        }
        groups.insert(Substring(digits), at: 0)
        return (n < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
