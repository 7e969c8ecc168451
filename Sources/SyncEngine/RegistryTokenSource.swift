/// Where registry logins come from. The product uses `ECRTokenSource`; the seam keeps AWS details out of
/// the reconcile logic.
public protocol RegistryTokenSource: Sendable {
    /// Exactly one `GetAuthorizationToken` call per region in `access.regions`; throws without side effects.
    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin
}

/// Where each cycle's settings come from (the executable reads files, environment and flags).
public protocol SettingsSource: Sendable {
    /// Reads and validates everything anew.
    func load() throws(ConfigurationError) -> HelperSettings
    /// A cheap value that changes whenever a re-read could give other settings (file names, sizes, times,
    /// the `..data` link Kubernetes swaps on an update). Polled every second.
    func fingerprint() -> String
}
