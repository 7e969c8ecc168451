#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import CommonBasics

/// SigV4 with an X.509 certificate, as IAM Roles Anywhere requires for `CreateSession` (AWS's
/// rolesanywhere-credential-helper, aws_signing_helper/signer.go; `iam-rolesanywhere-session` computes the same):
/// - headers `Host`, `X-Amz-Date`, `X-Amz-X509` (base64 DER of the leaf) and `X-Amz-X509-Chain` (the
///   intermediates, comma-separated) are added and signed with the caller's, canonicalized as SigV4 does
///   (`SigV4Signer.canonicalRequest`, the same code as every other request here);
/// - the string to sign is `<algorithm>\n<amz date>\n<scope>\n<hex SHA-256 of the canonical request>` with the
///   algorithm `AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256`, and is signed with the private key
///   (RSA PKCS#1 v1.5 / ECDSA DER, SHA-256), hex-encoded;
/// - `Authorization: <algorithm> Credential=<serial in decimal>/<scope>, SignedHeaders=..., Signature=...`.
public struct SigV4X509Signer: Sendable {
    public var region: String
    public var service: String
    public var identity: RolesAnywhereIdentity

    public init(region: String, service: String = "rolesanywhere", identity: RolesAnywhereIdentity) {
        self.region = region
        self.service = service
        self.identity = identity
    }

    /// Signs a request; `url` as sent on the wire. Returns the same shape as the HMAC signer (no secret in it:
    /// the canonical request holds only the certificate, which is public).
    public func sign(
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        date: Date
    ) throws -> SigV4Signer.SignedRequest {
        let parts = try SigV4Signer.splitURL(url)
        let amzDate = UTCTime.amzDate(date)
        let scopeDate = String(amzDate.prefix(8))
        let ours: Set<String> = ["authorization", "x-amz-date", "x-amz-x509", "x-amz-x509-chain"]
        var sent = headers.filter { !ours.contains($0.name.trimmingASCIIWhitespace().lowercased()) }
        if !sent.contains(where: { $0.name.trimmingASCIIWhitespace().lowercased() == "host" }) {
            sent.insert((name: "Host", value: parts.hostHeader), at: 0)
        }
        sent.append((name: "X-Amz-Date", value: amzDate))
        sent.append((name: "X-Amz-X509", value: identity.x509Header))
        if let chain = identity.chainHeader {
            sent.append((name: "X-Amz-X509-Chain", value: chain))
        }

        let canonicalizer = SigV4Signer(region: region, service: service)
        let canonical = canonicalizer.canonicalRequest(method: method, path: parts.path, query: parts.query, headers: sent, body: body)
        let credentialScope = "\(scopeDate)/\(region)/\(service)/aws4_request"
        let algorithm = identity.signingAlgorithm
        let stringToSign = [
            algorithm,
            amzDate,
            credentialScope,
            Hex.encode(SHA256.hash(data: Array(canonical.request.utf8))),
        ].joined(separator: "\n")
        let signature = Hex.encode(try identity.sign(Array(stringToSign.utf8)))
        let authorization =
            "\(algorithm) Credential=\(identity.serialNumber)/\(credentialScope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        sent.append((name: "Authorization", value: authorization))
        return SigV4Signer.SignedRequest(
            headers: sent,
            canonicalRequest: canonical.request,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: canonical.signedHeaders,
            credentialScope: credentialScope,
            amzDate: amzDate,
            authorization: authorization,
            payloadHash: canonical.payloadHash
        )
    }
}
