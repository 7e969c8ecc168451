#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import Logging
import Synchronization

/// Registry logins from Amazon ECR: one `GetAuthorizationToken` per region (in parallel), with the
/// credentials of this cycle's settings. Credential providers that hold temporary credentials (AssumeRole,
/// web identity) are kept while the settings that made them stay the same, so their cache survives cycles.
public final class ECRTokenSource: RegistryTokenSource {
    let transport: AWSHTTPTransport
    let client: ECRClient
    let logger: Logger
    private let providers = Mutex<(key: AWSAccess, provider: any AWSCredentialProvider)?>(nil)

    /// Network and endpoint settings (proxies, CA bundle, FIPS, endpoint overrides) come from the process
    /// environment, as the AWS SDKs read them.
    public init(environment: [String: String], logger: Logger) throws {
        let settings = try AWSHTTPSettings.fromEnvironment(environment)
        self.transport = try AWSHTTPTransport(settings: settings, retryPolicy: AWSRetryPolicy.fromEnvironment(environment), logger: logger)
        let endpoints = try AWSEndpoints.fromEnvironment(environment)
        self.client = ECRClient(transport: transport, credentials: StaticCredentialProvider(accessKeyID: "", secretAccessKey: ""), endpoints: endpoints, logger: logger)
        self.sts = STSClient(transport: transport, endpoints: endpoints, logger: logger)
        self.logger = logger
    }

    let sts: STSClient

    public func shutdown() async throws {
        try await transport.shutdown()
    }

    public func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        let provider = try credentialProvider(for: access)
        let fetchedAt = Date()
        let client = self.client
        let credentials = try await withThrowingTaskGroup(of: [RegistryCredential].self) { group in
            for region in access.regions {
                group.addTask {
                    let authorizations = try await client.getAuthorizationToken(region: region, registryIDs: access.registryIDs, credentials: provider)
                    return authorizations.map {
                        RegistryCredential(registry: $0.proxyEndpoint, username: $0.username, password: Sensitive($0.password), expiresAt: $0.expiresAt, region: region)
                    }
                }
            }
            var all: [RegistryCredential] = []
            for try await batch in group { all += batch }
            return all
        }
        guard !credentials.isEmpty else {
            throw ECRTokenSourceError(description: "AWS returned no authorization data for regions \(access.regions.joined(separator: ", ")); nothing was written")
        }
        return RegistryLogin(credentials: credentials, fetchedAt: fetchedAt)
    }

    /// Static keys as read this cycle; with a role, AssumeRole (or AssumeRoleWithWebIdentity) on top.
    func credentialProvider(for access: AWSAccess) throws -> any AWSCredentialProvider {
        var key = access
        if access.rolesAnywhere != nil {
            // A Roles Anywhere session does not depend on the registries' regions (its region is the trust
            // anchor's): one session serves them all, and the fleet's per-region calls share it.
            key.regions = []
            key.registryIDs = []
        }
        if let cached = providers.withLock({ $0 }), cached.key == key { return cached.provider }
        let provider = try AWSCredentialSelection.provider(for: access, sts: sts, logger: logger)
        providers.withLock { $0 = (key, provider) }
        return provider
    }
}

public struct ECRTokenSourceError: Error, CustomStringConvertible {
    public let description: String
}
