#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import Logging

/// Answers one kubelet `CredentialProviderRequest` with an ECR token for exactly the image's registry. Talks
/// to AWS only (STS and ECR), never to the Kubernetes API.
///
/// Credentials, in order:
/// 1. ServiceAccount-token mode (the request carries `serviceAccountToken`): AssumeRoleWithWebIdentity with that
///    token for the role named by the ServiceAccount's annotation `aws-ecr-cred-helper/role-arn`, else
///    `eks.amazonaws.com/ecr-role-arn` (the key AWS's ecr-credential-provider reads), else
///    `eks.amazonaws.com/role-arn` (IRSA's key). The kubelet passes only the annotation keys its
///    `tokenAttributes` list. Without such an annotation the node's credentials (below) are used.
/// 2. The node's settings: keys (with `AWS_ROLE_ARN` on top: AssumeRole), or `AWS_ROLE_ARN` +
///    `AWS_WEB_IDENTITY_TOKEN_FILE`, from the config folder, environment or flags, as the controller reads them.
/// 3. The AWS shared files' profile (`AWS_PROFILE`, default `default`).
public final class NodeCredentialProvider: Sendable {
    /// ServiceAccount annotations naming the role, in order of precedence.
    public static let roleAnnotations = ["aws-ecr-cred-helper/role-arn", "eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    let settings: NodeSettings
    let environment: [String: String]
    let transport: AWSHTTPTransport
    let endpoints: AWSEndpoints
    let logger: Logger
    let now: @Sendable () -> Date

    public init(settings: NodeSettings, environment: [String: String], logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.settings = settings
        self.environment = environment
        var http = try AWSHTTPSettings.fromEnvironment(environment)
        http.lazySystemTrustRoots = true  // one process per kubelet cache miss: read only the root it needs
        self.transport = try AWSHTTPTransport(
            settings: http, retryPolicy: AWSRetryPolicy.fromEnvironment(environment), logger: logger)
        self.endpoints = try AWSEndpoints.fromEnvironment(environment)
        self.logger = logger
        self.now = now
    }

    public func shutdown() async {
        try? await transport.shutdown()
    }

    /// The response for `request`, in the request's apiVersion.
    public func answer(_ request: CredentialProviderAPI.Request) async throws -> CredentialProviderAPI.Response {
        let (key, parsed) = ECRRegistryHost.registry(ofImage: request.image)
        guard let registry = parsed else {
            throw Failure(description: "image \"\(printable(request.image))\" is not in an Amazon ECR registry (<account>.dkr.ecr.<region>.amazonaws.com, its FIPS, dual-stack, China and ISO forms, or public.ecr.aws): narrow matchImages in the kubelet's CredentialProviderConfig to ECR registries")
        }
        let sts = STSClient(transport: transport, endpoints: endpoints, logger: logger)
        let provider = try credentialProvider(for: request, registry: registry, sts: sts)
        let credentials = try await provider.credentials()
        let ecr = ECRClient(transport: transport, credentials: StaticCredentialProvider(credentials), endpoints: try ecrEndpoints(for: registry), logger: logger)
        let token: ECRAuthorization
        switch registry.kind {
        case .publicRegistry:
            token = try await ecr.getPublicAuthorizationToken()
        case .privateRegistry:
            // No registryIds: the token works for every registry the principal may pull from in that region
            // (registryIds is deprecated in the ECR API), as cloud-provider-aws asks for it.
            guard let first = try await ecr.getAuthorizationToken(region: registry.region).first else {
                throw Failure(description: "ECR returned no authorization data for \(registry.host)")
            }
            token = first
        }
        // Temporary credentials: the kubelet's cache never outlives the session that fetched the token.
        let expiries = [token.expiresAt, credentials.expiration].compactMap { $0 }
        let seconds = CredentialProviderAPI.cacheDuration(expiresAt: expiries.min(), now: now(), margin: settings.cacheMargin)
        return CredentialProviderAPI.Response(
            apiVersion: request.apiVersion, cacheDurationSeconds: seconds, registry: key, username: token.username,
            password: Sensitive(token.password))
    }

    /// FIPS registry hosts get the FIPS ECR endpoint, whatever `AWS_USE_FIPS_ENDPOINT` says.
    func ecrEndpoints(for registry: ECRRegistryHost) throws -> AWSEndpoints {
        guard case .privateRegistry(_, _, true, _) = registry.kind, !endpoints.useFIPS else { return endpoints }
        var fips = endpoints
        fips.useFIPS = true
        return fips
    }

    func credentialProvider(for request: CredentialProviderAPI.Request, registry: ECRRegistryHost, sts: STSClient) throws
        -> any AWSCredentialProvider
    {
        let region = registry.region
        if let token = request.serviceAccountToken {
            let named = Self.roleAnnotations.compactMap { key -> (annotation: String, roleARN: String)? in
                guard let value = request.serviceAccountAnnotations[key]?.trimmingASCIIWhitespace(), !value.isEmpty else { return nil }
                return (key, value)
            }
            if let found = named.first {
                return ServiceAccountTokenProvider(
                    sts: sts, roleARN: found.roleARN, annotation: found.annotation, token: token,
                    sessionName: settings.aws.roleSessionName ?? STSClient.defaultSessionName(now: now()), region: region)
            }
            logger.debug("ServiceAccount token without a role annotation; using the node's credentials", metadata: ["annotations": "\(Self.roleAnnotations)"])
        }
        if settings.hasCredentials {
            var access = settings.aws
            access.regions = [region]
            return try AWSCredentialSelection.provider(for: access, sts: sts, logger: logger)
        }
        let shared = try AWSSharedConfig.load(environment: environment)
        let profile = AWSSharedConfig.profileName(environment: environment)
        if shared.profiles.isEmpty && profile == "default" {
            let (config, credentials) = AWSSharedConfig.paths(environment: environment)
            throw Failure(description: "no AWS credentials for node mode: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE) in the provider's env or --aws-config-dir, or write a profile to \(credentials) (AWS_SHARED_CREDENTIALS_FILE) or \(config) (AWS_CONFIG_FILE)")
        }
        return try AWSProfileCredentials.provider(
            profile: profile, config: shared, environment: environment, sts: sts, stsRegion: region, logger: logger)
    }
}

/// AssumeRoleWithWebIdentity with the pulling pod's ServiceAccount token, held in memory for this one request.
struct ServiceAccountTokenProvider: AWSCredentialProvider {
    let sts: STSClient
    let roleARN: String
    let annotation: String
    let token: Sensitive
    let sessionName: String
    let region: String

    func credentials() async throws -> AWSCredentials {
        do {
            return try await sts.assumeRoleWithWebIdentity(
                roleARN: roleARN, sessionName: sessionName, webIdentityToken: token.value, region: region
            ).credentials
        } catch var error as AWSError {
            if error.hint == nil {
                error.hint = "role \(roleARN) from the ServiceAccount annotation \(annotation); the role's trust policy must allow the cluster's OIDC issuer, this ServiceAccount as sub and the token audience as aud"
            }
            throw error
        }
    }
}
