import AWSClient

/// IAM Roles Anywhere settings: a certificate and its private key in files (a mounted `kubernetes.io/tls`
/// Secret's `tls.crt` and `tls.key`, or files on the node), the trust anchor and profile, and the session
/// duration. The role is `AWS_ROLE_ARN`, the session name `AWS_ROLE_SESSION_NAME`, as for the other ways.
/// Only paths and ARNs: the key is read by `RolesAnywhereIdentity` when a session is made, never held here.
public struct RolesAnywhereAccess: Sendable, Hashable {
    public var certificateFile: String
    public var privateKeyFile: String
    public var trustAnchorARN: String
    public var profileARN: String
    /// nil: CreateSession's default of AWS's helper (1 hour).
    public var sessionDurationSeconds: Int?

    /// The request a provider makes, checked (ARNs, regions, duration, session name).
    func sessionRequest(roleARN: String, roleSessionName: String?) throws -> RolesAnywhereSessionRequest {
        try RolesAnywhereSessionRequest(
            trustAnchorARN: trustAnchorARN, profileARN: profileARN, roleARN: roleARN, durationSeconds: sessionDurationSeconds,
            roleSessionName: roleSessionName)
    }

    /// Reads the settings when any of them is set, leaving a problem in `reader` for each mistake: a missing
    /// companion, a malformed ARN, a duration out of range, or another way to AWS set as well
    /// (`otherCredentials`). nil when none is set, or when a problem was found.
    static func read(_ reader: inout SettingsReader, roleARN: String?, otherCredentials: Setting?) -> RolesAnywhereAccess? {
        let certificate = reader.string(.rolesAnywhereCertificate)
        let key = reader.string(.rolesAnywherePrivateKey)
        let anchor = reader.string(.rolesAnywhereTrustAnchorARN)
        let profile = reader.string(.rolesAnywhereProfileARN)
        let durationText = reader.string(.rolesAnywhereSessionDuration)
        let values: [(Setting, String?)] = [
            (.rolesAnywhereCertificate, certificate), (.rolesAnywherePrivateKey, key), (.rolesAnywhereTrustAnchorARN, anchor),
            (.rolesAnywhereProfileARN, profile), (.rolesAnywhereSessionDuration, durationText),
        ]
        let given = values.compactMap { $0.1 == nil ? nil : $0.0 }
        guard let first = given.first else { return nil }
        let problemsBefore = reader.problems.count
        let because = "\(first.key) is set (\(reader.origin(first)))"
        if certificate == nil {
            reader.missing(.rolesAnywhereCertificate, "\(because) but AWS_ROLES_ANYWHERE_CERTIFICATE is not: set the path of the certificate (tls.crt of the mounted kubernetes.io/tls Secret)")
        }
        if key == nil {
            reader.missing(.rolesAnywherePrivateKey, "\(because) but AWS_ROLES_ANYWHERE_PRIVATE_KEY is not: set the path of the certificate's private key (tls.key of the mounted kubernetes.io/tls Secret)")
        }
        if anchor == nil {
            reader.missing(.rolesAnywhereTrustAnchorARN, "\(because) but AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN is not: set the ARN of the trust anchor holding the certificate's CA")
        }
        if profile == nil {
            reader.missing(.rolesAnywhereProfileARN, "\(because) but AWS_ROLES_ANYWHERE_PROFILE_ARN is not: set the ARN of the Roles Anywhere profile")
        }
        if roleARN == nil {
            reader.missing(.roleARN, "\(because) but AWS_ROLE_ARN is not: set the role the Roles Anywhere profile allows")
        }
        if let other = otherCredentials {
            reader.problem(other, "both \(other.key) (\(reader.origin(other))) and \(first.key) (\(reader.origin(first))) are set: use one way to AWS, remove the other")
        }
        var seconds: Int?
        if let durationText {
            if let parsed = DurationParsing.parse(durationText) {
                seconds = Int(parsed.seconds.rounded())
                if !RolesAnywhereError.sessionDurationRange.contains(seconds!) {
                    reader.invalid(.rolesAnywhereSessionDuration, "\(seconds!) s is outside 900 to 43200 s (15 minutes to 12 hours): choose a duration in that range (and no longer than the profile's and the role's maximum)")
                }
            } else {
                reader.invalid(.rolesAnywhereSessionDuration, "\"\(printable(durationText))\" is not a duration (e.g. 1h, 90m, 3600)")
            }
        }
        guard reader.problems.count == problemsBefore, let certificate, let key, let anchor, let profile, let roleARN else { return nil }
        let access = RolesAnywhereAccess(
            certificateFile: certificate, privateKeyFile: key, trustAnchorARN: anchor, profileARN: profile, sessionDurationSeconds: seconds)
        // The ARNs as CreateSession needs them: same words here as when the session is made.
        do {
            _ = try access.sessionRequest(roleARN: roleARN, roleSessionName: nil)
        } catch let error as RolesAnywhereError {
            switch error {
            case .invalidARN(let name, let value, let expected):
                reader.invalid(Setting(rawValue: name) ?? .rolesAnywhereTrustAnchorARN, "\"\(printable(value))\" is not \(expected)")
            default:
                reader.problem(.rolesAnywhereProfileARN, error.description)
            }
            return nil
        } catch {
            reader.invalid(.roleARN, "\"\(printable(roleARN))\" is not an IAM role ARN like arn:aws:iam::123456789012:role/name")
            return nil
        }
        return access
    }
}
