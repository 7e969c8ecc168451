import Crypto
import Foundation
import Testing
import X509
import _CryptoExtras

@testable import AWSClient

/// Signs the same CreateSession requests (same time, certificate, key, body) with SigV4X509Signer and with the
/// PyPI package iam-rolesanywhere-session (scripts/aws/rolesanywhere_oracle.py), for RSA and ECDSA keys in every
/// PEM form, with and without intermediates, and requires the same canonical request, string to sign, headers
/// and credential. RSA PKCS#1 v1.5 signatures are deterministic and must be equal; ECDSA ones differ by nature,
/// so both are verified with the certificate's public key instead.
@Suite struct RolesAnywhereSigningDifferentialTests {
    struct Case: Sendable {
        var label: String
        var certificate: String
        var key: String
        /// The oracle takes the leaf and the intermediates in separate files.
        var leaf: String
        var intermediates: String?
    }

    static let cases = [
        Case(label: "RSA, PKCS#1, with intermediate", certificate: "rsa.crt", key: "rsa.key", leaf: "leaf-rsa.pem", intermediates: "intermediates-rsa.pem"),
        Case(label: "RSA, PKCS#8, with intermediate", certificate: "rsa.crt", key: "rsa-pkcs8.key", leaf: "leaf-rsa.pem", intermediates: "intermediates-rsa.pem"),
        Case(label: "ECDSA P-256, SEC1", certificate: "ec256.crt", key: "ec256.key", leaf: "leaf-ec256.pem", intermediates: nil),
        Case(label: "ECDSA P-256, PKCS#8", certificate: "ec256.crt", key: "ec256-pkcs8.key", leaf: "leaf-ec256.pem", intermediates: nil),
        Case(label: "ECDSA P-384, PKCS#8, with intermediate", certificate: "ec384.crt", key: "ec384.key", leaf: "leaf-ec384.pem", intermediates: "intermediates-ec384.pem"),
    ]

    struct OracleOutput: Decodable {
        var version: String
        var results: [OracleResult]
    }

    struct OracleResult: Decodable {
        var canonical_request: String?
        var string_to_sign: String?
        var signature: String?
        var authorization: String?
        var headers: [[String]]?
        var error: String?
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    /// Verifies a hex signature of `message` with the certificate's public key (SHA-256, as both sides sign).
    static func verifies(_ signatureHex: String, _ message: String, _ certificate: Certificate) -> Bool {
        let signature = bytes(hex: signatureHex)
        let digest = SHA256.hash(data: Array(message.utf8))
        if let key = P256.Signing.PublicKey(certificate.publicKey), let s = try? P256.Signing.ECDSASignature(derRepresentation: signature) {
            return key.isValidSignature(s, for: digest)
        }
        if let key = P384.Signing.PublicKey(certificate.publicKey), let s = try? P384.Signing.ECDSASignature(derRepresentation: signature) {
            return key.isValidSignature(s, for: digest)
        }
        if let key = _RSA.Signing.PublicKey(certificate.publicKey) {
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        }
        return false
    }

    static func headerSet(_ headers: [(String, String)]) -> [String] {
        headers.filter { $0.0.lowercased() != "authorization" }.map { "\($0.0.lowercased()): \($0.1)" }.sorted()
    }

    @Test(.enabled(if: TestEnv.python != nil, TestEnv.pythonReason))
    func sameRequestAsIAMRolesAnywhereSession() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let date = Date(timeIntervalSince1970: 1_767_323_045)  // 2026-01-02T03:04:05Z
        let requests = [
            try world.request(durationSeconds: 1800, roleSessionName: "node-1"),
            try world.request(),
        ]
        let bases = ["https://rolesanywhere.us-east-1.amazonaws.com", "https://127.0.0.1:8443"]

        var ours: [(Case, RolesAnywhereIdentity, SigV4Signer.SignedRequest)] = []
        var specs: [[String: Any]] = []
        for c in Self.cases {
            let identity = try world.identity(c.certificate, c.key)
            for base in bases {
                for request in requests {
                    let url = base + request.pathAndQuery
                    let headers = [(name: "Content-Type", value: "application/json")]
                    let signed = try SigV4X509Signer(region: "us-east-1", identity: identity)
                        .sign(method: "POST", url: url, headers: headers, body: request.body, date: date)
                    ours.append((c, identity, signed))
                    var spec: [String: Any] = [
                        "method": "POST", "url": url, "headers": headers.map { [$0.name, $0.value] },
                        "body": String(decoding: request.body, as: UTF8.self), "certificate": world.path(c.leaf),
                        "private_key": world.path(c.key), "region": "us-east-1", "amz_date": "20260102T030405Z",
                    ]
                    if let chain = c.intermediates { spec["chain"] = world.path(chain) }
                    specs.append(spec)
                }
            }
        }
        let run = try await runPythonScript("rolesanywhere_oracle.py", input: try JSONSerialization.data(withJSONObject: ["requests": specs]))
        try #require(run.status == 0, "rolesanywhere_oracle.py failed: \(run.errors)")
        let oracle = try JSONDecoder().decode(OracleOutput.self, from: run.output)
        try #require(oracle.results.count == ours.count)

        for ((c, identity, mine), theirs) in zip(ours, oracle.results) {
            let context: Comment = "\(c.label), iam-rolesanywhere-session \(oracle.version)"
            try #require(theirs.error == nil, "\(context): \(theirs.error ?? "")")
            #expect(mine.canonicalRequest == theirs.canonical_request, context)
            #expect(mine.stringToSign == theirs.string_to_sign, context)
            let theirHeaders = (theirs.headers ?? []).map { ($0[0], $0[1]) }
            #expect(Self.headerSet(mine.headers.map { ($0.name, $0.value) }) == Self.headerSet(theirHeaders), context)
            // The Authorization header up to the signature: algorithm, serial/scope, signed headers.
            let unsigned = { (text: String) in text.components(separatedBy: ", Signature=")[0] }
            #expect(unsigned(mine.authorization) == unsigned(theirs.authorization ?? ""), context)
            if identity.keyType == .rsa {
                #expect(mine.signature == theirs.signature, context)
            }
            #expect(Self.verifies(mine.signature, mine.stringToSign, identity.certificate), context)
            #expect(Self.verifies(theirs.signature ?? "", mine.stringToSign, identity.certificate), context)
        }
        // The request as it goes out: what both sides signed, for the record.
        let first = ours[0].2
        #expect(first.signedHeaders == "content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain")
        #expect(first.canonicalRequest.hasPrefix("POST\n/sessions\nprofileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2F"))
    }
}
