#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// The request never got an HTTP answer: the API server is unreachable, TLS failed, or it timed out.
/// `description` is one plain line: the server, the cause in words a user knows, and what to check.
public struct KubeTransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unreachable
        case tls
        case timeout
        case connectionClosed
        case other
    }

    /// What happened, as precisely as the typed error tells (never read from message text).
    public enum Cause: Sendable, Equatable {
        /// Nothing accepts connections at that address and port (ECONNREFUSED).
        case refused
        /// The server's host name does not resolve.
        case nameNotResolved(host: String)
        /// No route, network down, host unreachable.
        case noRoute
        /// The TLS handshake failed (`detail` is NIOSSL's rendering of the failure).
        case tls(detail: String)
        /// The server's certificate, which holds these names, is not signed by the CA the client trusts.
        case untrustedCertificate(names: [String])
        /// No connection within the connect timeout.
        case connectTimeout
        /// Connected, but the TLS handshake did not complete within the connect timeout: something accepts
        /// TCP there and never answers TLS (a plain-HTTP port, another service, a stalled proxy).
        case tlsHandshakeTimeout
        /// Connected, but no complete answer in time.
        case responseTimeout
        /// The server (or something between) closed or reset the connection.
        case closed
        /// Anything else; `underlying` says what.
        case other
    }

    public var cause: Cause
    public var server: String
    public var verb: String
    public var path: String
    /// The underlying error, rendered (never holds credentials: requests are not part of it).
    public var underlying: String

    public init(cause: Cause, server: String, verb: String, path: String, underlying: String) {
        self.cause = cause
        self.server = server
        self.verb = verb
        self.path = path
        self.underlying = underlying
    }

    public init(kind: Kind, server: String, verb: String, path: String, underlying: String) {
        let cause: Cause = switch kind {
        case .unreachable: .refused
        case .tls: .tls(detail: underlying)
        case .timeout: .responseTimeout
        case .connectionClosed: .closed
        case .other: .other
        }
        self.init(cause: cause, server: server, verb: verb, path: path, underlying: underlying)
    }

    public var kind: Kind {
        switch cause {
        case .refused, .nameNotResolved, .noRoute: .unreachable
        case .tls, .untrustedCertificate: .tls
        case .connectTimeout, .tlsHandshakeTimeout, .responseTimeout: .timeout
        case .closed: .connectionClosed
        case .other: .other
        }
    }

    /// Everything but TLS failures may pass on their own.
    public var isRetryable: Bool { kind != .tls }

    /// Where the address comes from, for the fix.
    static let addressAdvice = "check the server address (the kubeconfig's cluster server, or KUBERNETES_SERVICE_HOST/PORT in a pod)"

    public var description: String {
        switch cause {
        case .refused:
            "cannot reach the Kubernetes API server at \(server): connection refused (nothing listens at that address and port); \(Self.addressAdvice) and that the API server is running"
        case .nameNotResolved(let host):
            "cannot reach the Kubernetes API server at \(server): the name \(host) does not resolve (DNS); \(Self.addressAdvice) and this machine's DNS settings"
        case .noRoute:
            "cannot reach the Kubernetes API server at \(server): no route to that address (network or host unreachable); check the VPN, firewall or proxy between here and the cluster"
        case .tls(let detail):
            "TLS with the Kubernetes API server at \(server) failed (\(detail)); check the cluster CA (certificate-authority-data in the kubeconfig, ca.crt in a pod), that the server address matches the server's certificate, and any client certificate"
        case .untrustedCertificate(let names):
            "TLS with the Kubernetes API server at \(server) failed: its certificate (for \(names.isEmpty ? "no names" : names.joined(separator: ", "))) is not signed by the cluster CA this client trusts; check the cluster CA (certificate-authority-data in the kubeconfig, ca.crt in a pod) is this cluster's"
        case .connectTimeout:
            "cannot reach the Kubernetes API server at \(server): no connection within the connect timeout (packets dropped, or the address is wrong); check the VPN, firewall or proxy between here and the cluster, and \(Self.addressAdvice.dropFirst(6))"
        case .tlsHandshakeTimeout:
            // kubectl's words (net/http: TLS handshake timeout), so the two are recognised as one problem.
            "cannot reach the Kubernetes API server at \(server): TLS handshake timeout (the address accepts connections but never completed TLS); check that it is the API server's HTTPS port, not a plain-HTTP port or another service, and the proxy or load balancer in front of it"
        case .responseTimeout:
            "the Kubernetes API server at \(server) did not answer \(verb) \(path) in time; the server may be overloaded, or the connection stalled"
        case .closed:
            "the Kubernetes API server at \(server) closed the connection during \(verb) \(path) (\(underlying)); a proxy or load balancer may be cutting it, or the server restarted"
        case .other:
            "request to the Kubernetes API server at \(server) failed (\(verb) \(path)): \(underlying)"
        }
    }

    static func classify(_ error: any Error, server: String, verb: String, path: String) -> KubeTransportError {
        KubeTransportError(cause: cause(of: error), server: server, verb: verb, path: path, underlying: String(describing: error))
    }

    /// The cause, from the error's type and errno.
    static func cause(of error: any Error) -> Cause {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .tlsHandshakeTimeout: return .tlsHandshakeTimeout
            case .connectTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout: return .connectTimeout
            case .deadlineExceeded, .readTimeout, .writeTimeout: return .responseTimeout
            case .remoteConnectionClosed, .cancelled: return .closed
            default: return .other
            }
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return .nameNotResolved(host: error.host)
            }
            // Happy eyeballs tried every address; the first failure speaks for them all.
            if let first = error.connectionErrors.first { return cause(of: first.error) }
            return .nameNotResolved(host: error.host)
        case let error as SocketAddressError.UnknownHost:
            return .nameNotResolved(host: error.host)
        case let error as IOError:
            return cause(errno: error.errnoCode)
        case let error as NIOSSLError:
            return .tls(detail: "\(error)")
        case is BoringSSLError, is NIOSSLExtraError:
            return .tls(detail: "\(error)")
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return .connectTimeout
            case .writeHostUnreachable: return .noRoute
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: return .closed
            default: return .other
            }
        default:
            return .other
        }
    }

    static func cause(errno code: Int32) -> Cause {
        switch code {
        case ECONNREFUSED: .refused
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: .noRoute
        case ETIMEDOUT: .connectTimeout
        case ECONNRESET, EPIPE, ECONNABORTED: .closed
        default: .other
        }
    }
}
