#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import SwiftASN1
import X509

/// A CA and the serving certificate it signed (SANs 127.0.0.1, ::1, localhost), generated at start so that
/// clients verify the stand-in exactly as they verify a real API server.
struct ServingIdentity: Sendable {
    var caPEM: String
    var certificateChainPEM: String
    var keyPEM: String

    static func generate(extraHosts: [String] = []) throws -> ServingIdentity {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caSigningKey = Certificate.PrivateKey(caKey)
        let caName = try DistinguishedName {
            OrganizationName("kube-test-server")
            CommonName("kube-test-server-ca")
        }
        let caCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caSigningKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(3600 * 24 * 365),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caSigningKey.publicKey)
            },
            issuerPrivateKey: caSigningKey)

        let serverKey = P256.Signing.PrivateKey()
        let serverSigningKey = Certificate.PrivateKey(serverKey)
        let serverName = try DistinguishedName { CommonName("kube-apiserver") }
        var names: [GeneralName] = [
            .dnsName("localhost"), .dnsName("kubernetes"), .dnsName("kubernetes.default"),
            .dnsName("kubernetes.default.svc"),
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
        ]
        for host in extraHosts where !host.isEmpty {
            if let bytes = IPv4Bytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
            } else {
                names.append(.dnsName(host))
            }
        }
        let serverCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: serverSigningKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(3600 * 24 * 365),
            issuer: caName, subject: serverName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: caSigningKey)

        return ServingIdentity(
            caPEM: try caCertificate.serializeAsPEM().pemString + "\n",
            certificateChainPEM: try serverCertificate.serializeAsPEM().pemString + "\n",
            keyPEM: serverKey.pemRepresentation + "\n")
    }

    private static func IPv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
