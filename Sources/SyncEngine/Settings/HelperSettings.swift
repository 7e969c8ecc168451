/// The validated configuration of one cycle. Built anew from `SettingValues` every cycle so that rotated
/// keys and edited namespace lists take effect without a restart.
public struct HelperSettings: Sendable, Hashable {
    public var namespaces: NamespaceSelection
    public var secretName: String
    /// Whose secrets these are: INSTANCE, or derived from where the helper runs (`Installation.derived`).
    public var installation: Installation
    public var aws: AWSAccess
    public var refresh: RefreshPolicy
    /// ServiceAccounts whose `imagePullSecrets` get the secret; empty means no patching.
    public var serviceAccounts: [String]
    /// Secrets of namespaces that stop matching are deleted only when this is true.
    public var pruneUnselected: Bool
    /// How many namespace writes are in flight at once, at most (the fan-out lowers it under throttling).
    public var concurrency: Int
    /// Client-side rate limit of API requests per second (client-go's QPS); nil: none.
    public var apiQPS: Double?
    /// Requests that may go at once under the rate limit (client-go's Burst).
    public var apiBurst: Int
    /// Problems that do not stop the cycle (duplicates, ignored values), logged once per change.
    public var warnings: [String]

    public static let defaultSecretName = "registry-aws-ecr"
    public static let defaultConcurrency = 32
}

/// Where AWS credentials and tokens come from.
public struct AWSAccess: Sendable, Hashable {
    public var accessKeyID: String?
    public var secretAccessKey: Sensitive?
    public var sessionToken: Sensitive?
    public var roleARN: String?
    public var externalID: String?
    public var roleSessionName: String?
    public var webIdentityTokenFile: String?
    /// IAM Roles Anywhere: a certificate exchanged for sessions of `roleARN`; nil when not configured.
    public var rolesAnywhere: RolesAnywhereAccess? = nil
    /// One `GetAuthorizationToken` call per region per refresh.
    public var regions: [String]
    /// Accounts whose registries go into the secret; empty means the caller's own account.
    public var registryIDs: [String]
}

/// `AKIA…WXYZ`: enough for a user to recognise which key is meant; never the secret.
public func redactedKeyID(_ id: String) -> String {
    guard id.count > 8 else { return "<short key id>" }
    // A file holding more than the key id (the id and the secret on two lines) must not show its end.
    guard isPlausibleAccessKeyID(id) else { return "<malformed key id>" }
    return "\(id.prefix(4))…\(id.suffix(4))"
}

func isPlausibleAccessKeyID(_ id: String) -> Bool {
    (16...128).contains(id.utf8.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
}
