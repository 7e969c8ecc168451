#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// After a failed TLS handshake, what the server's certificate holds, from one more handshake that checks
/// what `configuration` asks (nothing at all, to read the names; the CA alone, to tell an untrusted
/// certificate from the rest). Bounded by 2 s; nil when the server did not complete it.
enum ServerCertificateProbe {
    /// The certificate's subject alternative names (DNS names and IP addresses), when the handshake completed.
    static func names(host: String, port: Int, configuration: TLSConfiguration) async -> [String]? {
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let loop = HTTPClient.defaultEventLoopGroup.next()
        let handshake = loop.makePromise(of: Void.self)
        let serverName = isIPAddress(host) ? nil : host
        let bootstrap = ClientBootstrap(group: loop).connectTimeout(.seconds(2)).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(handshake))
            }
        }
        let timeout = loop.scheduleTask(in: .seconds(2)) { handshake.fail(ChannelError.connectTimeout(.seconds(2))) }
        defer { timeout.cancel() }
        guard let channel = try? await bootstrap.connect(host: host, port: port).get() else {
            handshake.fail(ChannelError.connectTimeout(.seconds(2)))
            return nil
        }
        defer { channel.close(promise: nil) }
        guard (try? await handshake.futureResult.get()) != nil,
              let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        var names: [String] = []
        for name in certificate._subjectAlternativeNames().compactMap(render) where !names.contains(name) { names.append(name) }
        return names
    }

    static func render(_ name: _SubjectAlternativeName) -> String? {
        let bytes = name.contents.withUnsafeBufferPointer { Array($0) }
        switch name.nameType {
        case .dnsName: return String(decoding: bytes, as: UTF8.self)
        case .ipAddress where bytes.count == 4: return bytes.map(String.init).joined(separator: ".")
        case .ipAddress where bytes.count == 16:
            // The usual short form (::1), as the system writes it.
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard bytes.withUnsafeBytes({ inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }) != nil else { return nil }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        default: return nil
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber })
    }

    /// Fulfils the promise when the handshake completes, fails it on the first error.
    final class HandshakeWaiter: ChannelInboundHandler {
        typealias InboundIn = Any
        let promise: EventLoopPromise<Void>
        init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted? = event as? TLSUserEvent { promise.succeed() }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }
    }
}
