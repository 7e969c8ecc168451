import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// sts:AssumeRole on top of any base provider. Every call assumes the role again; wrap it in a
/// `CachingCredentialProvider` (as `AWSCredentialChain` does) to reuse the temporary credentials.
public struct AssumeRoleCredentialProvider: AWSCredentialProvider, CustomStringConvertible {
    public let sts: STSClient
    public let base: any AWSCredentialProvider
    public let roleARN: String
    public let externalID: String?
    public let sessionName: String
    public let duration: Duration?
    /// The region whose STS endpoint is used.
    public let region: String

    public init(
        sts: STSClient,
        base: any AWSCredentialProvider,
        roleARN: String,
        externalID: String? = nil,
        sessionName: String = STSClient.defaultSessionName(),
        duration: Duration? = nil,
        region: String
    ) throws {
        try STSClient.validateRoleARN(roleARN, source: "role ARN")
        try STSClient.validateSessionName(sessionName)
        _ = try STSClient.durationSeconds(duration)
        try AWSRegion.validate(region, source: "STS region")
        self.sts = sts
        self.base = base
        self.roleARN = roleARN
        self.externalID = externalID
        self.sessionName = sessionName
        self.duration = duration
        self.region = region
    }

    public func credentials() async throws -> AWSCredentials {
        do {
            return try await sts.assumeRole(
                roleARN: roleARN, sessionName: sessionName, externalID: externalID, duration: duration, region: region,
                credentials: base
            ).credentials
        } catch var e as AWSError {
            if e.hint == nil {
                e.hint = "while assuming \(roleARN)"
            }
            throw e
        }
    }

    public var description: String { "AssumeRoleCredentialProvider(\(roleARN), session \(sessionName))" }
}

/// sts:AssumeRoleWithWebIdentity with a token read from a file (re-read on every call, as projected service
/// account tokens rotate): `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (+ `AWS_ROLE_SESSION_NAME`).
public struct WebIdentityCredentialProvider: AWSCredentialProvider, CustomStringConvertible {
    public let sts: STSClient
    public let roleARN: String
    public let tokenFile: String
    public let sessionName: String
    public let duration: Duration?
    public let region: String

    public init(
        sts: STSClient,
        roleARN: String,
        tokenFile: String,
        sessionName: String = STSClient.defaultSessionName(),
        duration: Duration? = nil,
        region: String
    ) throws {
        try STSClient.validateRoleARN(roleARN, source: "AWS_ROLE_ARN")
        try STSClient.validateSessionName(sessionName)
        _ = try STSClient.durationSeconds(duration)
        try AWSRegion.validate(region, source: "STS region")
        guard !tokenFile.isEmpty else { throw AWSError.invalidConfiguration("AWS_WEB_IDENTITY_TOKEN_FILE is empty") }
        self.sts = sts
        self.roleARN = roleARN
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.duration = duration
        self.region = region
    }

    /// Reads and trims the token file.
    func readToken() throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: tokenFile))
        } catch {
            throw AWSError.invalidConfiguration(
                "cannot read the web identity token file AWS_WEB_IDENTITY_TOKEN_FILE=\(tokenFile) (\(Self.fileErrorText(error))); check the projected service account token volume")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingASCIIWhitespace()
        guard !token.isEmpty else {
            throw AWSError.invalidConfiguration("the web identity token file \(tokenFile) is empty")
        }
        return token
    }

    static func fileErrorText(_ error: any Error) -> String {
        if let e = error as? CocoaError {
            switch e.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            default: return "error \(e.code.rawValue)"
            }
        }
        return "\(type(of: error))"
    }

    public func credentials() async throws -> AWSCredentials {
        let token = try readToken()
        do {
            return try await sts.assumeRoleWithWebIdentity(
                roleARN: roleARN, sessionName: sessionName, webIdentityToken: token, duration: duration, region: region
            ).credentials
        } catch var e as AWSError {
            if e.hint == nil { e.hint = "role \(roleARN), token file \(tokenFile)" }
            throw e
        }
    }

    public var description: String { "WebIdentityCredentialProvider(\(roleARN), token file \(tokenFile))" }
}

