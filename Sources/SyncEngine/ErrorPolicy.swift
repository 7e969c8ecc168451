import AWSClient
import KubeClient

/// What to do with a key after its work failed.
public enum RequeueAction: Sendable, Hashable {
    /// Nothing until something changes (a watch event, the settings) or the next resync.
    case wait
    /// After the key's own backoff, and not before `atLeast` (the server's Retry-After).
    case backoff(atLeast: Duration)
}

/// Turns typed errors into outcomes and requeue actions. Decisions look at error types and status codes,
/// never at message text.
public enum ErrorPolicy {
    /// A write into one namespace failed.
    public static func namespaceFailure(_ error: any Error, namespace: String, secretName: String) -> (outcome: NamespaceOutcome, action: RequeueAction) {
        switch error {
        case let error as KubeAPIError:
            let reason = SecretWriter.explain(error, namespace: namespace, secretName: secretName)
            if error.isRetryable || error.isConflict {
                // 429 and 5xx: the server asks to come back, maybe after a given time.
                return (.failed(reason: reason, retryable: true), .backoff(atLeast: error.retryAfter ?? .zero))
            }
            if error.isNotFound || error.isForbidden || error.isUnauthorized {
                // A namespace that may yet be created, a role that may yet be fixed, a token about to be
                // re-read: nothing will tell us, so look again after a backoff.
                return (.failed(reason: reason, retryable: true), .backoff(atLeast: .zero))
            }
            // 4xx the same request would get again (422 Invalid, 400): wait for a change or the resync.
            return (.failed(reason: reason, retryable: false), .wait)
        case let error as KubeTransportError:
            return (.failed(reason: "\(error)", retryable: error.isRetryable), error.isRetryable ? .backoff(atLeast: .zero) : .wait)
        default:
            return (.failed(reason: "\(error)", retryable: true), .backoff(atLeast: .zero))
        }
    }

    /// A token fetch failed: always retried with the refresh backoff (the settings may change meanwhile,
    /// which fetches at once), but throttling by AWS waits at least a little longer.
    public static func refreshDelay(after error: any Error, failures: Int, backoff: ExponentialBackoff) -> Duration {
        let delay = backoff.delay(afterFailures: failures)
        if let error = error as? AWSError, error.kind == .throttling { return max(delay, .seconds(10)) }
        return delay
    }
}
