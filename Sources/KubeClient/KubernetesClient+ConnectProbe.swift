import AsyncHTTPClient
import NIOCore
import NIOPosix

extension KubernetesClient {
    /// AsyncHTTPClient reports a TCP connect that never completes and a TLS handshake that never completes
    /// alike, as a connect timeout. One plain TCP connect after the failure tells them apart: when it
    /// succeeds, something accepts connections there and never answered TLS (kubectl's "TLS handshake
    /// timeout"), which needs another fix (the port, the service behind it) than dropped packets.
    func refined(_ failure: KubeTransportError) async -> KubeTransportError {
        guard failure.cause == .connectTimeout, let (host, port) = Self.endpoint(of: server) else { return failure }
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
