import Foundation
import Synchronization
import SyncEngine

/// Registry logins without AWS, with failures scripted by the test: the next N fetches fail, or every fetch
/// fails until told otherwise. Passwords carry a generation number so a test can tell a fresh secret from
/// an old one; the password is long and recognisable so log scans can look for it.
final class ScriptedTokenSource: RegistryTokenSource {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct State {
        var calls = 0
        var failNext = 0
        var failAlways = false
        var generation = 0
        var lifetime: Double = 12 * 3600
    }

    private let state = Mutex(State())
    static let registryPrefix = "https://123456789012.dkr.ecr."

    var calls: Int { state.withLock { $0.calls } }
    var generation: Int { state.withLock { $0.generation } }

    func failNext(_ count: Int) { state.withLock { $0.failNext = count } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failAlways = failing } }
    /// New passwords from the next fetch on.
    func rotate() { state.withLock { $0.generation += 1 } }
    func setLifetime(seconds: Double) { state.withLock { $0.lifetime = seconds } }

    static func password(region: String, generation: Int) -> String {
        "ecr-password-\(region)-generation-\(generation)-DO-NOT-LOG"
    }

    static func registry(region: String) -> String { "\(registryPrefix)\(region).amazonaws.com" }

    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        let (fail, generation, lifetime) = state.withLock { state -> (Bool, Int, Double) in
            state.calls += 1
            if state.failAlways { return (true, state.generation, state.lifetime) }
            if state.failNext > 0 {
                state.failNext -= 1
                return (true, state.generation, state.lifetime)
            }
            return (false, state.generation, state.lifetime)
        }
        if fail { throw Failure(description: "AWS is unavailable (scripted test failure)") }
        let now = Date()
        let credentials = access.regions.map { region in
            RegistryCredential(
                registry: Self.registry(region: region), username: "AWS",
                password: Sensitive(Self.password(region: region, generation: generation)),
                expiresAt: now.addingTimeInterval(lifetime), region: region
            )
        }
        return RegistryLogin(credentials: credentials, fetchedAt: now)
    }
}
