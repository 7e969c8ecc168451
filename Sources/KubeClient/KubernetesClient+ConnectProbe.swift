import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

extension KubernetesClient {
    /// AsyncHTTPClient reports a TCP connect that never completes and a TLS handshake that never completes
    /// alike, as a connect timeout. One plain TCP connect after the failure tells them apart: when it
    /// succeeds, something accepts connections there and never answered TLS (kubectl's "TLS handshake
    /// timeout"), which needs another fix (the port, the service behind it) than dropped packets.
    ///
    /// After a failed TLS handshake, two more say whether the cluster CA does not sign the server's
    /// certificate, and which names that certificate holds: words a user can act on, where NIOSSL's error
    /// names BoringSSL's internals and a source path.
    func refined(_ failure: KubeTransportError) async -> KubeTransportError {
        guard let (host, port) = Self.endpoint(of: server) else { return failure }
        if case .tls = failure.cause, !configuration.insecureSkipTLSVerify {
            var readOnly = baseTLS
            readOnly.certificateVerification = .none
            guard let names = await ServerCertificateProbe.names(host: host, port: port, configuration: readOnly) else { return failure }
            var caOnly = baseTLS
            caOnly.certificateVerification = .noHostnameVerification
            guard await ServerCertificateProbe.names(host: host, port: port, configuration: caOnly) == nil else { return failure }
            var refined = failure
            refined.cause = .untrustedCertificate(names: names)
            return refined
        }
        guard failure.cause == .connectTimeout else { return failure }
        let bootstrap = ClientBootstrap(group: HTTPClient.defaultEventLoopGroup).connectTimeout(.seconds(2))
        guard let channel = try? await bootstrap.connect(host: host, port: port).get() else { return failure }
        try? await channel.close()
        var refined = failure
        refined.cause = .tlsHandshakeTimeout
        return refined
    }

    /// Host and port of an `https://host[:port][/path]` server (IPv6 in brackets); nil for anything else.
    static func endpoint(of server: String) -> (host: String, port: Int)? {
        guard server.hasPrefix("https://") else { return nil }
        let authority = server.dropFirst("https://".count).prefix { $0 != "/" }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            if rest.isEmpty { return (host, 443) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (String(parts[0]), 443)
        case 2: return Int(parts[1]).map { (String(parts[0]), $0) }
        default: return nil
        }
    }
}
