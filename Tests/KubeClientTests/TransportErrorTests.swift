import AsyncHTTPClient
import NIOCore
import NIOPosix
import Testing

@testable import KubeClient

/// Transport failures become one line naming the server, the cause in plain words and the fix, decided
/// from the error's type and errno, never from its text.
@Suite struct TransportErrorTests {
    static let server = "https://api.example:6443"

    static func line(_ error: any Error) -> KubeTransportError {
        KubeTransportError.classify(error, server: server, verb: "list", path: "/api/v1/secrets")
    }

    @Test func refusedTimeoutDNSAndNoRoute() {
        let refused = Self.line(IOError(errnoCode: ECONNREFUSED, reason: "connection reset (error set)"))
        #expect(refused.cause == .refused && refused.kind == .unreachable && refused.isRetryable)
        #expect(refused.description == "cannot reach the Kubernetes API server at https://api.example:6443: connection refused (nothing listens at that address and port); check the server address (the kubeconfig's cluster server, or KUBERNETES_SERVICE_HOST/PORT in a pod) and that the API server is running")
        #expect(!refused.description.contains("reset"), "a refusal is not a reset")

        let timeout = Self.line(HTTPClientError.connectTimeout)
        #expect(timeout.cause == .connectTimeout && timeout.kind == .timeout)
        #expect(timeout.description.hasPrefix("cannot reach the Kubernetes API server at https://api.example:6443: no connection within the connect timeout"))
        #expect(timeout.description.contains("check the VPN, firewall or proxy"))

        let slow = Self.line(HTTPClientError.deadlineExceeded)
        #expect(slow.cause == .responseTimeout)
        #expect(slow.description == "the Kubernetes API server at https://api.example:6443 did not answer list /api/v1/secrets in time; the server may be overloaded, or the connection stalled")

        #expect(Self.line(IOError(errnoCode: EHOSTUNREACH, reason: "connect")).cause == .noRoute)
        #expect(Self.line(IOError(errnoCode: ECONNRESET, reason: "read")).cause == .closed)
        #expect(Self.line(ChannelError.connectTimeout(.seconds(10))).cause == .connectTimeout)
        #expect(Self.line(HTTPClientError.remoteConnectionClosed).kind == .connectionClosed)
    }

    /// AsyncHTTPClient's own TLS handshake timeout keeps its name (kubectl's words); the server's address
    /// splits into the host and port a probe connects to.
    @Test func tlsHandshakeTimeoutAndEndpoints() {
        let handshake = Self.line(HTTPClientError.tlsHandshakeTimeout)
        #expect(handshake.cause == .tlsHandshakeTimeout && handshake.kind == .timeout && handshake.isRetryable)
        #expect(handshake.description.hasPrefix("cannot reach the Kubernetes API server at https://api.example:6443: TLS handshake timeout"))
        #expect(KubernetesClient.endpoint(of: "https://api.example:6443")! == ("api.example", 6443))
        #expect(KubernetesClient.endpoint(of: "https://10.0.0.1")! == ("10.0.0.1", 443))
        #expect(KubernetesClient.endpoint(of: "https://[::1]:8443/prefix")! == ("::1", 8443))
        #expect(KubernetesClient.endpoint(of: "http://api.example:8080") == nil)
    }

    /// Every description is one line with balanced brackets.
    @Test(arguments: [
        KubeTransportError.Cause.refused, .nameNotResolved(host: "api.example"), .noRoute, .tls(detail: "handshake failed"),
        .connectTimeout, .tlsHandshakeTimeout, .untrustedCertificate(names: ["localhost", "127.0.0.1"]), .responseTimeout, .closed, .other,
    ])
    func oneBalancedLine(_ cause: KubeTransportError.Cause) {
        let text = KubeTransportError(cause: cause, server: Self.server, verb: "get", path: "/version", underlying: "x").description
        #expect(!text.contains("\n"))
        #expect(text.filter { $0 == "(" }.count == text.filter { $0 == ")" }.count, "\(text)")
        #expect(text.contains(Self.server))
    }
}
