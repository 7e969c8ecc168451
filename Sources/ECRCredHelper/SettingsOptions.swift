import ArgumentParser
import SyncEngine

/// Flags for every setting. Each also reads from the environment variable of the same name and from the
/// file of that name in the config folders; a flag wins over the environment, which wins over a file.
/// The AWS secret key and session token have no flags on purpose: a command line is visible to every
/// process on the node.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder with one file per setting (NAMESPACES, SECRET_NAME, ...).", valueName: "dir"))
    var configDir: String?

    @Option(help: ArgumentHelp("Folder with the AWS files (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, ...).", valueName: "dir"))
    var awsConfigDir: String?

    @Option(help: "Target namespaces, separated by spaces or commas; globs such as team-* or * allowed. (NAMESPACES)")
    var namespaces: String?

    @Option(help: "Namespaces to leave out, globs allowed. (EXCLUDE_NAMESPACES)")
    var excludeNamespaces: String?

    @Option(help: "Label selector choosing namespaces, e.g. ecr-pull=true. (NAMESPACE_SELECTOR)")
    var namespaceSelector: String?

    @Option(help: "Name of the pull secret; must match the ClusterRole's resourceNames. Default registry-aws-ecr. (SECRET_NAME)")
    var secretName: String?

    @Option(help: "AWS region of the registry. (AWS_REGION, AWS_DEFAULT_REGION)")
    var awsRegion: String?

    @Option(help: "Several AWS regions, one token each, merged into one secret. (AWS_REGIONS)")
    var awsRegions: String?

    @Option(help: "AWS account ids whose registries go into the secret; default the caller's own. (REGISTRY_IDS)")
    var registryIds: String?

    @Option(help: "AWS access key id; the secret key is read from the environment or the AWS config folder only. (AWS_ACCESS_KEY_ID)")
    var awsAccessKeyId: String?

    @Option(help: "Role to assume with the credentials, or with a web identity token. (AWS_ROLE_ARN)")
    var awsRoleArn: String?

    @Option(help: "Upper bound between token refreshes. Default 11h30m. (REFRESH_INTERVAL)")
    var refreshInterval: String?

    @Option(help: "Refresh at least this long before a token expires. Default 1h. (REFRESH_MARGIN)")
    var refreshMargin: String?

    @Option(help: "Refresh after this fraction of a token's lifetime. Default 0.5. (REFRESH_FRACTION)")
    var refreshFraction: String?

    @Option(help: "How often everything is re-checked without a new token. Default 5m. (RESYNC_INTERVAL)")
    var resyncInterval: String?

    @Option(help: "Add the secret to imagePullSecrets of ServiceAccounts: true or false. (PATCH_SERVICE_ACCOUNTS)")
    var patchServiceAccounts: String?

    @Option(help: "ServiceAccounts to patch. Default default. (SERVICE_ACCOUNTS)")
    var serviceAccounts: String?

    @Option(help: "Delete our secret from namespaces that stop matching: true or false. (PRUNE_UNSELECTED)")
    var pruneUnselected: String?

    @Option(help: "Namespace writes in flight at once, at most; lowered automatically while the API server throttles. Default 32. (CONCURRENCY)")
    var concurrency: String?

    @Option(help: "Client-side limit of Kubernetes API requests per second, as client-go's QPS. Default 0 (no limit). (KUBE_API_QPS)")
    var kubeApiQps: String?

    @Option(help: "Requests that may go at once under KUBE_API_QPS, as client-go's Burst. Default: the QPS rounded up. (KUBE_API_BURST)")
    var kubeApiBurst: String?

    @Option(help: ArgumentHelp("Kubeconfig to use outside a pod. ($KUBECONFIG, then ~/.kube/config)", valueName: "path"))
    var kubeconfig: String?

    @Option(help: "Kubeconfig context. Default: the current context.")
    var context: String?

    /// Flag values by setting key, for `FileSettingsSource`.
    var byKey: [String: String] {
        typealias K = HelperSettings.Key
        var flags: [String: String] = [:]
        flags[K.namespaces] = namespaces
        flags[K.excludeNamespaces] = excludeNamespaces
        flags[K.namespaceSelector] = namespaceSelector
        flags[K.secretName] = secretName
        flags[K.region] = awsRegion
        flags[K.regions] = awsRegions
        flags[K.registryIDs] = registryIds
        flags[K.accessKeyID] = awsAccessKeyId
        flags[K.roleARN] = awsRoleArn
        flags[K.refreshInterval] = refreshInterval
        flags[K.refreshMargin] = refreshMargin
        flags[K.refreshFraction] = refreshFraction
        flags[K.resyncInterval] = resyncInterval
        flags[K.patchServiceAccounts] = patchServiceAccounts
        flags[K.serviceAccounts] = serviceAccounts
        flags[K.pruneUnselected] = pruneUnselected
        flags[K.concurrency] = concurrency
        flags[K.apiQPS] = kubeApiQps
        flags[K.apiBurst] = kubeApiBurst
        return flags
    }

    func settingsSource(environment: [String: String]) -> FileSettingsSource {
        FileSettingsSource(
            configDirectory: configDir ?? environment["CONFIG_DIR"] ?? "/config",
            awsConfigDirectory: awsConfigDir ?? environment["AWS_CONFIG_DIR"] ?? "/config-aws",
            environment: environment,
            flags: byKey
        )
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning, error or critical. Default info. (LOG_LEVEL)")
    var logLevel: String?

    @Option(help: "text or json. Default text. (LOG_FORMAT)")
    var logFormat: String?
}
