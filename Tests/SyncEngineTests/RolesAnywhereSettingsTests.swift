import Foundation
import Testing
@testable import SyncEngine

/// The IAM Roles Anywhere settings: what a complete set gives, and every mistake in the words the user reads.
@Suite struct RolesAnywhereSettingsTests {
    static let anchor = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/11111111-2222-3333-4444-555555555555"
    static let profile = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/66666666-7777-8888-9999-000000000000"
    static let role = "arn:aws:iam::123456789012:role/ecr-pull-role"

    /// A certificate Secret and three ARNs, nothing else of AWS.
    static let complete: [String: String] = [
        "NAMESPACES": "default",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ROLES_ANYWHERE_CERTIFICATE": "/config-aws/tls/tls.crt",
        "AWS_ROLES_ANYWHERE_PRIVATE_KEY": "/config-aws/tls/tls.key",
        "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": anchor,
        "AWS_ROLES_ANYWHERE_PROFILE_ARN": profile,
        "AWS_ROLE_ARN": role,
    ]

    static func parse(_ pairs: [String: String]) throws(ConfigurationError) -> HelperSettings {
        try HelperSettings.parse(SettingValues(pairs.mapValues { SettingValue($0, origin: "test") }))
    }

    static func problems(_ pairs: [String: String]) -> [String] {
        do {
            _ = try parse(pairs)
            return []
        } catch { return error.problems }
    }

    @Test func certificateAndThreeARNsAreEnough() throws {
        let settings = try Self.parse(Self.complete)
        let access = try #require(settings.aws.rolesAnywhere)
        #expect(access.certificateFile == "/config-aws/tls/tls.crt")
        #expect(access.privateKeyFile == "/config-aws/tls/tls.key")
        #expect(access.trustAnchorARN == Self.anchor)
        #expect(access.profileARN == Self.profile)
        #expect(access.sessionDurationSeconds == nil)
        #expect(settings.aws.accessKeyID == nil)
        #expect(settings.aws.roleARN == Self.role)

        var withDuration = Self.complete
        withDuration["AWS_ROLES_ANYWHERE_SESSION_DURATION"] = "2h"
        #expect(try Self.parse(withDuration).aws.rolesAnywhere?.sessionDurationSeconds == 7200)
        withDuration["AWS_ROLES_ANYWHERE_SESSION_DURATION"] = "900"
        #expect(try Self.parse(withDuration).aws.rolesAnywhere?.sessionDurationSeconds == 900)
    }

    @Test func nodeModeReadsTheSameSettings() throws {
        var raw = Self.complete
        raw["NAMESPACES"] = nil
        raw["AWS_DEFAULT_REGION"] = nil
        let node = try NodeSettings.parse(SettingValues(raw.mapValues { SettingValue($0, origin: "test") }))
        #expect(node.hasCredentials)
        #expect(node.aws.rolesAnywhere?.certificateFile == "/config-aws/tls/tls.crt")
        for setting in [Setting.rolesAnywhereCertificate, .rolesAnywherePrivateKey, .rolesAnywhereTrustAnchorARN, .rolesAnywhereProfileARN, .rolesAnywhereSessionDuration] {
            #expect(NodeSettings.settings.contains(setting))
        }
    }

    @Test func missingCompanions() {
        var raw = Self.complete
        raw["AWS_ROLES_ANYWHERE_PRIVATE_KEY"] = nil
        raw["AWS_ROLE_ARN"] = nil
        #expect(
            Self.problems(raw) == [
                "AWS_ROLES_ANYWHERE_CERTIFICATE is set (test) but AWS_ROLES_ANYWHERE_PRIVATE_KEY is not: set the path of the certificate's private key (tls.key of the mounted kubernetes.io/tls Secret)",
                "AWS_ROLES_ANYWHERE_CERTIFICATE is set (test) but AWS_ROLE_ARN is not: set the role the Roles Anywhere profile allows",
            ])
        var noCertificate = Self.complete
        noCertificate["AWS_ROLES_ANYWHERE_CERTIFICATE"] = nil
        noCertificate["AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN"] = nil
        #expect(
            Self.problems(noCertificate) == [
                "no AWS credentials: provide AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or environment variables of those names, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or AWS_ROLE_ARN with an IAM Roles Anywhere certificate (AWS_ROLES_ANYWHERE_CERTIFICATE, AWS_ROLES_ANYWHERE_PRIVATE_KEY, AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN, AWS_ROLES_ANYWHERE_PROFILE_ARN)",
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY is set (test) but AWS_ROLES_ANYWHERE_CERTIFICATE is not: set the path of the certificate (tls.crt of the mounted kubernetes.io/tls Secret)",
                "AWS_ROLES_ANYWHERE_PRIVATE_KEY is set (test) but AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN is not: set the ARN of the trust anchor holding the certificate's CA",
            ])
    }

    @Test func oneWayToAWS() {
        var raw = Self.complete
        raw["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
        raw["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        #expect(
            Self.problems(raw) == [
                "both AWS_ACCESS_KEY_ID (test) and AWS_ROLES_ANYWHERE_CERTIFICATE (test) are set: use one way to AWS, remove the other"
            ])
    }

    @Test func durationAndARNMistakes() {
        var raw = Self.complete
        raw["AWS_ROLES_ANYWHERE_SESSION_DURATION"] = "13h"
        #expect(
            Self.problems(raw) == [
                "AWS_ROLES_ANYWHERE_SESSION_DURATION (test): 46800 s is outside 900 to 43200 s (15 minutes to 12 hours): choose a duration in that range (and no longer than the profile's and the role's maximum)"
            ])
        raw["AWS_ROLES_ANYWHERE_SESSION_DURATION"] = "soon"
        #expect(Self.problems(raw) == ["AWS_ROLES_ANYWHERE_SESSION_DURATION (test): \"soon\" is not a duration (e.g. 1h, 90m, 3600)"])
        var badAnchor = Self.complete
        badAnchor["AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN"] = "trust-anchor/1"
        #expect(
            Self.problems(badAnchor) == [
                "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN (test): \"trust-anchor/1\" is not a trust anchor ARN like arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>"
            ])
        var otherRegion = Self.complete
        otherRegion["AWS_ROLES_ANYWHERE_PROFILE_ARN"] = Self.profile.replacingOccurrences(of: "us-east-1", with: "eu-west-1")
        #expect(
            Self.problems(otherRegion) == [
                "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN is in us-east-1 but AWS_ROLES_ANYWHERE_PROFILE_ARN is in eu-west-1: use a trust anchor and a profile of the same region"
            ])
    }

    @Test func thePrivateKeySettingIsAPathWithAFlag() {
        let declaration = Setting.rolesAnywherePrivateKey.declaration
        #expect(declaration.flag == "aws-roles-anywhere-private-key")
        #expect(declaration.valueName == "path")
        #expect(Setting.rolesAnywhereCertificate.folders == [.aws])
    }
}
