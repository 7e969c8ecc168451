import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// The result of an STS AssumeRole / AssumeRoleWithWebIdentity call.
public struct STSAssumedRole: Sendable, CustomStringConvertible {
    public var credentials: AWSCredentials
    /// `arn:aws:sts::123456789012:assumed-role/role/session`
    public var assumedRoleARN: String?
    public var assumedRoleID: String?

    public var description: String {
        "STSAssumedRole(\(assumedRoleARN ?? "?"), \(credentials))"
    }
}

/// AWS STS over the query protocol (form-encoded POST, XML response).
public final class STSClient: Sendable {
    public let transport: AWSHTTPTransport
    public let endpoints: AWSEndpoints
    let logger: Logger

    public init(transport: AWSHTTPTransport, endpoints: AWSEndpoints = .standard, logger: Logger? = nil) {
        self.transport = transport
        self.endpoints = endpoints
        self.logger = logger ?? transport.logger
    }

    static let version = "2011-06-15"

    /// sts:AssumeRole, signed with `credentials`.
    public func assumeRole(
        roleARN: String,
        sessionName: String,
        externalID: String? = nil,
        duration: Duration? = nil,
        region: String,
        credentials: any AWSCredentialProvider
    ) async throws -> STSAssumedRole {
        try Self.validateRoleARN(roleARN, source: "role ARN")
        try Self.validateSessionName(sessionName)
        var params: [(String, String)] = [
            ("Action", "AssumeRole"), ("Version", Self.version), ("RoleArn", roleARN), ("RoleSessionName", sessionName),
        ]
        if let seconds = try Self.durationSeconds(duration) { params.append(("DurationSeconds", String(seconds))) }
        if let externalID {
            guard (2...1224).contains(externalID.count) else {
                throw AWSError.invalidConfiguration("external id must be 2 to 1224 characters long")
            }
            params.append(("ExternalId", externalID))
        }
        return try await call(
            action: "AssumeRole", params: params, region: region, credentials: credentials, sensitive: externalID.map { [$0] } ?? [])
    }

