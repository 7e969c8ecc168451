import KubeClient
import Logging

/// The executor's write: one server-side apply per namespace (which creates or updates in one call and
/// works under the original ClusterRole), fanned out with bounded concurrency. Which namespaces need it
/// is decided before, by `Reconcile.plan`.
public struct SecretWriter: Sendable {
    public let client: KubernetesClient
    public let logger: Logger

    public init(client: KubernetesClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The result of one namespace's write.
    public struct Result: Sendable {
        public var outcome: NamespaceOutcome
        /// What to do with the namespace's key (after a failure).
        public var action: RequeueAction = .wait
        /// The resourceVersion the server answered a successful apply with.
        public var resourceVersion: String?
        /// The error of a failed write, for the pacing to read.
        public var error: (any Error)?
    }

    /// How a fan-out paces and retries.
    public struct Pacing: Sendable {
        public var governor: WriteGovernor
        public var time: any TimeSource
        /// Throttled writes (429, 5xx) are retried inline until this instant of `time`; later ones fail
        /// and are left to the caller (a requeue, or `sync`'s exit code).
        public var deadline: Duration
        /// Checked before every request: a shutting-down process starts no new write.
        public var shouldStop: @Sendable () async -> Bool

        public init(governor: WriteGovernor, time: any TimeSource, deadline: Duration, shouldStop: @escaping @Sendable () async -> Bool = { false }) {
            self.governor = governor
            self.time = time
            self.deadline = deadline
            self.shouldStop = shouldStop
        }
    }

    /// Applies the desired secret in every namespace given (the reconcile already decided they need it),
    /// paced by the governor. The body is encoded once: it leaves the namespace out, the URL names it.
    public func apply(_ desired: DesiredSecret, to namespaces: [String], pacing: Pacing) async -> [String: Result] {
        var results: [String: Result] = [:]
        guard !namespaces.isEmpty else { return results }
        let body: EncodedBody<Secret>
        do {
            body = try client.encodedBody(desired.secret(in: nil))
        } catch {
            for namespace in namespaces {
                results[namespace] = Result(outcome: .failed(reason: "cannot encode the secret: \(error)", retryable: false))
            }
            return results
        }
        let workers = pacing.governor.maximum
        await withTaskGroup(of: (String, Result).self) { group in
            var next = namespaces.makeIterator()
            func startNext() -> Bool {
                guard let namespace = next.next() else { return false }
                group.addTask { (namespace, await self.applyPaced(body, name: desired.name, in: namespace, pacing: pacing)) }
                return true
            }
            for _ in 0..<workers where !startNext() { break }
            while let (namespace, result) = await group.next() {
                results[namespace] = result
                _ = startNext()
            }
        }
        return results
    }

    /// One namespace: waits for the governor, applies, and retries throttling and server errors inline
    /// until the deadline, so a busy server is written at the rate it grants instead of failing.
    func applyPaced(_ body: EncodedBody<Secret>, name: String, in namespace: String, pacing: Pacing) async -> Result {
        var serverErrors = 0
        while true {
            if await pacing.shouldStop() {
                return Result(outcome: .failed(reason: "not written: the helper is shutting down", retryable: true), action: .backoff(atLeast: .zero))
            }
            if pacing.time.now >= pacing.deadline {
                return Result(
                    outcome: .failed(reason: "not written: the API server throttled writes until the deadline (raise --timeout, or lower CONCURRENCY)", retryable: true),
                    action: .backoff(atLeast: .zero))
            }
            let ticket: WriteGovernor.Ticket
            do {
                ticket = try await pacing.governor.acquire()
            } catch {
                return Result(outcome: .failed(reason: "not written: the helper is shutting down", retryable: true), action: .backoff(atLeast: .zero))
            }
            let started = pacing.time.now
            let result = await apply(body, name: name, in: namespace)
            let throttle = Self.throttling(result)
            switch throttle {
            case .none:
                await pacing.governor.release(result.outcome == .written ? .completed(latency: pacing.time.now - started) : .failed, ticket: ticket)
                return result
            case .throttled(let retryAfter):
                await pacing.governor.release(.throttled(retryAfter: retryAfter), ticket: ticket)
                // This request waits out Retry-After (without one, a short pause) before it tries again.
                let wait = retryAfter ?? .milliseconds(250)
                guard pacing.time.now + wait < pacing.deadline else { return result }
                try? await pacing.time.sleep(until: pacing.time.now + wait)
            case .serverError:
                await pacing.governor.release(.failed, ticket: ticket)
                serverErrors += 1
                let wait = ExponentialBackoffPolicy(initial: .milliseconds(500), maximum: .seconds(10)).delay(afterFailures: serverErrors)
                guard pacing.time.now + wait < pacing.deadline else { return result }
                try? await pacing.time.sleep(until: pacing.time.now + wait)
            }
        }
    }

    enum Throttling: Equatable {
        case none
        /// 429, or a 5xx that says when to come back: the server is shedding load.
        case throttled(retryAfter: Duration?)
        /// Any other 5xx: retried with a backoff.
        case serverError
    }

    static func throttling(_ result: Result) -> Throttling {
        guard let error = result.error as? KubeAPIError else { return .none }
        if error.isTooManyRequests || ((500...599).contains(error.statusCode) && error.retryAfter != nil) {
            return .throttled(retryAfter: error.retryAfter)
        }
        if (500...599).contains(error.statusCode) { return .serverError }
        return .none
    }

    /// One apply; never throws, so one namespace failing never stops the others.
    func apply(_ body: EncodedBody<Secret>, name: String, in namespace: String) async -> Result {
        do {
            let version = try await client.apply(body, namespace: namespace, name: name, fieldManager: DesiredSecret.fieldManager, force: true)
            return Result(outcome: .written, resourceVersion: version)
        } catch {
            // A secret of our name with another type appeared since the watch last spoke: `type` is
            // immutable, so the server refuses (422). Look once, to report it as someone else's.
            if let error = error as? KubeAPIError, error.statusCode == 422,
               let existing = try? await client.get(Secret.self, namespace: namespace, name: name), existing.type != DesiredSecret.type {
                return Result(outcome: .foreign(type: existing.type ?? "Opaque"))
            }
            let (outcome, action) = ErrorPolicy.namespaceFailure(error, namespace: namespace, secretName: name)
            return Result(outcome: outcome, action: action, error: error)
        }
    }

    static func explain(_ error: KubeAPIError, namespace: String, secretName: String) -> String {
        if error.isNotFound {
            return "namespace \(namespace) does not exist (create it, or remove it from NAMESPACES)"
        }
        if error.isForbidden {
            return "forbidden to write secret \(secretName) in \(namespace): the ClusterRole needs get/patch on secrets with resourceNames [\(secretName)] plus create on secrets (check that SECRET_NAME matches the role's resourceNames)"
        }
        return error.description
    }
}
