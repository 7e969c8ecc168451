/// Every setting of the helper, declared once: its name (the environment variable and the file name), its
/// flag, where files of it are read, its default and its help. Files, environment, flags, `--help`, the
/// README's table and the parsers all work from this declaration; adding a setting is a case here and its
/// use in the parser of its concern (`HelperSettings+Parsing.swift`, `ProcessSettings.swift`).
public enum Setting: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    // Where the settings files are.
    case configDirectory = "CONFIG_DIR"
    case awsConfigDirectory = "AWS_CONFIG_DIR"
    // The cluster.
    case kubeconfig = "KUBECONFIG"
    case context = "CONTEXT"
    case namespace = "NAMESPACE"
    // The fleet's clusters.
    case clustersDirectory = "CLUSTERS_DIR"
    case clusterSecretSelector = "CLUSTER_SECRET_SELECTOR"
    case cluster = "CLUSTER"
    case fleetGroup = "FLEET_GROUP"
    // Which namespaces.
    case namespaces = "NAMESPACES"
    case excludeNamespaces = "EXCLUDE_NAMESPACES"
    case namespaceSelector = "NAMESPACE_SELECTOR"
    // The secret.
    case secretName = "SECRET_NAME"
    case instance = "INSTANCE"
    // AWS.
    case accessKeyID = "AWS_ACCESS_KEY_ID"
    case secretAccessKey = "AWS_SECRET_ACCESS_KEY"
    case sessionToken = "AWS_SESSION_TOKEN"
    case region = "AWS_REGION"
    case defaultRegion = "AWS_DEFAULT_REGION"
    case regions = "AWS_REGIONS"
    case registryIDs = "REGISTRY_IDS"
    case roleARN = "AWS_ROLE_ARN"
    case externalID = "AWS_EXTERNAL_ID"
    case roleSessionName = "AWS_ROLE_SESSION_NAME"
    case webIdentityTokenFile = "AWS_WEB_IDENTITY_TOKEN_FILE"
    case rolesAnywhereCertificate = "AWS_ROLES_ANYWHERE_CERTIFICATE"
    case rolesAnywherePrivateKey = "AWS_ROLES_ANYWHERE_PRIVATE_KEY"
    case rolesAnywhereTrustAnchorARN = "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN"
    case rolesAnywhereProfileARN = "AWS_ROLES_ANYWHERE_PROFILE_ARN"
    case rolesAnywhereSessionDuration = "AWS_ROLES_ANYWHERE_SESSION_DURATION"
    // When.
    case refreshInterval = "REFRESH_INTERVAL"
    case refreshFraction = "REFRESH_FRACTION"
    case refreshMargin = "REFRESH_MARGIN"
    case resyncInterval = "RESYNC_INTERVAL"
    // ServiceAccounts.
    case patchServiceAccounts = "PATCH_SERVICE_ACCOUNTS"
    case serviceAccounts = "SERVICE_ACCOUNTS"
    // Writes.
    case pruneUnselected = "PRUNE_UNSELECTED"
    case concurrency = "CONCURRENCY"
    case apiQPS = "KUBE_API_QPS"
    case apiBurst = "KUBE_API_BURST"
    // One `sync` pass.
    case syncTimeout = "SYNC_TIMEOUT"
    // The process.
    case httpPort = "HTTP_PORT"
    case metricsPerNamespace = "METRICS_PER_NAMESPACE"
    case leaderElection = "LEADER_ELECTION"
    case leaderElectionNamespace = "LEADER_ELECTION_NAMESPACE"
    case leaderElectionLeaseName = "LEADER_ELECTION_LEASE_NAME"
    case leaderElectionLeaseDuration = "LEADER_ELECTION_LEASE_DURATION"
    case leaderElectionRenewDeadline = "LEADER_ELECTION_RENEW_DEADLINE"
    case podName = "POD_NAME"
    case podNamespace = "POD_NAMESPACE"
    case logLevel = "LOG_LEVEL"
    case logFormat = "LOG_FORMAT"

    /// The setting's name: the environment variable and the file that hold it.
    public var key: String { rawValue }
    public var description: String { rawValue }

    /// The settings each command reads: a command shows, reads and validates only its concerns.
    public enum Concern: String, CaseIterable, Sendable, Hashable {
        case locations, awsLocation, kubernetes, fleet, fleetCluster, fleetScale, namespaces, secret, aws, schedule, serviceAccounts, writes, syncPass,
            listener, leaderElection, pod, logging

        /// The heading of the concern's settings in `--help`.
        public var title: String {
            switch self {
            case .locations, .awsLocation: "Settings files"
            case .kubernetes: "Kubernetes connection"
            case .fleet, .fleetCluster, .fleetScale: "Fleet (docs/fleet.md)"
            case .namespaces: "Target namespaces"
            case .secret: "The pull secret"
            case .aws: "AWS"
            case .schedule: "Schedule"
            case .serviceAccounts: "ServiceAccounts"
            case .writes: "Writes"
            case .syncPass: "The pass"
            case .listener: "HTTP endpoints"
            case .leaderElection: "Leader election"
            case .pod: "The helper's Pod (downward API)"
            case .logging: "Logging"
            }
        }
    }

    /// Which settings folder holds a file of this setting.
    public enum Folder: Sendable, Hashable {
        /// `--config-dir` (default `/config`).
        case config
        /// `--aws-config-dir` (default `/config-aws`).
        case aws
    }

    /// What one declaration says about a setting.
    public struct Declaration: Sendable {
        public var concern: Concern
        /// Folders holding a file of this name, tried in order; empty: no file.
        public var folders: [Folder] = []
        /// Whether the environment variable of this name is read.
        public var environment = true
        /// The flag, `--name`; nil: none (secrets: a command line is visible to every process on the node).
        public var flag: String?
        /// The kind of value, for `--help` (`<list>`, `<duration>`).
        public var valueName = "value"
        /// The default as a user would write it; nil: none.
        public var defaultValue: String?
        /// What the setting does, in one or two sentences.
        public var help: String
    }

    // The declarations. `flag: .derived` means the key in lower case with dashes (NAMESPACES -> --namespaces).
    public var declaration: Declaration {
        switch self {
        case .configDirectory:
            Declaration(concern: .locations, flag: "config-dir", valueName: "dir", defaultValue: "/config",
                help: "Folder with one file per setting (NAMESPACES, SECRET_NAME, ...), as the original helper mounted them.")
        case .awsConfigDirectory:
            Declaration(concern: .awsLocation, flag: "aws-config-dir", valueName: "dir", defaultValue: "/config-aws",
                help: "Folder with the AWS files (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, ...).")
        case .kubeconfig:
            Declaration(concern: .kubernetes, flag: "kubeconfig", valueName: "path",
                help: "Kubeconfig for use outside a pod; KUBECONFIG may list several files separated by ':', merged as kubectl merges them. Without it: ~/.kube/config, else in-cluster.")
        case .context:
            Declaration(concern: .kubernetes, environment: false, flag: "context", valueName: "name",
                help: "Kubeconfig context to use instead of the current-context.")
        case .namespace:
            Declaration(concern: .kubernetes, environment: false, flag: "namespace", valueName: "name",
                help: "The helper's own namespace outside a pod (its Lease and Events), instead of the context's namespace. Not a target: see --namespaces.")
        case .clustersDirectory:
            Declaration(concern: .fleet, flag: "clusters-dir", valueName: "dir",
                help: "Fleet mode: a folder of kubeconfig files, one cluster each, named by the file (edge-1.yaml is edge-1); re-read when it changes.")
        case .clusterSecretSelector:
            Declaration(concern: .fleet, flag: "cluster-secret-selector", valueName: "selector",
                help: "Fleet mode: a label selector for kubeconfig Secrets in the helper's namespace (Cluster API <cluster>-kubeconfig, Argo CD cluster Secrets, or a kubeconfig key), watched.")
        case .fleetGroup:
            Declaration(concern: .fleetScale, flag: "fleet-group", valueName: "name",
                help: "Fleet mode scaled out: replicas with the same group share the clusters through membership Leases in the helper's namespace (docs/fleet-scale-out.md).")
        case .cluster:
            Declaration(concern: .fleetCluster, environment: false, flag: "cluster", valueName: "name",
                help: "Only this cluster of the fleet (its name in status; local is the helper's own).")
        case .namespaces:
            Declaration(concern: .namespaces, folders: [.config], flag: derived, valueName: "list",
                help: "Target namespaces, separated by spaces, commas or newlines; globs such as team-* or * allowed. Required unless NAMESPACE_SELECTOR is set.")
        case .excludeNamespaces:
            Declaration(concern: .namespaces, folders: [.config], flag: derived, valueName: "list",
                help: "Namespaces to leave out, separated by spaces, commas or newlines; globs allowed.")
        case .namespaceSelector:
            Declaration(concern: .namespaces, folders: [.config], flag: derived, valueName: "selector",
                help: "Label selector choosing namespaces: ecr-pull=true, env in (a,b), !legacy.")
        case .secretName:
            Declaration(concern: .secret, folders: [.config], flag: derived, valueName: "name", defaultValue: HelperSettings.defaultSecretName,
                help: "Name of the pull secret; must match the resourceNames of the ClusterRole.")
        case .instance:
            Declaration(concern: .secret, folders: [.config], flag: derived, valueName: "name", defaultValue: "POD_NAMESPACE/SECRET_NAME in a pod, else SECRET_NAME",
                help: "This installation's name, labelled on its secrets (aws-ecr-cred-helper/instance): it never writes, prunes or cleans up another installation's. Set it when several installations share a secret name.")
        case .accessKeyID:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "id",
                help: "AWS access key id of the IAM user.")
        case .secretAccessKey:
            Declaration(concern: .aws, folders: [.aws], flag: nil, valueName: "key",
                help: "AWS secret access key (file or environment only: a command line is visible to every process).")
        case .sessionToken:
            Declaration(concern: .aws, folders: [.aws], flag: nil, valueName: "token",
                help: "Session token of temporary AWS keys (file or environment only).")
        case .region:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "region",
                help: "AWS region of the registry; wins over AWS_DEFAULT_REGION, as in the AWS SDKs.")
        case .defaultRegion:
            Declaration(concern: .aws, folders: [.aws], flag: nil, valueName: "region",
                help: "AWS region of the registry (the original helper's file).")
        case .regions:
            Declaration(concern: .aws, folders: [.config, .aws], flag: derived, valueName: "list",
                help: "Several AWS regions, separated by spaces, commas or newlines: one token each, merged into one secret.")
        case .registryIDs:
            Declaration(concern: .aws, folders: [.config, .aws], flag: derived, valueName: "list", defaultValue: "the caller's account",
                help: "AWS account ids (12 digits) whose registries go into the secret, each under its own host.")
        case .roleARN:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "arn",
                help: "Role to assume with the keys, the web identity token, or the IAM Roles Anywhere certificate.")
        case .externalID:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "id",
                help: "External id for assuming AWS_ROLE_ARN.")
        case .roleSessionName:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "name",
                help: "Session name for assuming AWS_ROLE_ARN (IAM Roles Anywhere: the profile must accept role session names).")
        case .webIdentityTokenFile:
            Declaration(concern: .aws, flag: derived, valueName: "path",
                help: "Projected ServiceAccount token for AWS_ROLE_ARN (sts:AssumeRoleWithWebIdentity): no AWS keys at all.")
        case .rolesAnywhereCertificate:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "path",
                help: "IAM Roles Anywhere: path of the PEM certificate, intermediates may follow it (tls.crt of a mounted kubernetes.io/tls Secret); with the key and the three ARNs, no AWS keys at all.")
        case .rolesAnywherePrivateKey:
            // The path only: the key itself is never a setting's value, so the flag shows nothing secret.
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "path",
                help: "IAM Roles Anywhere: path of the certificate's PEM private key, RSA or ECDSA P-256/P-384 (tls.key).")
        case .rolesAnywhereTrustAnchorARN:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "arn",
                help: "IAM Roles Anywhere: the trust anchor holding the certificate's CA; its region is where sessions are created.")
        case .rolesAnywhereProfileARN:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "arn",
                help: "IAM Roles Anywhere: the profile allowing AWS_ROLE_ARN.")
        case .rolesAnywhereSessionDuration:
            Declaration(concern: .aws, folders: [.aws], flag: derived, valueName: "duration", defaultValue: "1h",
                help: "IAM Roles Anywhere: how long a session's credentials last, 15m to 12h.")
        case .refreshInterval:
            Declaration(concern: .schedule, folders: [.config], flag: derived, valueName: "duration", defaultValue: "11h30m",
                help: "Upper bound between token refreshes.")
        case .refreshFraction:
            Declaration(concern: .schedule, folders: [.config], flag: derived, valueName: "fraction", defaultValue: "0.5",
                help: "Refresh after this share of a token's lifetime.")
        case .refreshMargin:
            Declaration(concern: .schedule, folders: [.config], flag: derived, valueName: "duration", defaultValue: "1h",
                help: "Refresh at least this long before a token expires.")
        case .resyncInterval:
            Declaration(concern: .schedule, folders: [.config], flag: derived, valueName: "duration", defaultValue: "5m",
                help: "Full re-check without a new token (writes nothing when all is current).")
        case .patchServiceAccounts:
            Declaration(concern: .serviceAccounts, folders: [.config], flag: derived, valueName: "bool", defaultValue: "false",
                help: "Add the secret to imagePullSecrets of ServiceAccounts.")
        case .serviceAccounts:
            Declaration(concern: .serviceAccounts, folders: [.config], flag: derived, valueName: "list", defaultValue: "default",
                help: "ServiceAccounts to patch, separated by spaces, commas or newlines.")
        case .pruneUnselected:
            Declaration(concern: .writes, folders: [.config], flag: derived, valueName: "bool", defaultValue: "false",
                help: "Delete our secret from namespaces that stop matching.")
        case .concurrency:
            Declaration(concern: .writes, folders: [.config], flag: derived, valueName: "n", defaultValue: "\(HelperSettings.defaultConcurrency)",
                help: "Namespace writes in flight at once, at most (1 to 1024); lowered automatically while the API server throttles.")
        case .apiQPS:
            Declaration(concern: .writes, folders: [.config], flag: "kube-api-qps", valueName: "qps", defaultValue: "0 (no limit)",
                help: "Client-side limit of Kubernetes API requests per second, as client-go's QPS.")
        case .apiBurst:
            Declaration(concern: .writes, folders: [.config], flag: "kube-api-burst", valueName: "n", defaultValue: "the QPS rounded up",
                help: "Requests that may go at once under KUBE_API_QPS, as client-go's Burst.")
        case .syncTimeout:
            Declaration(concern: .syncPass, environment: false, flag: "timeout", valueName: "duration", defaultValue: "5m",
                help: "How long writes the API server throttles (429, 5xx) are retried before giving up on them, e.g. 5m, 90s.")
        case .httpPort:
            Declaration(concern: .listener, flag: derived, valueName: "port", defaultValue: "8080",
                help: "Port for /healthz, /readyz and /metrics; 0 turns the listener off.")
        case .metricsPerNamespace:
            Declaration(concern: .listener, flag: derived, valueName: "bool", defaultValue: "false",
                help: "Also count failed writes per target namespace in /metrics (a series per namespace that ever failed).")
        case .leaderElection:
            Declaration(concern: .leaderElection, flag: derived, valueName: "bool", defaultValue: "false",
                help: "Run several replicas with one leader holding a coordination.k8s.io Lease.")
        case .leaderElectionNamespace:
            Declaration(concern: .leaderElection, flag: derived, valueName: "namespace", defaultValue: "the Pod's namespace",
                help: "Namespace of the Lease.")
        case .leaderElectionLeaseName:
            Declaration(concern: .leaderElection, flag: derived, valueName: "name", defaultValue: "aws-ecr-cred-helper",
                help: "Name of the Lease.")
        case .leaderElectionLeaseDuration:
            Declaration(concern: .leaderElection, flag: derived, valueName: "duration", defaultValue: "15s",
                help: "How long a standby waits after the leader's last renewal before taking over.")
        case .leaderElectionRenewDeadline:
            Declaration(concern: .leaderElection, flag: derived, valueName: "duration", defaultValue: "10s",
                help: "How long the leader keeps trying to renew before it steps down; shorter than the lease duration, longer than 2.4s.")
        case .podName:
            Declaration(concern: .pod, valueName: "name",
                help: "The helper's Pod, from the downward API: Events are recorded on it, and it names this replica in the Lease.")
        case .podNamespace:
            Declaration(concern: .pod, valueName: "namespace",
                help: "The helper's namespace, from the downward API: for Events and the Lease.")
        case .logLevel:
            Declaration(concern: .logging, flag: derived, valueName: "level", defaultValue: "info",
                help: "trace, debug, info, notice, warning, error or critical.")
        case .logFormat:
            Declaration(concern: .logging, flag: derived, valueName: "format", defaultValue: "text",
                help: "text or json (every line on standard error a JSON object).")
        }
    }

    /// Marks a flag named after the key (`REFRESH_INTERVAL` -> `refresh-interval`).
    private var derived: String { String(rawValue.lowercased().map { $0 == "_" ? "-" : $0 }) }

    public var concern: Concern { declaration.concern }
    public var folders: [Folder] { declaration.folders }
    public var readsEnvironment: Bool { declaration.environment }
    public var flag: String? { declaration.flag }

    /// The settings of some concerns, in declaration order.
    public static func of(_ concerns: some Sequence<Concern>) -> [Setting] {
        let wanted = Set(concerns)
        return allCases.filter { wanted.contains($0.concern) }
    }

    /// The setting whose flag is `--name`.
    public static func withFlag(_ name: String) -> Setting? {
        allCases.first { $0.flag == name }
    }
}
