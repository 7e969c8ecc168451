import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// AWS credentials: a long-term access key, or temporary credentials (with session token and expiration).
/// `description` shows only a key-id prefix and suffix; the secret key and session token never appear.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// True for temporary (STS) credentials.
    public var isTemporary: Bool { sessionToken?.isEmpty == false }

    /// The key id shortened for messages, e.g. `AKIA…MPLE`.
    public var redactedKeyID: String { Self.redact(keyID: accessKeyID) }

    public var description: String {
        var parts = ["accessKeyID: \(redactedKeyID)", "secretAccessKey: <redacted>"]
        if isTemporary { parts.append("sessionToken: <redacted>") }
        if let expiration { parts.append("expiration: \(UTCTime.iso8601(expiration))") }
        return "AWSCredentials(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// `AKIAIOSFODNN7EXAMPLE` -> `AKIA…MPLE`; short or odd ids are shortened further.
    public static func redact(keyID: String) -> String {
        let trimmed = keyID.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return "<empty>" }
        if trimmed.count >= 16 { return "\(trimmed.prefix(4))…\(trimmed.suffix(4))" }
        if trimmed.count >= 8 { return "\(trimmed.prefix(4))…" }
        return "…"
    }

    /// True when the credentials expire within `margin` of `now` (never for long-term keys).
    public func expires(within margin: Duration, now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin.seconds
    }

    /// Checks the keys for the mistakes that make AWS answer with a confusing error (empty values, white space
    /// or quotes pasted along with the key), naming the variable in `source` (e.g. "AWS_ACCESS_KEY_ID").
    public func validated(keyIDSource: String = "AWS_ACCESS_KEY_ID", secretSource: String = "AWS_SECRET_ACCESS_KEY")
        throws -> AWSCredentials
    {
        func check(_ value: String, _ name: String, isSecret: Bool) throws {
            let shown = isSecret ? "the value" : "\"\(Self.redact(keyID: value))\""
            if value.isEmpty {
                throw AWSError.invalidConfiguration("\(name) is empty: set it to the \(isSecret ? "secret access key" : "access key id") of the IAM user")
            }
            if value.trimmingASCIIWhitespace() != value {
                throw AWSError.invalidConfiguration("\(name): \(shown) has leading or trailing white space (often a newline from `echo` or an editor): remove it")
            }
            if value.contains(where: { $0 == "\"" || $0 == "'" }) {
                throw AWSError.invalidConfiguration("\(name): \(shown) contains quote characters: remove the quotes")
            }
            if value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value > 0x7E }) {
                throw AWSError.invalidConfiguration("\(name): \(shown) contains spaces or non-ASCII characters: check that the right value was pasted")
            }
        }
        try check(accessKeyID, keyIDSource, isSecret: false)
        try check(secretAccessKey, secretSource, isSecret: true)
        return self
    }
}

/// Something that yields credentials; called before every AWS request.
public protocol AWSCredentialProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// A provider holding temporary credentials it can drop, so that the next call fetches new ones (after AWS
/// answered ExpiredToken for credentials that looked valid).
public protocol AWSRenewableCredentialProvider: AWSCredentialProvider {
    func invalidate()
}

/// Fixed credentials (e.g. keys read from environment variables or from files mounted into the pod).
public struct StaticCredentialProvider: AWSCredentialProvider, CustomStringConvertible {
    public let value: AWSCredentials

    public init(_ credentials: AWSCredentials) { self.value = credentials }

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.value = AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    public func credentials() async throws -> AWSCredentials { value }

    public var description: String { "StaticCredentialProvider(\(value))" }
}

/// Credentials computed by a closure on every call (e.g. keys re-read from mounted files each cycle).
public struct ClosureCredentialProvider: AWSCredentialProvider {
    let body: @Sendable () async throws -> AWSCredentials
    public init(_ body: @escaping @Sendable () async throws -> AWSCredentials) { self.body = body }
    public func credentials() async throws -> AWSCredentials { try await body() }
}

