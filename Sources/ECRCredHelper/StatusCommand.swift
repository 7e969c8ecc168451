#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import KubeClient
import SyncEngine

/// `status`: one row per target namespace: does the secret exist, who manages it, which registries, when
/// it was refreshed and when it expires. Reads only; makes no AWS call.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per target namespace, whether the secret exists, who manages it, its registries, and when it was refreshed and expires."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let runtime = try Runtime.make(settings, logging)
        let helperSettings: HelperSettings
        do { helperSettings = try runtime.settings.load() } catch {
            await runtime.shutdown()
            throw HelperFailure(error.problems.joined(separator: "\n"))
        }
        let secrets: [String: Secret]
        var targets = helperSettings.namespaces.explicitNames
        do {
            let list = try await runtime.kube.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(helperSettings.secretName)")
            secrets = Dictionary(list.items.compactMap { s in s.metadata.namespace.map { ($0, s) } }) { a, _ in a }
            if !helperSettings.namespaces.isExplicitList {
                let namespaces = try await runtime.kube.list(Namespace.self, namespace: nil, labelSelector: helperSettings.namespaces.labelSelector?.description)
                targets = namespaces.items.compactMap { ns in
                    guard let name = ns.metadata.name, helperSettings.namespaces.selects(name: name, labels: ns.metadata.labels ?? [:]) else { return nil }
                    return name
                }.sorted()
            }
        } catch {
            await runtime.shutdown()
            throw HelperFailure("\(error)")
        }
        await runtime.shutdown()
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
        if !allFresh { throw ExitCode(1) }
    }

    private func registriesInConfig(_ secret: Secret) -> String {
        struct Config: Decodable { var auths: [String: Empty]?; struct Empty: Decodable {} }
        guard let bytes = secret.decodedData(DesiredSecret.dataKey),
              let config = try? JSONDecoder().decode(Config.self, from: Data(bytes)) else { return "-" }
        return (config.auths?.keys.sorted() ?? []).joined(separator: ",")
    }
}
