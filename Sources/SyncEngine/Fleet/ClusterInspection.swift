#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient

/// What `status` reads of one cluster: a row per target namespace, and the fleet's one-line summary of
/// those rows. Reads only; no AWS call.
public enum ClusterInspection {
    /// What a target namespace holds under the secret's name.
    public enum SecretState: String, Sendable, Equatable {
        case present, missing, expired
    }

    public struct Row: Sendable, Equatable {
        public var namespace: String
        public var state: SecretState
        /// `aws-ecr-cred-helper`, `other (adoptable)`, `installation <instance>` (another installation's),
        /// `foreign (type)`, `-`.
        public var managedBy: String
        public var registries: String
        /// The installation the secret is labelled with (`aws-ecr-cred-helper/instance`), if any.
        public var installation: String?
        public var refreshed: String
        public var expires: String
        /// Present, ours or adoptable, not expired.
        public var isFresh: Bool
    }

    /// The rows of every target namespace of `settings` in the cluster `client` reaches.
    public static func rows(_ client: KubernetesClient, settings: HelperSettings, now: Date = Date()) async throws -> [Row] {
        let list = try await client.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(settings.secretName)")
        let secrets = Dictionary(list.items.compactMap { s in s.metadata.namespace.map { ($0, s) } }) { a, _ in a }
        var targets = settings.namespaces.explicitNames
        if !settings.namespaces.isExplicitList {
            let namespaces = try await client.list(Namespace.self, namespace: nil, labelSelector: settings.namespaces.labelSelector?.description)
            targets = namespaces.items.compactMap { namespace in
                guard let name = namespace.metadata.name, settings.namespaces.selects(name: name, labels: namespace.metadata.labels ?? [:]) else { return nil }
                return name
            }.sorted()
        }
        return targets.map { row($0, secrets[$0], installation: settings.installation, now: now) }
    }

    static func row(_ namespace: String, _ secret: Secret?, installation: Installation, now: Date) -> Row {
        guard let secret else {
            return Row(namespace: namespace, state: .missing, managedBy: "-", registries: "-", installation: nil, refreshed: "-", expires: "-", isFresh: false)
        }
        let annotations = secret.metadata.annotations ?? [:]
        var fresh = true
        let managedBy: String
        switch SecretOwnership(ObservedSecret(secret), installation: installation) {
        case .otherType(let type):
            managedBy = "foreign (\(type))"
            fresh = false
        case .otherInstallation(let other):
            // Not this installation's to keep fresh: `sync` reports it as foreign too.
            managedBy = "installation \(other)"
            fresh = false
        case .ours, .unclaimed: managedBy = "aws-ecr-cred-helper"
        case .original: managedBy = "other (adoptable)"
        }
        let expires = annotations[DesiredSecret.expiresAtAnnotation] ?? "-"
        var state = SecretState.present
        if let expiry = KubeTime.parse(expires), expiry < now {
            state = .expired
            fresh = false
        }
        return Row(
            namespace: namespace, state: state, managedBy: managedBy, registries: annotations[DesiredSecret.registriesAnnotation] ?? registriesInConfig(secret),
            installation: secret.metadata.labels?[Installation.labelKey],
            refreshed: annotations[DesiredSecret.refreshedAtAnnotation] ?? "-", expires: expires, isFresh: fresh)
    }

    static func registriesInConfig(_ secret: Secret) -> String {
        struct Config: Decodable { var auths: [String: Empty]?; struct Empty: Decodable {} }
        guard let bytes = secret.decodedData(DesiredSecret.dataKey),
              let config = try? JSONDecoder().decode(Config.self, from: Data(bytes)) else { return "-" }
        return (config.auths?.keys.sorted() ?? []).joined(separator: ",")
    }

    /// One cluster's line in the fleet's `status`.
    public struct Summary: Sendable {
        public var cluster: String
        public var server: String
        /// `ok`, `stale` (some namespace missing, expired or foreign), or the reason the cluster could not be read.
        public var state: String
        public var fresh: Int
        public var targets: Int
        /// The earliest expiry among the namespaces' secrets.
        public var earliestExpiry: String
        public var source: String

        public var isOK: Bool { state == "ok" }

        /// The state's kind: `ok`, `stale`, or `unreadable` (then `state` is the reason).
        public enum Condition: String, Sendable { case ok, stale, unreadable }
        public var condition: Condition { state == "ok" ? .ok : state == "stale" ? .stale : .unreadable }
    }

    public static func summary(cluster: String, server: String, source: String, rows: [Row]) -> Summary {
        let fresh = rows.filter(\.isFresh).count
        let earliest = rows.compactMap { KubeTime.parse($0.expires) }.min().map { KubeTime.time($0) } ?? "-"
        return Summary(
            cluster: cluster, server: server, state: fresh == rows.count ? "ok" : "stale", fresh: fresh, targets: rows.count,
            earliestExpiry: earliest, source: source)
    }

    public static func unreadable(cluster: String, server: String, source: String, reason: String) -> Summary {
        Summary(cluster: cluster, server: server, state: reason, fresh: 0, targets: 0, earliestExpiry: "-", source: source)
    }
}
