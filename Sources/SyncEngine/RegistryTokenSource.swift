/// Where registry logins come from. The product uses `ECRTokenSource`; the seam keeps AWS details out of
/// the reconcile logic.
public protocol RegistryTokenSource: Sendable {
    /// Exactly one `GetAuthorizationToken` call per region in `access.regions`; throws without side effects.
    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin
}
