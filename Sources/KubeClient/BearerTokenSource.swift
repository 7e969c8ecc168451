import Synchronization
import CommonBasics

/// Supplies the bearer token. A token file is re-read once `refreshInterval` has passed and whenever the
/// server answered 401, as client-go does: the kubelet rotates projected ServiceAccount tokens in place.
final class BearerTokenSource: Sendable {
    enum Origin: Sendable {
        case fixed(String)
        case file(String)
    }

    private struct Cached {
        var token: String
        var readAt: ContinuousClock.Instant
    }

    let origin: Origin
    let refreshInterval: Duration
    private let cached: Mutex<Cached?>

    init(origin: Origin, refreshInterval: Duration = .seconds(60)) {
        self.origin = origin
        self.refreshInterval = refreshInterval
        if case .fixed(let token) = origin {
            cached = Mutex(Cached(token: token, readAt: .now))
        } else {
            cached = Mutex(nil)
        }
    }

    var isFile: Bool {
        if case .file = origin { return true }
        return false
    }

    /// The current token, re-reading the file when the cached copy is older than `refreshInterval`.
    /// A failed re-read keeps the previous token (the file may be mid-rotation).
    func token() throws(KubeConfigurationError) -> String {
        guard case .file(let path) = origin else {
            if case .fixed(let token) = origin { return token }
            return ""
        }
        let now = ContinuousClock.now
        if let current = cached.withLock({ $0 }), current.readAt.duration(to: now) < refreshInterval {
            return current.token
        }
        return try read(path: path, now: now)
    }

    /// Re-reads the token file at once (after a 401). Returns whether the token changed.
    @discardableResult
    func reload() -> Bool {
        guard case .file(let path) = origin else { return false }
        let before = cached.withLock { $0?.token }
        guard let after = try? read(path: path, now: .now) else { return false }
        return after != before
    }

    private func read(path: String, now: ContinuousClock.Instant) throws(KubeConfigurationError) -> String {
        do throws(KubeConfigurationError) {
            let bytes = try FileAccess.read(path, purpose: "token file")
            let token = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
            guard !token.isEmpty else { throw KubeConfigurationError("token file \(path) is empty") }
            let value = String(token)
            cached.withLock { $0 = Cached(token: value, readAt: now) }
            return value
        } catch {
            if let previous = cached.withLock({ $0?.token }) { return previous }
            throw error
        }
    }
}
