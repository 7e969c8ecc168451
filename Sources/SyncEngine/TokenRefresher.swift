#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient

/// Owns the registry login: fetches it (one AWS call per region), says when the next refresh is due from
/// the tokens' real expiry, and backs off after failures. The controller schedules the `refresh` key on
/// its work queue with the delay this returns; nothing here sleeps.
public actor TokenRefresher {
    public enum Result: Sendable {
        /// A new login; refresh again after `next`.
        case fetched(RegistryLogin, next: Duration)
        /// The fetch failed; try again after `retryIn`. An older login, if any, stays in `login`.
        case failed(any Error, retryIn: Duration, failures: Int)
    }

    let source: any RegistryTokenSource
    let backoff: ExponentialBackoff
    /// The last login fetched, and for which AWS settings.
    public private(set) var login: RegistryLogin?
    private var access: AWSAccess?
    public private(set) var failures = 0

    public init(source: any RegistryTokenSource, backoff: ExponentialBackoff = ExponentialBackoff(initial: .seconds(2), maximum: .seconds(300))) {
        self.source = source
        self.backoff = backoff
    }

    /// True when there is no login for these AWS settings (the first pass, or keys, role or regions changed).
    public func needsFetch(for access: AWSAccess) -> Bool { login == nil || self.access != access }

    /// The login to write now: the last one fetched, while it has not expired. After a failed fetch (a
    /// rotated key that does not work) the previous token still serves new namespaces: it is valid whatever
    /// key fetched it.
    public func usableLogin(at now: Date = Date()) -> RegistryLogin? {
        guard let login, !login.hasExpired(at: now) else { return nil }
        return login
    }

    public func refresh(access: AWSAccess, policy: RefreshPolicy) async -> Result {
        do {
            let login = try await source.fetchLogin(for: access)
            self.login = login
            self.access = access
            failures = 0
            return .fetched(login, next: policy.delay(fetchedAt: login.fetchedAt, expiries: login.credentials.map(\.expiresAt)))
        } catch {
            failures += 1
            return .failed(error, retryIn: ErrorPolicy.refreshDelay(after: error, failures: failures, backoff: backoff), failures: failures)
        }
    }
}
