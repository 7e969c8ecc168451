#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeTestServer
import SyncEngine
import Testing
import TestSupport

/// The engine's AWS side against moto with signature checking on: the settings model becomes the right
/// credentials and exactly one call per region, and a failed call never reaches a secret.
@Suite(.enabled(if: MotoEnvironment.current != nil, Comment(rawValue: MotoEnvironment.missingReason)))
struct ECRTokenSourceTests {
    let moto = MotoEnvironment.current!

    func settings(_ extra: [String: String] = [:], keys: MotoEnvironment.Keys? = nil) throws -> HelperSettings {
        let keys = keys ?? moto.allowed
        var values = [
            "NAMESPACES": "default",
            "AWS_ACCESS_KEY_ID": keys.accessKeyId,
            "AWS_SECRET_ACCESS_KEY": keys.secretAccessKey,
            "AWS_DEFAULT_REGION": moto.region,
        ]
        values.merge(extra) { _, new in new }
        return try HelperSettings.parse(SettingValues(values.mapValues { SettingValue($0, origin: "test") }))
    }

    func source(_ logs: CapturedLogs) throws -> ECRTokenSource {
        try ECRTokenSource(environment: ["AWS_ENDPOINT_URL": moto.endpoint], logger: logs.logger(label: "aws"))
    }

    @Test func staticKeysFetchALogin() async throws {
        let logs = CapturedLogs()
        let source = try source(logs)
        defer { Task { try? await source.shutdown() } }
        let login = try await source.fetchLogin(for: settings().aws)
        let credential = try #require(login.credentials.first)
        #expect(credential.username == "AWS")
        #expect(credential.registry.contains("\(moto.account).dkr.ecr.\(moto.region)"))
        #expect(logs.lines(containingAnyOf: [moto.allowed.secretAccessKey, credential.password.value]).isEmpty)
    }

    @Test func severalRegionsOneCallEach() async throws {
        let logs = CapturedLogs()
        let source = try source(logs)
        defer { Task { try? await source.shutdown() } }
        let login = try await source.fetchLogin(for: settings(["AWS_REGIONS": "us-east-1 eu-west-1"]).aws)
        #expect(Set(login.credentials.map(\.region)) == ["us-east-1", "eu-west-1"])
    }

    @Test func assumeRoleOnTopOfStaticKeys() async throws {
        let logs = CapturedLogs()
        let source = try source(logs)
        defer { Task { try? await source.shutdown() } }
        let login = try await source.fetchLogin(for: settings(["AWS_ROLE_ARN": moto.roleArn]).aws)
        #expect(!login.credentials.isEmpty)
    }

    @Test func wrongSecretAndMissingPermissionFailWithDistinctErrors() async throws {
        let logs = CapturedLogs()
        let source = try source(logs)
        defer { Task { try? await source.shutdown() } }
        var wrong = moto.allowed
        wrong.secretAccessKey = String(wrong.secretAccessKey.reversed())
        let badSignature = await #expect(throws: (any Error).self) { try await source.fetchLogin(for: settings(keys: wrong).aws) }
        let denied = await #expect(throws: (any Error).self) { try await source.fetchLogin(for: settings(keys: moto.denied).aws) }
        let signatureText = "\(badSignature.map { "\($0)" } ?? "")"
        let deniedText = "\(denied.map { "\($0)" } ?? "")"
        #expect(signatureText != deniedText)
        #expect(!signatureText.contains(wrong.secretAccessKey) && !deniedText.contains(moto.denied.secretAccessKey))
    }
}
