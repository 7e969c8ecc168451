import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// The request never got an HTTP answer: the API server is unreachable, TLS failed, or it timed out.
public struct KubeTransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unreachable
        case tls
        case timeout
        case connectionClosed
        case other
    }

    public var kind: Kind
    public var server: String
    public var verb: String
    public var path: String
    /// The underlying error, rendered (never holds credentials: requests are not part of it).
    public var underlying: String

    public init(kind: Kind, server: String, verb: String, path: String, underlying: String) {
        self.kind = kind
        self.server = server
        self.verb = verb
        self.path = path
        self.underlying = underlying
    }

    /// Everything but TLS failures may pass on their own.
    public var isRetryable: Bool { kind != .tls }

    public var description: String {
        switch kind {
        case .unreachable:
            "cannot reach the Kubernetes API server at \(server) (\(verb) \(path)): \(underlying); check the server address in the kubeconfig or KUBERNETES_SERVICE_HOST/PORT, and that the network allows it"
        case .tls:
            "TLS handshake with the Kubernetes API server at \(server) failed (\(verb) \(path)): \(underlying); check the cluster CA (certificate-authority / ca.crt) and the client certificate"
        case .timeout:
            "the Kubernetes API server at \(server) did not answer in time (\(verb) \(path)): \(underlying); the server may be overloaded or unreachable"
        case .connectionClosed:
            "the Kubernetes API server at \(server) closed the connection (\(verb) \(path)): \(underlying)"
        case .other:
            "request to the Kubernetes API server at \(server) failed (\(verb) \(path)): \(underlying)"
        }
    }

    static func classify(_ error: any Error, server: String, verb: String, path: String) -> KubeTransportError {
        let kind: Kind
        let text = String(describing: error)
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout:
                kind = .timeout
            case .remoteConnectionClosed, .cancelled:
                kind = .connectionClosed
            default:
                kind = .other
            }
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            kind = .tls
        case is NIOConnectionError, is IOError, is ChannelError:
            kind = .unreachable
        default:
            kind = text.contains("SSL") || text.contains("certificate") ? .tls : .other
        }
        return KubeTransportError(kind: kind, server: server, verb: verb, path: path, underlying: text)
    }
}
