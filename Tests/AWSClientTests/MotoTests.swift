import AsyncHTTPClient
import Foundation
import Logging
import Testing
import TestSupport

@testable import AWSClient

/// ECR and STS against moto with signature checking on (started by scripts/test.sh).
@Suite(.enabled(if: TestEnv.hasMoto, TestEnv.motoReason))
struct MotoTests {
    let fixture: MotoFixture
    let moto: String

    init() throws {
        fixture = try TestEnv.fixture()
        moto = try #require(TestEnv.motoEndpoint)
    }

    func ecr(_ transport: AWSHTTPTransport, _ keys: any AWSCredentialProvider, via url: String? = nil) throws -> ECRClient {
        ECRClient(transport: transport, credentials: keys, endpoints: try endpoints(url ?? moto))
    }

    @Test func rightKeyWorks() async throws {
        let result = try await withTransport { transport in
            try await ecr(transport, fixture.allowed.provider).getAuthorizationToken(region: fixture.region)
        }
        let auth = try #require(result.first)
        #expect(result.count == 1)
        #expect(auth.username == "AWS")
        #expect(auth.password == "\(fixture.account)-auth-token")
        #expect(auth.proxyEndpoint == "https://\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com")
        #expect(auth.registryHost == "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com")
        // moto's expiresAt is fixed in the past (2015); it must still decode.
        #expect(auth.expiresAt == Date(timeIntervalSince1970: 1_420_070_400))
    }

    @Test func registryIDsOnePerEntryInOrder() async throws {
        let ids = ["111111111111", "222222222222"]
        let result = try await withTransport { transport in
            try await ecr(transport, fixture.allowed.provider).getAuthorizationToken(region: "eu-west-1", registryIDs: ids)
        }
        #expect(result.count == 2)
        #expect(result.map(\.registryHost) == ids.map { "\($0).dkr.ecr.eu-west-1.amazonaws.com" })
        #expect(result.allSatisfy { $0.username == "AWS" })
    }

    @Test func invalidRegistryIDIsRejectedBeforeSending() async throws {
        try await withTransport { transport in
            let error = await expectAWSError {
                _ = try await ecr(transport, fixture.allowed.provider).getAuthorizationToken(region: "us-east-1", registryIDs: ["12345"])
            }
            #expect(error?.kind == .invalidConfiguration)
        }
    }

