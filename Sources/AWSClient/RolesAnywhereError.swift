#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// What keeps IAM Roles Anywhere from issuing credentials, found here (files, certificate, key, settings) or
/// answered by the endpoint. `description` is one line naming the cause and the fix; it never contains the
/// private key (not even a part of it: only file paths, the certificate's serial number and dates).
public enum RolesAnywhereError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which file a problem is about, by its setting.
    public enum File: String, Sendable, Equatable {
        case certificate = "AWS_ROLES_ANYWHERE_CERTIFICATE"
        case privateKey = "AWS_ROLES_ANYWHERE_PRIVATE_KEY"

        /// The key of a `kubernetes.io/tls` Secret that holds it.
        var secretKey: String { self == .certificate ? "tls.crt" : "tls.key" }
    }

    /// The file does not exist or cannot be read (`reason`: "no such file", "permission denied", ...).
    case fileUnreadable(File, path: String, reason: String)
    /// The certificate file holds no `CERTIFICATE` block.
    case noCertificate(path: String)
    /// A certificate block is not a valid X.509 certificate (`index` counts from 1).
    case certificateUnparsable(path: String, index: Int)
    /// The key file holds no private key block.
    case noPrivateKey(path: String)
    /// The key file holds an encrypted private key.
    case encryptedPrivateKey(path: String)
    /// The private key block cannot be read (malformed, or RSA shorter than 2048 bits).
    case privateKeyUnparsable(path: String)
    /// A key of a type IAM Roles Anywhere does not take (`type`: "Ed25519", "ECDSA P-521", ...).
    case unsupportedKeyType(path: String, type: String)
    /// The private key is not the one the certificate was issued for.
    case keyDoesNotMatchCertificate(certificatePath: String, keyPath: String, serial: String)
    /// The certificate's validity ended before `now`.
    case certificateExpired(path: String, serial: String, notAfter: Date, now: Date)
    /// The certificate's validity starts after `now`.
    case certificateNotYetValid(path: String, serial: String, notBefore: Date, now: Date)
    /// A trust anchor or profile ARN that is not one (`setting` names it).
    case invalidARN(setting: String, value: String, expected: String)
    /// The trust anchor and the profile live in different regions (CreateSession is regional).
    case regionMismatch(trustAnchorRegion: String, profileRegion: String)
    /// `AWS_ROLES_ANYWHERE_SESSION_DURATION` outside what CreateSession accepts.
    case sessionDurationOutOfRange(seconds: Int)
    /// The endpoint refused the session: the certificate is not trusted by the anchor, the profile or role does
    /// not allow it, or the request was invalid. `code`/`message` are the endpoint's answer.
    case refused(code: String?, status: Int?, message: String, trustAnchorARN: String, profileARN: String, roleARN: String, requestID: String?)

    /// The session duration range CreateSession accepts (seconds): 15 minutes to 12 hours.
    public static let sessionDurationRange = 900...43200

    public var description: String {
        switch self {
        case .fileUnreadable(let file, let path, let reason):
            return
                "\(file.rawValue)=\(path): \(reason); mount the kubernetes.io/tls Secret's \(file.secretKey) there or correct the path"
        case .noCertificate(let path):
            return
                "AWS_ROLES_ANYWHERE_CERTIFICATE=\(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at the certificate file (tls.crt), intermediates after it"
        case .certificateUnparsable(let path, let index):
            return
                "AWS_ROLES_ANYWHERE_CERTIFICATE=\(path): certificate \(index) in the file is not a valid X.509 certificate: replace the file with the PEM certificate issued for the helper"
        case .noPrivateKey(let path):
            return
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(path) holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY): point it at the key file (tls.key)"
        case .encryptedPrivateKey(let path):
            return
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(path) is encrypted (ENCRYPTED PRIVATE KEY): give the key unencrypted (PKCS#8, PKCS#1 or SEC1 PEM, as cert-manager writes it) and protect the file instead"
        case .privateKeyUnparsable(let path):
            return
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(path) cannot be read as a private key (malformed, or RSA shorter than 2048 bits): give the PEM key the certificate was issued for"
        case .unsupportedKeyType(let path, let type):
            return
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(path): unsupported key type \(type): IAM Roles Anywhere takes RSA (2048 bits or more) or ECDSA P-256/P-384 keys; issue the certificate for one of those (cert-manager: privateKey.algorithm RSA, or ECDSA with size 256 or 384)"
        case .keyDoesNotMatchCertificate(let certificatePath, let keyPath, let serial):
            return
                "the private key AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(keyPath) does not match the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(certificatePath) (serial \(serial)): give the key the certificate was issued for (tls.key and tls.crt of the same Secret)"
        case .certificateExpired(let path, let serial, let notAfter, let now):
            return
                "the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(path) (serial \(serial)) expired at \(UTCTime.iso8601(notAfter)) (now \(UTCTime.iso8601(now))): renew it (with cert-manager, check the Certificate's status and its issuer)"
        case .certificateNotYetValid(let path, let serial, let notBefore, let now):
            return
                "the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(path) (serial \(serial)) is not valid before \(UTCTime.iso8601(notBefore)) (now \(UTCTime.iso8601(now))): check this machine's clock (NTP) or the issuer's, or wait until then"
        case .invalidARN(let setting, let value, let expected):
            return "\(setting) \"\(Printable.escape(value))\" is not \(expected)"
        case .regionMismatch(let anchorRegion, let profileRegion):
            return
                "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN is in \(anchorRegion) but AWS_ROLES_ANYWHERE_PROFILE_ARN is in \(profileRegion): use a trust anchor and a profile of the same region"
        case .sessionDurationOutOfRange(let seconds):
            return
                "AWS_ROLES_ANYWHERE_SESSION_DURATION \(seconds) s is outside 900 to 43200 s (15 minutes to 12 hours): choose a duration in that range (and no longer than the profile's and the role's maximum)"
        case .refused(let code, let status, let message, let anchor, let profile, let role, let requestID):
            var parts: [String] = []
            if let code { parts.append(code) }
            if let status { parts.append("HTTP \(status)") }
            let codeText = parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
            let says = message.isEmpty ? "" : " It says: \(message)."
            let request = requestID.map { " [request id \($0)]" } ?? ""
            let fix: String
            if message.lowercased().contains("untrusted") || message.lowercased().contains("trust anchor") {
                fix = "the certificate is not trusted by the trust anchor \(anchor): add the CA that issued it (or its root) to the trust anchor, include the intermediates after the certificate in its file, and check that the anchor is enabled"
            } else {
                fix = "check that the profile \(profile) is enabled and lists the role \(role), that the role's trust policy allows rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity) for this certificate, and that the trust anchor \(anchor) is enabled"
            }
            return AWSError.oneLine("IAM Roles Anywhere refused CreateSession\(codeText): \(fix).\(says)\(request)")
        }
    }
}
