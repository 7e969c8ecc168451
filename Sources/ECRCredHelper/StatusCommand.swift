#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import SyncEngine

/// `status`: one row per target namespace: does the secret exist, who manages it, which registries, when
/// it was refreshed and when it expires. Reads only; makes no AWS call.
struct StatusCommand: Subcommand {
    static let name = "status"
    static let abstract = "Show, per target namespace, whether the secret exists, who manages it, its registries, and when it was refreshed and expires."
    static let discussion = "Reads the cluster only; needs no AWS credentials. EXPIRES is the token's expiry as the helper wrote it."
    static let concerns: [Setting.Concern] = [.locations, .kubernetes, .namespaces, .secret, .logging]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every target namespace holds an unexpired secret managed by the helper or adoptable by it"),
            (1, "status could not be read: a configuration problem or the API server unreachable (one line)"),
            (2, "some namespace's secret is missing, expired or foreign (the table says which)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let helperSettings = try invocation.settings.load()
        let kube = try invocation.oneShotKubeClient()
        let secrets: [String: Secret]
        var targets = helperSettings.namespaces.explicitNames
        do {
            try await KubeReachability.check(kube)
            let list = try await kube.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(helperSettings.secretName)")
            secrets = Dictionary(list.items.compactMap { s in s.metadata.namespace.map { ($0, s) } }) { a, _ in a }
            if !helperSettings.namespaces.isExplicitList {
                let namespaces = try await kube.list(Namespace.self, namespace: nil, labelSelector: helperSettings.namespaces.labelSelector?.description)
                targets = namespaces.items.compactMap { ns in
                    guard let name = ns.metadata.name, helperSettings.namespaces.selects(name: name, labels: ns.metadata.labels ?? [:]) else { return nil }
                    return name
                }.sorted()
            }
        } catch {
            try? await kube.shutdown()
            throw HelperFailure("\(error)")
        }
        try? await kube.shutdown()
        var table = TextTable(header: ["NAMESPACE", "SECRET", "MANAGED-BY", "REGISTRIES", "REFRESHED", "EXPIRES"])
        var allFresh = true
        let now = Date()
        for namespace in targets {
            guard let secret = secrets[namespace] else {
                table.rows.append([namespace, "missing", "-", "-", "-", "-"])
                allFresh = false
                continue
            }
            let annotations = secret.metadata.annotations ?? [:]
            let managedBy: String
            if secret.type != DesiredSecret.type {
                managedBy = "foreign (\(secret.type ?? "Opaque"))"
                allFresh = false
            } else if secret.metadata.labels?[DesiredSecret.managedByLabel] == "aws-ecr-cred-helper" {
                managedBy = "aws-ecr-cred-helper"
            } else {
                managedBy = "other (adoptable)"
            }
            let registries = annotations[DesiredSecret.registriesAnnotation] ?? registriesInConfig(secret)
            let expires = annotations[DesiredSecret.expiresAtAnnotation] ?? "-"
            var state = "present"
            if let expiry = KubeTime.parse(expires), expiry < now {
                state = "expired"
                allFresh = false
            }
            table.rows.append([namespace, state, managedBy, registries, annotations[DesiredSecret.refreshedAtAnnotation] ?? "-", expires])
        }
        print(table.render())
        if !allFresh { throw ExitStatus(code: 2) }
    }

    private func registriesInConfig(_ secret: Secret) -> String {
        struct Config: Decodable { var auths: [String: Empty]?; struct Empty: Decodable {} }
        guard let bytes = secret.decodedData(DesiredSecret.dataKey),
              let config = try? JSONDecoder().decode(Config.self, from: Data(bytes)) else { return "-" }
        return (config.auths?.keys.sorted() ?? []).joined(separator: ",")
    }
}
