import AWSClient
import Logging
import Testing
@testable import SyncEngine

/// One Roles Anywhere session per process, whatever the regions asked for: the fleet's shared source asks the
/// token source region by region, and every region (and every cluster) must get the same provider, so the
/// session's cache serves them all.
@Suite struct RolesAnywhereSourceTests {
    static func access(regions: [String]) -> AWSAccess {
        var access = AWSAccess(roleARN: "arn:aws:iam::123456789012:role/ecr-pull-role", regions: regions, registryIDs: [])
        access.rolesAnywhere = RolesAnywhereAccess(
            certificateFile: "/roles-anywhere/tls.crt", privateKeyFile: "/roles-anywhere/tls.key",
            trustAnchorARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/1",
            profileARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/2", sessionDurationSeconds: nil)
        return access
    }

    @Test func oneProviderForEveryRegion() async throws {
        let source = try ECRTokenSource(environment: [:], logger: Logger(label: "test"))
        let first = try source.credentialProvider(for: Self.access(regions: ["eu-west-1"]))
        let second = try source.credentialProvider(for: Self.access(regions: ["us-west-2"]))
        let both = try source.credentialProvider(for: Self.access(regions: ["eu-west-1", "us-west-2"]))
        let provider = try #require(first as? RolesAnywhereCredentialProvider)
        #expect(provider === second as? RolesAnywhereCredentialProvider)
        #expect(provider === both as? RolesAnywhereCredentialProvider)
        // The session is asked where the trust anchor is, not where the registries are.
        #expect(provider.configuration.session.region == "us-east-1")
        #expect(provider.configuration.certificateFile == "/roles-anywhere/tls.crt")
        try await source.shutdown()
    }

    @Test func anotherCertificateIsAnotherProvider() async throws {
        let source = try ECRTokenSource(environment: [:], logger: Logger(label: "test"))
        let first = try source.credentialProvider(for: Self.access(regions: ["eu-west-1"]))
        var renamed = Self.access(regions: ["eu-west-1"])
        renamed.rolesAnywhere?.certificateFile = "/other/tls.crt"
        let second = try source.credentialProvider(for: renamed)
        #expect((first as? RolesAnywhereCredentialProvider) !== (second as? RolesAnywhereCredentialProvider))
        try await source.shutdown()
    }
}
