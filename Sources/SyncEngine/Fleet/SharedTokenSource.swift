#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One registry login per region for the whole fleet. Every cluster's controller keeps its own
/// `TokenRefresher` (its own schedule and backoff), but they all ask this source, which:
/// - fetches each region at most once at a time (callers arriving during a fetch wait for it);
/// - hands out the last login of a region while it is fresh: until the earliest moment any controller
///   could want to refresh it (the refresh policy's delay with the most jitter). The first controller
///   to reach its refresh point after that fetches; the others, a little later, get that new login;
/// - holds a failure for `failureHold`, so a fleet whose AWS keys stopped working makes one failed
///   call per wave of retries, not one per cluster.
public actor SharedTokenSource: RegistryTokenSource {
    let source: any RegistryTokenSource
    let failureHold: Duration
    let onFetch: @Sendable (RegistryLogin, AWSAccess, Duration) -> Void
    let onFailure: @Sendable () -> Void
    private var policy = RefreshPolicy()
    private var cached: [AWSAccess: (login: RegistryLogin, freshUntil: Date)] = [:]
    private var failed: [AWSAccess: (error: any Error, until: ContinuousClock.Instant)] = [:]
    private var inFlight: [AWSAccess: Task<RegistryLogin, any Error>] = [:]
    /// Real fetches per region, for tests and `status`.
    public private(set) var fetches: [String: Int] = [:]

    /// - Parameters:
    ///   - onFetch: told of every real fetch (one region's login, its access, how long it took), for the metrics.
    public init(
        source: any RegistryTokenSource, failureHold: Duration = .seconds(2),
        onFetch: @escaping @Sendable (RegistryLogin, AWSAccess, Duration) -> Void = { _, _, _ in },
        onFailure: @escaping @Sendable () -> Void = {}
    ) {
        self.source = source
        self.failureHold = failureHold
        self.onFetch = onFetch
        self.onFailure = onFailure
    }

    /// The fleet's refresh policy (from its settings), which decides how long a login is handed out.
    public func setPolicy(_ policy: RefreshPolicy) { self.policy = policy }

    public nonisolated func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        // Regions in parallel, each shared with the rest of the fleet.
        let logins = try await withThrowingTaskGroup(of: RegistryLogin.self) { group in
            for region in access.regions {
                var one = access
                one.regions = [region]
                group.addTask { try await self.login(for: one) }
            }
            var all: [RegistryLogin] = []
            for try await login in group { all.append(login) }
            return all
        }
        let credentials = logins.flatMap(\.credentials)
        // The oldest fetch time: the caller's schedule then follows the region that needs a refresh first.
        return RegistryLogin(credentials: credentials, fetchedAt: logins.map(\.fetchedAt).min() ?? Date())
    }

    func login(for access: AWSAccess) async throws -> RegistryLogin {
        if let entry = cached[access], Date() < entry.freshUntil { return entry.login }
        if let failure = failed[access], ContinuousClock.now < failure.until { throw failure.error }
        if let task = inFlight[access] { return try await task.value }
        let source = self.source
        let task = Task { try await source.fetchLogin(for: access) }
        inFlight[access] = task
        let started = ContinuousClock.now
        do {
            let login = try await task.value
            inFlight[access] = nil
            failed[access] = nil
            let delay = policy.delay(fetchedAt: login.fetchedAt, expiries: login.credentials.map(\.expiresAt), random: 1)
            // Other settings for this region (rotated keys, another role) replace the old entry.
            cached = cached.filter { $0.key.regions != access.regions }
            cached[access] = (login, login.fetchedAt.addingTimeInterval(delay.seconds))
            for region in access.regions { fetches[region, default: 0] += 1 }
            onFetch(login, access, started.duration(to: .now))
            return login
        } catch {
            inFlight[access] = nil
            failed[access] = (error, ContinuousClock.now + failureHold)
            onFailure()
            throw error
        }
    }
}

extension SharedTokenSource {
    /// A shared source whose real fetches are counted once for the fleet in `metrics` (scope `.fleet`):
    /// `aws_requests_total`, `refresh_duration_seconds`, `token_expiry_timestamp_seconds`.
    public init(source: any RegistryTokenSource, metrics: HelperMetrics) {
        self.init(
            source: source,
            onFetch: { login, access, duration in metrics.tokensFetched(login, regions: access.regions.count, duration: duration) },
            onFailure: { metrics.tokenFetchFailed() })
    }
}
