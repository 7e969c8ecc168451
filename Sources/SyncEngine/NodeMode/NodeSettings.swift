/// The settings of node mode (`credential-provider`): the same AWS identity vocabulary as the controller
/// (files in a config folder, environment variables, flags), but no namespaces and no region: the region
/// comes from the image's registry host. When no keys or web identity token file are set, the AWS shared
/// files (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `AWS_PROFILE`) provide the credentials.
public struct NodeSettings: Sendable, Hashable {
    public var aws: AWSAccess
    /// The kubelet's cache ends at least this long before the token expires (`REFRESH_MARGIN`, default 1h).
    public var cacheMargin: Duration

    public static let defaultCacheMargin: Duration = .seconds(3600)

    /// True when the settings themselves name credentials (keys, a role with a web identity token file, or a Roles
    /// Anywhere certificate).
    public var hasCredentials: Bool { aws.accessKeyID != nil || aws.webIdentityTokenFile != nil || aws.rolesAnywhere != nil }

    /// The settings node mode reads: the AWS identity, REFRESH_MARGIN and the log level (no namespaces, no region),
    /// from the controller's two folders when given (`--config-dir`, `--aws-config-dir`), the environment and flags.
    public static let settings: [Setting] = [
        .configDirectory, .awsConfigDirectory, .accessKeyID, .secretAccessKey, .sessionToken, .roleARN, .externalID, .roleSessionName,
        .webIdentityTokenFile, .rolesAnywhereCertificate, .rolesAnywherePrivateKey, .rolesAnywhereTrustAnchorARN, .rolesAnywhereProfileARN,
        .rolesAnywhereSessionDuration, .refreshMargin, .logLevel,
    ]

    /// Validates the values; throws every problem at once.
    public static func parse(_ values: SettingValues) throws(ConfigurationError) -> NodeSettings {
        var reader = SettingsReader(values)
        let identity = AWSIdentity.read(&reader, requireCredentials: false)
        let margin = reader.duration(.refreshMargin, fallback: defaultCacheMargin, minimum: .zero)
        try reader.check()
        return NodeSettings(
            aws: AWSAccess(
                accessKeyID: identity.accessKeyID, secretAccessKey: identity.secretAccessKey, sessionToken: identity.sessionToken,
                roleARN: identity.roleARN, externalID: identity.externalID, roleSessionName: identity.roleSessionName,
                webIdentityTokenFile: identity.webIdentityTokenFile, rolesAnywhere: identity.rolesAnywhere, regions: [], registryIDs: []),
            cacheMargin: margin)
    }
}