/// Caches the credentials of another provider. Temporary credentials are renewed `refreshBefore` ahead of
/// their expiration; concurrent callers share one refresh. Credentials without expiration are kept until
/// `invalidate()`. When a renewal fails while the cached credentials are still valid, those are returned
/// (and the failure logged) so a brief STS outage does not fail callers before it has to.
public final class CachingCredentialProvider: AWSRenewableCredentialProvider, Sendable {
    public let base: any AWSCredentialProvider
    public let refreshBefore: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    private struct State {
        var cached: AWSCredentials?
        var inFlight: Task<AWSCredentials, any Error>?
        /// Counts `markStale()` calls: cached credentials are current only when fetched in the latest generation
        /// (a fetch that began before the mark does not make them current again).
        var generation = 0
        var cachedGeneration = 0
        var inFlightGeneration = 0
    }
    private let state = Mutex(State())

    public init(
        _ base: any AWSCredentialProvider,
        refreshBefore: Duration = .seconds(5 * 60),
        logger: Logger = Logger(label: "AWSClient.credentials"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.refreshBefore = refreshBefore
        self.now = now
        self.logger = logger
    }

    /// Drops the cached credentials (e.g. after AWS answered ExpiredToken); the next call fetches new ones.
    public func invalidate() {
        state.withLock { $0.cached = nil }
    }

    /// Renews the credentials at the next call while keeping the cached ones to fall back on if that renewal
    /// fails (e.g. the files they were made from changed: a renewed certificate gets a new session).
    public func markStale() {
        state.withLock { $0.generation += 1 }
    }

    /// The currently cached credentials, if any (for diagnostics).
    public var cached: AWSCredentials? { state.withLock { $0.cached } }

    public func credentials() async throws -> AWSCredentials {
        let current = now()
        enum Step {
            case use(AWSCredentials)
            case join(Task<AWSCredentials, any Error>, AWSCredentials?, generation: Int)
        }
        let step: Step = state.withLock { s in
            if let c = s.cached, s.cachedGeneration == s.generation, !c.expires(within: refreshBefore, now: current) {
                return .use(c)
            }
            // Join a fetch in flight only if it began after the latest mark: one that began before it would
            // bring back what the mark made stale (the files changed meanwhile).
            if let task = s.inFlight, s.inFlightGeneration == s.generation {
                return .join(task, s.cached, generation: s.inFlightGeneration)
            }
            let base = self.base
            let task = Task<AWSCredentials, any Error> { try await base.credentials() }
            s.inFlight = task
            s.inFlightGeneration = s.generation
            return .join(task, s.cached, generation: s.generation)
        }
        switch step {
        case .use(let c):
            return c
        case .join(let task, let previous, let generation):
            // Every caller of a fetch clears it when it ends (the one that started it always waits for it), so
            // the next call never joins a fetch that is over. It used to be cleared by a task of its own, which
            // a busy machine ran late: calls in between joined the finished fetch and got its old credentials.
            defer { state.withLock { s in if s.inFlight == task { s.inFlight = nil } } }
            do {
                let fresh = try await task.value
                state.withLock { s in
                    let cachedExpiration = s.cached?.expiration ?? .distantPast
                    let later = cachedExpiration < (fresh.expiration ?? .distantFuture)
                    if s.cached == nil || generation > s.cachedGeneration || (generation == s.cachedGeneration && later) {
                        s.cached = fresh
                        s.cachedGeneration = generation
                    }
                }
                logger.debug(
                    "AWS credentials refreshed",
                    metadata: [
                        "accessKeyID": "\(fresh.redactedKeyID)",
                        "expiration": "\(fresh.expiration.map(UTCTime.iso8601) ?? "none")",
                    ])
                return fresh
            } catch {
                if let previous, let expiration = previous.expiration, expiration > now() {
                    logger.warning(
                        "renewing AWS credentials failed; using the cached ones until they expire",
                        metadata: ["expiration": "\(UTCTime.iso8601(expiration))", "error": "\(error)"])
                    return previous
                }
                throw error
            }
        }
    }
}
