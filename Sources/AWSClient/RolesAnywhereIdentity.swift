import Crypto
import SwiftASN1
import X509
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// The certificate (with the intermediates that follow it in its file) and the private key IAM Roles Anywhere
/// signs `CreateSession` with. Read from PEM: the key as PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or
/// SEC1 (`EC PRIVATE KEY`); RSA (2048 bits or more), ECDSA P-256 and P-384, as AWS's own helper takes them.
/// `description` names the certificate only: the key is never printed.
public struct RolesAnywhereIdentity: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public enum KeyType: String, Sendable, Equatable {
        case rsa = "RSA"
        case ecdsaP256 = "ECDSA P-256"
        case ecdsaP384 = "ECDSA P-384"
    }

    public let certificate: Certificate
    /// DER of the leaf certificate, exactly as in the file.
    public let certificateDER: [UInt8]
    /// DER of the certificates after the leaf in the file (intermediates), in file order.
    public let chainDER: [[UInt8]]
    public let keyType: KeyType
    /// Where the files were read (for messages).
    public let certificatePath: String
    public let privateKeyPath: String
    private let privateKey: Certificate.PrivateKey

    /// `AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256` (SHA-256 for every key, as AWS's helper signs).
    public var signingAlgorithm: String {
        keyType == .rsa ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256"
    }

    /// The certificate's serial number in decimal: the credential of the `Authorization` header.
    public var serialNumber: String { Self.decimal(certificate.serialNumber.bytes) }

    /// `X-Amz-X509`: base64 of the leaf's DER.
    public var x509Header: String { Data(certificateDER).base64EncodedString() }

    /// `X-Amz-X509-Chain`: the intermediates' DER in base64, separated by commas; nil without intermediates.
    public var chainHeader: String? {
        chainDER.isEmpty ? nil : chainDER.map { Data($0).base64EncodedString() }.joined(separator: ",")
    }

    public var description: String {
        "RolesAnywhereIdentity(serial \(serialNumber), \(keyType.rawValue), valid \(UTCTime.iso8601(certificate.notValidBefore)) to \(UTCTime.iso8601(certificate.notValidAfter)), \(chainDER.count) intermediates, key <redacted>)"
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers see the certificate's facts only, never the key.
    public var customMirror: Mirror {
        Mirror(self, children: ["serialNumber": serialNumber, "keyType": keyType, "certificatePath": certificatePath, "privateKeyPath": privateKeyPath])
    }

    /// The signature of `message`: RSA PKCS#1 v1.5 with SHA-256, or ECDSA with SHA-256 in DER (`SEQUENCE {r, s}`),
    /// as AWS's helper and `iam-rolesanywhere-session` compute it.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        let algorithm: Certificate.SignatureAlgorithm = keyType == .rsa ? .sha256WithRSAEncryption : .ecdsaWithSHA256
        return try privateKey.sign(bytes: message, signatureAlgorithm: algorithm).rawRepresentation
    }

    /// Reads both files (small: read in place). Throws `RolesAnywhereError` naming the file and the fix.
    public static func read(certificateFile: String, privateKeyFile: String) throws(RolesAnywhereError) -> RolesAnywhereIdentity {
        let certificateText = try readFile(certificateFile, as: .certificate)
        let keyText = try readFile(privateKeyFile, as: .privateKey)
        return try RolesAnywhereIdentity(
            certificatePEM: certificateText, privateKeyPEM: keyText, certificatePath: certificateFile, privateKeyPath: privateKeyFile)
    }

    /// Parses PEM text; `certificatePath` and `privateKeyPath` only name the sources in errors.
    public init(certificatePEM: String, privateKeyPEM: String, certificatePath: String, privateKeyPath: String)
        throws(RolesAnywhereError)
    {
        // Certificates: every CERTIFICATE block, leaf first; other blocks (a key bundled in the same file) skipped.
        let certificateBlocks = ((try? PEMDocument.parseMultiple(pemString: certificatePEM)) ?? [])
            .filter { $0.discriminator == "CERTIFICATE" }
        guard !certificateBlocks.isEmpty else { throw .noCertificate(path: certificatePath) }
        var certificates: [Certificate] = []
        for (index, block) in certificateBlocks.enumerated() {
            guard let parsed = try? Certificate(derEncoded: block.derBytes) else {
                throw .certificateUnparsable(path: certificatePath, index: index + 1)
            }
            certificates.append(parsed)
        }

        // The key: the first private key block (a combined file may hold the certificate too). Its bytes never
        // reach an error: only the path and the kind of problem do.
        let keyBlocks = (try? PEMDocument.parseMultiple(pemString: privateKeyPEM)) ?? []
        if keyBlocks.contains(where: { $0.discriminator == "ENCRYPTED PRIVATE KEY" }) {
            throw .encryptedPrivateKey(path: privateKeyPath)
        }
        guard let keyBlock = keyBlocks.first(where: { ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"].contains($0.discriminator) })
        else { throw .noPrivateKey(path: privateKeyPath) }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemDocument: keyBlock)
        } catch {
            if let type = Self.unsupportedAlgorithmName(pkcs8: keyBlock) {
                throw .unsupportedKeyType(path: privateKeyPath, type: type)
            }
            throw .privateKeyUnparsable(path: privateKeyPath)
        }
        let publicKey = key.publicKey
        let keyType: KeyType
        if P256.Signing.PublicKey(publicKey) != nil {
            keyType = .ecdsaP256
        } else if P384.Signing.PublicKey(publicKey) != nil {
            keyType = .ecdsaP384
        } else if _RSA.Signing.PublicKey(publicKey) != nil {
            keyType = .rsa
        } else if P521.Signing.PublicKey(publicKey) != nil {
            throw .unsupportedKeyType(path: privateKeyPath, type: "ECDSA P-521")
        } else if Curve25519.Signing.PublicKey(publicKey) != nil {
            throw .unsupportedKeyType(path: privateKeyPath, type: "Ed25519")
        } else {
            throw .unsupportedKeyType(path: privateKeyPath, type: "unknown")
        }
        let leaf = certificates[0]
        guard leaf.publicKey == publicKey else {
            throw .keyDoesNotMatchCertificate(
                certificatePath: certificatePath, keyPath: privateKeyPath, serial: Self.decimal(leaf.serialNumber.bytes))
        }
        self.certificate = leaf
        self.certificateDER = Array(certificateBlocks[0].derBytes)
        self.chainDER = certificateBlocks.dropFirst().map { Array($0.derBytes) }
        self.keyType = keyType
        self.privateKey = key
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }

    /// Throws when `now` is outside the certificate's validity (AWS would refuse it with a vaguer answer).
    public func checkValidity(at now: Date) throws(RolesAnywhereError) {
        if now > certificate.notValidAfter {
            throw .certificateExpired(path: certificatePath, serial: serialNumber, notAfter: certificate.notValidAfter, now: now)
        }
        if now < certificate.notValidBefore {
            throw .certificateNotYetValid(path: certificatePath, serial: serialNumber, notBefore: certificate.notValidBefore, now: now)
        }
    }

    // MARK: - Helpers

    static func readFile(_ path: String, as file: RolesAnywhereError.File) throws(RolesAnywhereError) -> String {
        guard !path.isEmpty else { throw .fileUnreadable(file, path: path, reason: "the path is empty") }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .fileUnreadable(file, path: path, reason: Self.fileErrorText(error))
        }
    }

    static func fileErrorText(_ error: any Error) -> String {
        if let e = error as? CocoaError {
            switch e.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            default: return "cannot be read (error \(e.code.rawValue))"
            }
        }
        return "cannot be read"
    }

    /// The name of a PKCS#8 key's algorithm IAM Roles Anywhere does not take, when swift-certificates cannot
    /// read it at all (e.g. Ed448, DSA); nil when the block is not PKCS#8 or its algorithm is a supported one.
    static func unsupportedAlgorithmName(pkcs8 block: PEMDocument) -> String? {
        guard block.discriminator == "PRIVATE KEY", let root = try? DER.parse(block.derBytes),
            case .constructed(let children) = root.content
        else { return nil }
        var iterator = children.makeIterator()
        _ = iterator.next()  // version
        guard let algorithm = iterator.next(), case .constructed(let identifier) = algorithm.content,
            let oidNode = identifier.first(where: { _ in true }), let oid = try? ASN1ObjectIdentifier(derEncoded: oidNode)
        else { return nil }
        switch oid.description {
        case "1.2.840.113549.1.1.1", "1.2.840.10045.2.1": return nil  // rsaEncryption, id-ecPublicKey
        case "1.3.101.112": return "Ed25519"
        case "1.3.101.113": return "Ed448"
        case "1.2.840.10040.4.1": return "DSA"
        case "1.2.840.113549.1.1.10": return "RSA-PSS"
        default: return "with algorithm \(oid.description)"
        }
    }

    /// A big-endian unsigned integer in decimal (serial numbers are up to 20 bytes).
    static func decimal(_ bytes: some Collection<UInt8>) -> String {
        var number = Array(bytes.drop(while: { $0 == 0 }))
        if number.isEmpty { return "0" }
        var digits: [UInt8] = []
        while !number.isEmpty {
            var remainder = 0
            var quotient: [UInt8] = []
            quotient.reserveCapacity(number.count)
            for byte in number {
                let value = remainder * 256 + Int(byte)
                let digit = value / 10
                remainder = value % 10
                if !quotient.isEmpty || digit != 0 { quotient.append(UInt8(digit)) }
            }
            digits.append(UInt8(remainder))
            number = quotient
        }
        return String(decoding: digits.reversed().map { $0 + 48 }, as: UTF8.self)
    }
}