/// Options for assuming a role on top of the base credentials.
public struct AWSAssumeRoleOptions: Sendable, Equatable {
    public var roleARN: String
    public var externalID: String?
    public var sessionName: String?
    public var duration: Duration?

    public init(roleARN: String, externalID: String? = nil, sessionName: String? = nil, duration: Duration? = nil) {
        self.roleARN = roleARN
        self.externalID = externalID
        self.sessionName = sessionName
        self.duration = duration
    }
}

/// Builds the usual credential chain from an environment dictionary.
public enum AWSCredentialChain {
    /// In order, as the AWS SDKs do:
    /// 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`): static keys;
    /// 2. `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (+ `AWS_ROLE_SESSION_NAME`): web identity (cached).
    ///
    /// `baseOverride` replaces step 1 (e.g. keys the product reads from mounted files each cycle). With
    /// `assumeRole`, the chosen credentials are used to assume that role (cached). STS calls go to `stsRegion`,
    /// else `AWS_REGION`/`AWS_DEFAULT_REGION`, else us-east-1. Throws `.invalidConfiguration` when nothing is
    /// configured or a variable is half set.
    public static func fromEnvironment(
        _ env: [String: String],
        sts: STSClient,
        baseOverride: (any AWSCredentialProvider)? = nil,
        assumeRole: AWSAssumeRoleOptions? = nil,
        stsRegion: String? = nil,
        logger: Logger = Logger(label: "AWSClient.credentials")
    ) throws -> any AWSCredentialProvider {
        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        let region = try stsRegion.map { try AWSRegion.validate($0, source: "STS region") } ?? AWSRegion.fromEnvironment(env) ?? "us-east-1"
        let sessionName = try value("AWS_ROLE_SESSION_NAME").map { name -> String in
            try STSClient.validateSessionName(name)
            return name
        }

        var base: (any AWSCredentialProvider)?
        if let baseOverride {
            base = baseOverride
        } else {
            let keyID = value("AWS_ACCESS_KEY_ID")
            let secret = value("AWS_SECRET_ACCESS_KEY")
            switch (keyID, secret) {
            case (let k?, let s?):
                let credentials = try AWSCredentials(accessKeyID: k, secretAccessKey: s, sessionToken: value("AWS_SESSION_TOKEN")).validated()
                base = StaticCredentialProvider(credentials)
            case (_?, nil):
                throw AWSError.invalidConfiguration("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both")
            case (nil, _?):
                throw AWSError.invalidConfiguration("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both")
            case (nil, nil):
                break
            }
        }
        if base == nil {
            let roleARN = value("AWS_ROLE_ARN")
            let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE")
            switch (roleARN, tokenFile) {
            case (let arn?, let file?):
                let provider = try WebIdentityCredentialProvider(
                    sts: sts, roleARN: arn, tokenFile: file, sessionName: sessionName ?? STSClient.defaultSessionName(),
                    region: region)
                base = CachingCredentialProvider(provider, logger: logger)
            case (_?, nil):
                throw AWSError.invalidConfiguration("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not: set both for web identity")
            case (nil, _?):
                throw AWSError.invalidConfiguration("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set both for web identity")
            case (nil, nil):
                break
            }
        }
        guard let base else {
            throw AWSError.invalidConfiguration(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        guard let assumeRole else { return base }
        let provider = try AssumeRoleCredentialProvider(
            sts: sts, base: base, roleARN: assumeRole.roleARN, externalID: assumeRole.externalID,
            sessionName: assumeRole.sessionName ?? sessionName ?? STSClient.defaultSessionName(), duration: assumeRole.duration,
            region: region)
        return CachingCredentialProvider(provider, logger: logger)
    }
}