    /// Credential failures: classified, described, and sent exactly once (counted at a proxy in front of moto).
    @Test(.enabled(if: TestEnv.python != nil, TestEnv.pythonReason), arguments: ["wrong-secret", "unknown-key", "denied"])
    func credentialFailuresAreClassifiedAndNotRetried(scenario: String) async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        let keys: AWSCredentials
        let kind: AWSError.Kind
        let mention: String
        switch scenario {
        case "wrong-secret":
            keys = AWSCredentials(accessKeyID: fixture.allowed.accessKeyId, secretAccessKey: "WRONG" + fixture.allowed.secretAccessKey.dropFirst(5))
            kind = .signatureDoesNotMatch
            mention = "AWS_SECRET_ACCESS_KEY"
        case "unknown-key":
            keys = AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: fixture.allowed.secretAccessKey)
            kind = .invalidClientTokenId
            mention = "AWS_ACCESS_KEY_ID"
        default:
            keys = fixture.denied.credentials
            kind = .accessDenied
            mention = "ecr:GetAuthorizationToken"
        }
        let logs = CapturedLogs()
        let error = try await withTransport(logger: logs.logger()) { transport in
            await expectAWSError {
                _ = try await ecr(transport, StaticCredentialProvider(keys), via: proxy.url).getAuthorizationToken(region: fixture.region)
            }
        }
        #expect(error?.kind == kind, "\(error?.description ?? "")")
        #expect(error?.statusCode == 403)
        #expect(error?.isRetryable == false)
        #expect(error?.attempts == 1)
        #expect(error?.description.contains(mention) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains(keys.secretAccessKey) == false)
        #expect(try await proxy.requests().count == 1)
        #expect(logs.lines(containingAnyOf: [keys.secretAccessKey, fixture.allowed.secretAccessKey]).isEmpty)
    }

    @Test func assumeRoleThenECR() async throws {
        try await withTransport { transport in
            let sts = STSClient(transport: transport, endpoints: try endpoints(moto))
            let role = try AssumeRoleCredentialProvider(
                sts: sts, base: fixture.allowed.provider, roleARN: fixture.roleArn, externalID: "ext-id-123",
                sessionName: "ecr-helper-test", duration: .seconds(900), region: fixture.region)
            let provider = CachingCredentialProvider(role)
            let temporary = try await provider.credentials()
            #expect(temporary.accessKeyID.hasPrefix("ASIA"))
            #expect(temporary.isTemporary)
            #expect(try #require(temporary.expiration) > Date())
            let result = try await ecr(transport, provider).getAuthorizationToken(region: fixture.region)
            #expect(result.first?.username == "AWS")
            // Cached: the second call does not assume the role again.
            #expect(try await provider.credentials() == temporary)

            // The role's credentials without their session token are unknown to AWS.
            let noToken = AWSCredentials(accessKeyID: temporary.accessKeyID, secretAccessKey: temporary.secretAccessKey)
            let error = await expectAWSError {
                _ = try await ecr(transport, StaticCredentialProvider(noToken)).getAuthorizationToken(region: fixture.region)
            }
            #expect(error?.kind == .invalidClientTokenId)
        }
    }

    @Test func assumeRoleWithDeniedUserIsAccessDenied() async throws {
        try await withTransport { transport in
            let sts = STSClient(transport: transport, endpoints: try endpoints(moto))
            let error = await expectAWSError {
                _ = try await sts.assumeRole(
                    roleARN: fixture.roleArn, sessionName: "s1", region: fixture.region, credentials: fixture.denied.provider)
            }
            #expect(error?.kind == .accessDenied)
            #expect(error?.operation == "sts:AssumeRole")
            #expect(error?.description.contains("sts:AssumeRole") == true)
        }
    }

    @Test func callerProvidedHTTPClient() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let transport = AWSHTTPTransport(httpClient: client)
            let result = try await ECRClient(transport: transport, credentials: fixture.allowed.provider, endpoints: try endpoints(moto))
                .getAuthorizationToken(region: fixture.region)
            #expect(result.count == 1)
            try await transport.shutdown()  // does not shut down the caller's client
            let again = try await ECRClient(transport: transport, credentials: fixture.allowed.provider, endpoints: try endpoints(moto))
                .getAuthorizationToken(region: fixture.region)
            #expect(again.count == 1)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func perCallCredentials() async throws {
        try await withTransport { transport in
            // A client built with the denied keys, called with the allowed ones for this cycle.
            let client = try ecr(transport, fixture.denied.provider)
            let result = try await client.getAuthorizationToken(region: fixture.region, credentials: fixture.allowed.provider)
            #expect(result.count == 1)
            let swapped = try await client.withCredentials(fixture.allowed.provider).getAuthorizationToken(region: fixture.region)
            #expect(swapped.count == 1)
            let denied = await expectAWSError { _ = try await client.getAuthorizationToken(region: fixture.region) }
            #expect(denied?.kind == .accessDenied)
        }
    }

    @Test func unreachableEndpointIsANetworkErrorRetried() async throws {
        // A port nobody listens on: connection refused, retried (3 attempts) quickly, then a network error.
        let port = try freeLoopbackPort()
        let error = try await withTransport(retryPolicy: AWSRetryPolicy(baseDelay: .milliseconds(1))) { transport in
            await expectAWSError {
                _ = try await ecr(transport, fixture.allowed.provider, via: "http://127.0.0.1:\(port)").getAuthorizationToken(region: "us-east-1")
            }
        }
        #expect(error?.kind == .network, "\(error?.description ?? "")")
        #expect(error?.attempts == 3)
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }
}

/// A loopback port that is free right now.
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
            bind(fd, sp, len) == 0 && getsockname(fd, sp, &len) == 0
        }
    }
    try #require(ok)
    return Int(UInt16(bigEndian: addr.sin_port))
}
