import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// What to ask IAM Roles Anywhere for: the trust anchor and profile (which fix the region), the role, and the
/// optional session duration and role session name. Validated when made; nothing here is secret.
public struct RolesAnywhereSessionRequest: Sendable, Hashable {
    public var trustAnchorARN: String
    public var profileARN: String
    public var roleARN: String
    /// Seconds, 900...43200; nil: 3600, as AWS's helper asks by default.
    public var durationSeconds: Int?
    public var roleSessionName: String?
    /// The region of the trust anchor (and the profile): CreateSession is called there.
    public let region: String

    public static let defaultDurationSeconds = 3600

    public init(trustAnchorARN: String, profileARN: String, roleARN: String, durationSeconds: Int? = nil, roleSessionName: String? = nil)
        throws
    {
        let anchorRegion = try Self.region(
            of: trustAnchorARN, resource: "trust-anchor/", setting: "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN",
            expected: "a trust anchor ARN like arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>")
        let profileRegion = try Self.region(
            of: profileARN, resource: "profile/", setting: "AWS_ROLES_ANYWHERE_PROFILE_ARN",
            expected: "a profile ARN like arn:aws:rolesanywhere:us-east-1:123456789012:profile/<id>")
        guard anchorRegion == profileRegion else {
            throw RolesAnywhereError.regionMismatch(trustAnchorRegion: anchorRegion, profileRegion: profileRegion)
        }
        try STSClient.validateRoleARN(roleARN, source: "AWS_ROLE_ARN")
        if let durationSeconds, !RolesAnywhereError.sessionDurationRange.contains(durationSeconds) {
            throw RolesAnywhereError.sessionDurationOutOfRange(seconds: durationSeconds)
        }
        if let roleSessionName { try STSClient.validateSessionName(roleSessionName) }
        self.trustAnchorARN = trustAnchorARN
        self.profileARN = profileARN
        self.roleARN = roleARN
        self.durationSeconds = durationSeconds
        self.roleSessionName = roleSessionName
        self.region = anchorRegion
    }

    /// `arn:<partition>:rolesanywhere:<region>:<account>:<resource><id>` -> region.
    static func region(of arn: String, resource: String, setting: String, expected: String) throws(RolesAnywhereError) -> String {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "rolesanywhere",
            AWSRegion.isWellFormed(String(parts[3])), parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber }),
            parts[5].hasPrefix(resource), parts[5].count > resource.count,
            !arn.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" })
        else { throw .invalidARN(setting: setting, value: arn, expected: expected) }
        return String(parts[3])
    }

    /// `/sessions?profileArn=...&roleArn=...&trustAnchorArn=...`: the ARNs travel in the query, as the SDK's
    /// model (rolesanywhere/serializers.go) binds them.
    public var pathAndQuery: String {
        "/sessions?" + SigV4Signer.encodeQuery([("profileArn", profileARN), ("roleArn", roleARN), ("trustAnchorArn", trustAnchorARN)])
    }

    /// `{"durationSeconds":3600[,"roleSessionName":"..."]}`: the JSON members of the model.
    public var body: [UInt8] {
        var members = ["\"durationSeconds\":\(durationSeconds ?? Self.defaultDurationSeconds)"]
        if let roleSessionName { members.append("\"roleSessionName\":\(JSONString.quote(roleSessionName))") }
        return Array("{\(members.joined(separator: ","))}".utf8)
    }
}

/// IAM Roles Anywhere's `CreateSession` (REST JSON, signed with the certificate: `SigV4X509Signer`).
public final class RolesAnywhereClient: Sendable {
    public let transport: AWSHTTPTransport
    public let endpoints: AWSEndpoints
    let logger: Logger

    public init(transport: AWSHTTPTransport, endpoints: AWSEndpoints = .standard, logger: Logger? = nil) {
        self.transport = transport
        self.endpoints = endpoints
        self.logger = logger ?? transport.logger
    }

    /// Temporary credentials for `request.roleARN`. Throws `RolesAnywhereError.refused` when the endpoint
    /// refuses (4xx), `AWSError` for transport problems, throttling and server errors (retried first).
    public func createSession(_ request: RolesAnywhereSessionRequest, identity: RolesAnywhereIdentity) async throws -> AWSCredentials {
        let endpoint = try endpoints.resolve(.rolesAnywhere, region: request.region)
        let http = AWSHTTPTransport.Request(
            operation: "rolesanywhere:CreateSession",
            endpoint: endpoint,
            headers: [(name: "Content-Type", value: "application/json")],
            body: request.body,
            signed: false,
            pathAndQuery: request.pathAndQuery,
            x509: identity)
        let response: AWSHTTPTransport.Response
        do {
            response = try await transport.send(http, credentials: nil, logger: logger)
        } catch let error as AWSError {
            if let status = error.statusCode, (400..<500).contains(status), error.kind != .throttling, error.kind != .clockSkew {
                throw RolesAnywhereError.refused(
                    code: error.code, status: status, message: error.message, trustAnchorARN: request.trustAnchorARN,
                    profileARN: request.profileARN, roleARN: request.roleARN, requestID: error.requestID)
            }
            throw error
        }
        do {
            let credentials = try Self.parseCredentials(response.body)
            logger.debug(
                "IAM Roles Anywhere issued temporary credentials",
                metadata: [
                    "aws.certificateSerial": "\(identity.serialNumber)", "aws.accessKeyID": "\(credentials.redactedKeyID)",
                    "expiration": "\(credentials.expiration.map(UTCTime.iso8601) ?? "-")",
                    "aws.requestID": "\(response.requestID ?? "-")",
                ])
            return credentials
        } catch var e as AWSError {
            e.operation = "rolesanywhere:CreateSession"
            e.region = request.region
            e.endpoint = endpoint.url
            e.requestID = e.requestID ?? response.requestID
            e.statusCode = response.status
            throw e
        }
    }

    private struct SessionResponse: Decodable {
        struct CredentialResponse: Decodable {
            struct Credentials: Decodable {
                var accessKeyId: String?
                var secretAccessKey: String?
                var sessionToken: String?
                var expiration: String?
            }
            var credentials: Credentials?
        }
        var credentialSet: [CredentialResponse]?
    }

    /// `{"credentialSet":[{"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}, ...}], ...}`.
    static func parseCredentials(_ body: [UInt8]) throws -> AWSCredentials {
        guard let decoded = try? JSONDecoder().decode(SessionResponse.self, from: Data(body)) else {
            throw AWSError.malformed("the CreateSession response is not the expected JSON")
        }
        guard let credentials = decoded.credentialSet?.first?.credentials else {
            throw AWSError.malformed("the CreateSession response has no credentialSet")
        }
        guard let keyID = credentials.accessKeyId, !keyID.isEmpty, let secret = credentials.secretAccessKey, !secret.isEmpty,
            let token = credentials.sessionToken, !token.isEmpty
        else {
            throw AWSError.malformed("the CreateSession response lacks accessKeyId, secretAccessKey or sessionToken")
        }
        guard let text = credentials.expiration, let expiration = UTCTime.parseISO8601(text) else {
            throw AWSError.malformed("the CreateSession response has no readable expiration")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }
}