    /// sts:AssumeRoleWithWebIdentity. Not signed (the web identity token is the credential).
    public func assumeRoleWithWebIdentity(
        roleARN: String,
        sessionName: String,
        webIdentityToken: String,
        duration: Duration? = nil,
        region: String
    ) async throws -> STSAssumedRole {
        try Self.validateRoleARN(roleARN, source: "AWS_ROLE_ARN")
        try Self.validateSessionName(sessionName)
        guard !webIdentityToken.isEmpty else {
            throw AWSError.invalidConfiguration("the web identity token is empty")
        }
        var params: [(String, String)] = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", Self.version), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken),
        ]
        if let seconds = try Self.durationSeconds(duration) { params.append(("DurationSeconds", String(seconds))) }
        return try await call(
            action: "AssumeRoleWithWebIdentity", params: params, region: region, credentials: nil, sensitive: [webIdentityToken])
    }

    private func call(
        action: String,
        params: [(String, String)],
        region: String,
        credentials: (any AWSCredentialProvider)?,
        sensitive: [String]
    ) async throws -> STSAssumedRole {
        let endpoint = try endpoints.resolve(.sts, region: region)
        let request = AWSHTTPTransport.Request(
            operation: "sts:\(action)",
            endpoint: endpoint,
            headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(AWSPercentEncoding.formBody(params).utf8),
            signed: credentials != nil,
            sensitive: sensitive)
        let response = try await transport.send(request, credentials: credentials, logger: logger)
        do {
            let result = try Self.parseCredentials(response.body, action: action)
            logger.debug(
                "STS issued temporary credentials",
                metadata: [
                    "aws.assumedRole": "\(result.assumedRoleARN ?? "-")",
                    "aws.accessKeyID": "\(result.credentials.redactedKeyID)",
                    "expiration": "\(result.credentials.expiration.map(UTCTime.iso8601) ?? "-")",
                    "aws.requestID": "\(response.requestID ?? "-")",
                ])
            return result
        } catch var e as AWSError {
            e.operation = "sts:\(action)"
            e.region = region
            e.endpoint = endpoint.url
            e.requestID = e.requestID ?? response.requestID
            e.statusCode = response.status
            throw e
        }
    }

    /// Reads `<Credentials>` (AccessKeyId, SecretAccessKey, SessionToken, Expiration) and `<AssumedRoleUser>`.
    static func parseCredentials(_ body: [UInt8], action: String) throws -> STSAssumedRole {
        let text = String(decoding: body, as: UTF8.self)
        let xml = MiniXML(text)
        guard let credentialsXML = MiniXML.element("Credentials", in: Substring(text)) else {
            throw AWSError.malformed("the \(action) response has no <Credentials> element")
        }
        let inner = MiniXML(String(credentialsXML))
        guard let keyID = inner.first("AccessKeyId"), !keyID.isEmpty,
            let secret = inner.first("SecretAccessKey"), !secret.isEmpty,
            let token = inner.first("SessionToken"), !token.isEmpty
        else {
            throw AWSError.malformed("the \(action) response lacks AccessKeyId, SecretAccessKey or SessionToken")
        }
        guard let expirationText = inner.first("Expiration") else {
            throw AWSError.malformed("the \(action) response has no Expiration")
        }
        guard let expiration = UTCTime.parseISO8601(expirationText.trimmingASCIIWhitespace()) else {
            throw AWSError.malformed("the \(action) response has an unreadable Expiration \"\(expirationText.prefix(40))\"")
        }
        return STSAssumedRole(
            credentials: AWSCredentials(
                accessKeyID: keyID.trimmingASCIIWhitespace(), secretAccessKey: secret.trimmingASCIIWhitespace(),
                sessionToken: token.trimmingASCIIWhitespace(), expiration: expiration),
            assumedRoleARN: xml.first("Arn", within: "AssumedRoleUser"),
            assumedRoleID: xml.first("AssumedRoleId", within: "AssumedRoleUser"))
    }

    static func durationSeconds(_ duration: Duration?) throws -> Int? {
        guard let duration else { return nil }
        let seconds = Int(duration.seconds.rounded())
        guard (900...43200).contains(seconds) else {
            throw AWSError.invalidConfiguration("role session duration \(seconds) s is outside 900...43200 s (15 minutes to 12 hours)")
        }
        return seconds
    }

    /// `arn:<partition>:iam::<12 digits>:role/<path/name>`
    static func validateRoleARN(_ arn: String, source: String) throws {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let ok =
            parts.count == 6 && parts[0] == "arn" && parts[1].hasPrefix("aws") && parts[2] == "iam"
            && parts[4].count == 12 && parts[4].allSatisfy({ $0.isASCII && $0.isNumber }) && parts[5].hasPrefix("role/")
            && parts[5].count > 5 && !arn.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard ok else {
            throw AWSError.invalidConfiguration(
                "\(source) \"\(Printable.escape(arn))\" is not an IAM role ARN like arn:aws:iam::123456789012:role/name")
        }
    }

    /// 2-64 characters of `[A-Za-z0-9+=,.@_-]`.
    static func validateSessionName(_ name: String) throws {
        let allowed = name.allSatisfy { ch in
            ch.isASCII && (ch.isLetter || ch.isNumber || "+=,.@_-".contains(ch))
        }
        guard (2...64).contains(name.count), allowed else {
            throw AWSError.invalidConfiguration(
                "role session name \"\(Printable.escape(name))\" must be 2-64 characters of letters, digits and +=,.@_-")
        }
    }

    /// A default session name: `aws-ecr-cred-helper-<epoch seconds>`.
    public static func defaultSessionName(now: Date = Date()) -> String {
        "aws-ecr-cred-helper-\(Int(now.timeIntervalSince1970))"
    }
}
