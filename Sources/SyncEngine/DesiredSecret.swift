#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import KubeClient

/// The pull secret every target namespace should hold, built once per refresh and reused for every write.
public struct DesiredSecret: Sendable, Hashable {
    public static let type = "kubernetes.io/dockerconfigjson"
    public static let dataKey = ".dockerconfigjson"
    public static let fieldManager = "aws-ecr-cred-helper"
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let annotationPrefix = "aws-ecr-cred-helper/"
    public static let expiresAtAnnotation = annotationPrefix + "expires-at"
    public static let refreshedAtAnnotation = annotationPrefix + "refreshed-at"
    public static let registriesAnnotation = annotationPrefix + "registries"

    public static let managedByValue = "aws-ecr-cred-helper"

    /// The labels every installation's secret carries; `labels` adds the installation's own.
    public static let commonLabels: [String: String] = [
        "app.kubernetes.io/name": "aws-ecr-cred-helper",
        "app.kubernetes.io/component": "registry-credentials",
        managedByLabel: managedByValue,
    ]

    public let name: String
    /// Whose secret this is: written as the `aws-ecr-cred-helper/instance` label.
    public let installation: Installation
    public var labels: [String: String] { Self.commonLabels.merging([Installation.labelKey: installation.label]) { $1 } }
    /// The `.dockerconfigjson` bytes: `{"auths":{<proxyEndpoint>:{"username","password","auth"}}}`.
    public let dockerConfigJSON: [UInt8]
    public let annotations: [String: String]
    public let login: RegistryLogin
    let contentDigest: SHA256Digest

    public init(name: String, installation: Installation, login: RegistryLogin) {
        self.name = name
        self.installation = installation
        self.login = login
        self.dockerConfigJSON = Self.dockerConfig(for: login.credentials)
        self.contentDigest = SHA256.hash(data: dockerConfigJSON)
        var annotations = [
            Self.refreshedAtAnnotation: KubeTime.time(login.fetchedAt),
            Self.registriesAnnotation: login.credentials.map(\.host).joined(separator: ","),
        ]
        if let expiry = login.earliestExpiry { annotations[Self.expiresAtAnnotation] = KubeTime.time(expiry) }
        self.annotations = annotations
    }

    /// The Secret to apply in `namespace`; without a namespace, the body shared by every namespace's apply.
    public func secret(in namespace: String?) -> Secret {
        Secret(
            name: name,
            namespace: namespace,
            type: Self.type,
            data: [Self.dataKey: dockerConfigJSON],
            labels: labels,
            annotations: annotations
        )
    }

    /// Whether `existing` already says what this secret says: then a resync writes nothing.
    /// A secret written before installations had a label is not: the write that adopts it adds the label.
    public func isSatisfied(by existing: ObservedSecret) -> Bool {
        existing.type == Self.type && existing.isManaged && existing.instance == installation.label && existing.contentDigest == contentDigest
    }

    public func isSatisfied(by existing: Secret) -> Bool { isSatisfied(by: ObservedSecret(existing)) }

    /// What this helper knows a namespace holds right after writing it there.
    var asObserved: ObservedSecret {
        ObservedSecret(type: Self.type, isManaged: true, contentDigest: contentDigest, instance: installation.label)
    }

    /// Whether a secret with our name may be written over: ours, an earlier version's or the original
    /// helper's (same type, no installation label), or absent. Another type, or another installation's
    /// label, belongs to someone else and is left alone.
    public func mayAdopt(_ existing: ObservedSecret) -> Bool {
        switch SecretOwnership(existing, installation: installation) {
        case .ours, .unclaimed, .original: true
        case .otherInstallation, .otherType: false
        }
    }

    public func mayAdopt(_ existing: Secret) -> Bool { mayAdopt(ObservedSecret(existing)) }

    /// Registries sorted, keys in a fixed order: the same tokens always give the same bytes, so comparing
    /// bytes tells whether a write is needed.
    static func dockerConfig(for credentials: [RegistryCredential]) -> [UInt8] {
        var json = "{\"auths\":{"
        var seen = Set<String>()
        var first = true
        for credential in credentials.sorted(by: { $0.registry < $1.registry }) where seen.insert(credential.registry).inserted {
            let auth = Data("\(credential.username):\(credential.password.value)".utf8).base64EncodedString()
            if !first { json += "," }
            first = false
            json += "\(JSONString.quote(credential.registry)):{\"username\":\(JSONString.quote(credential.username)),"
            json += "\"password\":\(JSONString.quote(credential.password.value)),\"auth\":\(JSONString.quote(auth))}"
        }
        json += "}}"
        return Array(json.utf8)
    }
}
