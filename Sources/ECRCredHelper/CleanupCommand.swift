import ArgumentParser
import KubeClient
import SyncEngine

/// `cleanup`: for uninstall. Deletes the secrets this helper manages (found by name across all namespaces,
/// deleted only when labelled as ours) and removes its ServiceAccount references. Nothing else is touched.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove the secrets this helper manages (and its imagePullSecrets entries) from every namespace; nothing it does not own is touched."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Only print what would be removed.")
    var dryRun = false

    func run() async throws {
        let runtime = try Runtime.make(settings, logging)
        let values = runtime.settings.rawValues().0
        let secretName = values[HelperSettings.Key.secretName]?.trimmed ?? HelperSettings.defaultSecretName
        let accounts = Self.serviceAccounts(values)
        var failures = 0
        do {
            let list = try await runtime.kube.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(secretName)")
            let patcher = ServiceAccountPatcher(client: runtime.kube, logger: runtime.logger)
            for secret in list.items.sorted(by: { ($0.metadata.namespace ?? "") < ($1.metadata.namespace ?? "") }) {
                guard let namespace = secret.metadata.namespace else { continue }
                guard secret.metadata.labels?[DesiredSecret.managedByLabel] == "aws-ecr-cred-helper" else {
                    print("\(namespace)\tkept (not managed by aws-ecr-cred-helper)")
                    continue
                }
                if dryRun {
                    print("\(namespace)\twould remove")
                    continue
                }
                do {
                    try await patcher.remove(secretName: secretName, serviceAccounts: accounts, namespace: namespace)
                    try await runtime.kube.delete(Secret.self, namespace: namespace, name: secretName)
                    print("\(namespace)\tremoved")
                } catch {
                    failures += 1
                    printError("\(namespace): \(error)")
                }
            }
        } catch {
            await runtime.shutdown()
            throw HelperFailure("\(error) (cleanup needs list and delete on secrets named \(secretName))")
        }
        await runtime.shutdown()
        if failures > 0 { throw ExitCode(1) }
    }

    /// The ServiceAccounts whose entry to remove, from the raw settings rather than the validated ones:
    /// uninstall often happens after the AWS credentials are gone, and cleanup needs none of them.
    static func serviceAccounts(_ values: SettingValues) -> [String] {
        typealias K = HelperSettings.Key
        let enabled = values[K.patchServiceAccounts]?.trimmed.lowercased() ?? ""
        guard ["true", "1", "yes", "on"].contains(enabled) else { return [] }
        let names = (values[K.serviceAccounts]?.raw ?? "").split { $0 == "," || $0.isWhitespace }.map(String.init)
        return names.isEmpty ? ["default"] : names
    }
}
