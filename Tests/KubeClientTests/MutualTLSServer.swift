import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftASN1
import X509

/// A tiny HTTPS server that demands a client certificate signed by its CA (as kube-apiserver does with
/// `--client-ca-file`) and answers every request with a Namespace. The stand-in API server does not do
/// mutual TLS, so client-certificate authentication is checked against this one.
final class MutualTLSServer: Sendable {
    let channel: any Channel
    let url: String
    let caPEM: String
    let clientCertificatePEM: String
    let clientKeyPEM: String

    private init(channel: any Channel, url: String, caPEM: String, clientCertificatePEM: String, clientKeyPEM: String) {
        self.channel = channel
        self.url = url
        self.caPEM = caPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    static func start() async throws -> MutualTLSServer {
        let now = Date()
        let caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let caName = try DistinguishedName { CommonName("mtls-test-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 3600, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            },
            issuerPrivateKey: caKey
        )
        func issue(_ name: String, usage: ExtendedKeyUsage.Usage, ip: Bool) throws -> (Certificate, P256.Signing.PrivateKey) {
            let key = P256.Signing.PrivateKey()
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: now - 3600, notValidAfter: now + 3600, issuer: caName,
                subject: try DistinguishedName {
                    OrganizationName("system:masters")
                    CommonName(name)
                },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([usage])
                    if ip { SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]) }
                },
                issuerPrivateKey: caKey
            )
            return (certificate, key)
        }
        let (serverCertificate, serverKey) = try issue("kube-apiserver", usage: .serverAuth, ip: true)
        let (clientCertificate, clientKey) = try issue("kubeclient-tests", usage: .clientAuth, ip: false)
        let caPEM = try ca.serializeAsPEM().pemString + "\n"

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(try serverCertificate.serializeAsPEM().pemString.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serverKey.pemRepresentation.utf8), format: .pem))
        )
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let context = try NIOSSLContext(configuration: tls)

        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(NamespaceResponder())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        return MutualTLSServer(
            channel: channel, url: "https://127.0.0.1:\(port)", caPEM: caPEM,
            clientCertificatePEM: try clientCertificate.serializeAsPEM().pemString + "\n", clientKeyPEM: clientKey.pemRepresentation + "\n"
        )
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class NamespaceResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = ByteBuffer(string: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"},"status":{"phase":"Active"}}"#)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
