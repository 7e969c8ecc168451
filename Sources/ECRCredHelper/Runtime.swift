#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KubeClient
import Logging
import SyncEngine

extension Invocation {
    /// The settings source of this command line for `concerns`: files in the settings folders (from
    /// --config-dir/CONFIG_DIR and --aws-config-dir/AWS_CONFIG_DIR), the environment, the flags.
    func source(concerns: some Sequence<Setting.Concern>) -> FileSettingsSource {
        func location(_ setting: Setting) -> String {
            (flags[setting] ?? environment[setting.key]).map { $0.trimmingASCIIWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
                ?? setting.declaration.defaultValue ?? "/"
        }
        return FileSettingsSource(
            configDirectory: location(.configDirectory), awsConfigDirectory: location(.awsConfigDirectory),
            environment: environment, flags: flags, concerns: Set(concerns)
        )
    }

    /// The settings folders this command reads, given as a flag or variable, that are not there: a line each,
    /// said once at start. Not a failure: a mounted folder may be absent on purpose (optional files), and
    /// every setting may come from the environment or a flag instead.
    func absentSettingsFolders() -> [String] {
        [Setting.configDirectory, .awsConfigDirectory].compactMap { setting in
            guard command.settings.contains(setting) || command.tolerated.contains(setting) else { return nil }
            let origin = flags[setting] != nil ? "flag --\(setting.flag ?? "")" : "environment \(setting.key)"
            guard let given = (flags[setting] ?? environment[setting.key])?.trimmingASCIIWhitespace(), !given.isEmpty else { return nil }
            var info = stat()
            if stat(given, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return nil }
            return "\(setting.key) (\(origin)): the folder \(given) does not exist; no setting is read from files there, only from the environment and flags"
        }
    }

    /// The settings source of this command's concerns.
    var settings: FileSettingsSource { source(concerns: command.concerns) }

    /// The Kubernetes configuration as kubectl finds it (--kubeconfig, KUBECONFIG merged, in-cluster,
    /// ~/.kube/config), with --context and --namespace applied.
    func kubeConfiguration() throws -> KubeConfiguration {
        let values = source(concerns: [.kubernetes]).read().0
        do {
            // --kubeconfig names one file; the KUBECONFIG variable may list several (resolve merges them).
            return try KubeConfiguration.resolve(
                kubeconfigPath: flags[.kubeconfig], context: values.string(.context), namespace: values.string(.namespace),
                environment: environment
            )
        } catch {
            throw HelperFailure("Kubernetes configuration: \(error)")
        }
    }

    /// A client for one-shot commands: a connection the server refuses fails at once instead of being
    /// retried until the connect timeout, so that `status`, `check`, `sync` and `cleanup` say so within
    /// a second or two.
    func oneShotKubeClient() throws -> KubernetesClient {
        var configuration = try kubeConfiguration()
        configuration.retriesFailedConnections = false
        return try KubernetesClient(configuration: configuration, logger: logger)
    }

    func tokenSource() throws -> ECRTokenSource {
        try ECRTokenSource(environment: environment, logger: logger)
    }
}

/// One line for a failure to reach the API server, for one-shot commands: the server, the cause in plain
/// words, and the fix.
enum KubeReachability {
    /// Asks the server for its version (any authenticated or anonymous client may): a transport failure
    /// throws one `HelperFailure` line; any HTTP answer, even 401 or 403, means the server is reachable.
    static func check(_ client: KubernetesClient) async throws {
        do {
            try await client.ping()
        } catch let error as KubeTransportError {
            throw HelperFailure(error.description)
        } catch let error as KubeAPIError where error.isUnauthorized {
            throw HelperFailure("the Kubernetes API server at \(client.configuration.server) did not accept the credentials (401 Unauthorized, auth: \(client.configuration.auth)); check the token, client certificate or exec plugin of the kubeconfig user")
        } catch is KubeAPIError {
            // Any other answer: the server is there (403 or 404 on /version say nothing about the rest).
        }
    }
}
