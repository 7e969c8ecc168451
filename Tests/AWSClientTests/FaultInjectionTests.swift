import Foundation
import Logging
import Testing
import TestSupport

@testable import AWSClient

/// Retries, clock skew, web identity, proxies and TLS, with small Python tools (scripts/aws) around moto.
@Suite(.enabled(if: TestEnv.hasMotoAndPython, TestEnv.motoPythonReason))
struct FaultInjectionTests {
    let fixture: MotoFixture
    let moto: String

    init() throws {
        fixture = try TestEnv.fixture()
        moto = try #require(TestEnv.motoEndpoint)
    }

    static let ecrTarget = "GetAuthorizationToken"

    func throttle(_ times: Int) -> [String: Any] {
        [
            "match": ["target": Self.ecrTarget], "times": times, "status": 400,
            "headers": ["Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "throttled-1"],
            "body": #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ]
    }

    func ecr(_ transport: AWSHTTPTransport, via url: String, keys: (any AWSCredentialProvider)? = nil) throws -> ECRClient {
        ECRClient(transport: transport, credentials: keys ?? fixture.allowed.provider, endpoints: try endpoints(url))
    }

    @Test func throttlingIsRetriedToSuccess() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([throttle(2)])
        let logs = CapturedLogs()
        let result = try await withTransport(logger: logs.logger()) { transport in
            let r = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region)
            // Two retries cost 2 x 5 tokens; the success gives the last retry's cost back.
            #expect(transport.retryTokensAvailable == 500 - 10 + 5)
            return r
        }
        #expect(result.first?.username == "AWS")
        let seen = try await proxy.requests()
        #expect(seen.count == 3)
        #expect(seen.map(\.fault) == ["status", "status", nil])
        #expect(seen.last?.status == 200)
        #expect(logs.lines(containingAnyOf: ["retrying AWS call"]).count == 2)
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([
            ["match": ["target": Self.ecrTarget], "times": 1, "status": 500, "body": "<html>Internal Server Error</html>"],
            ["match": ["target": Self.ecrTarget], "times": 1, "drop": true],
        ])
        let result = try await withTransport { transport in
            try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region)
        }
        #expect(result.count == 1)
        let seen = try await proxy.requests()
        #expect(seen.map(\.fault) == ["status", "drop", nil])
    }

    @Test func timeoutsAreRetriedAtTheHigherCost() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        // The delayed answer outlasts the timeout by far; the timeout itself leaves the retry, which moto
        // answers at once, seconds to spare on a loaded machine.
        try await proxy.addRules([["match": ["target": Self.ecrTarget], "times": 1, "delay": 30]])
        let settings = AWSHTTPSettings(connectTimeout: .seconds(5), requestTimeout: .seconds(4))
        try await withTransport(settings: settings) { transport in
            let result = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region)
            #expect(result.count == 1)
            // The timeout retry cost 10 tokens, refunded by the success.
            #expect(transport.retryTokensAvailable == 500)
        }
        #expect(try await proxy.requests().count == 2)

        let slow = try await FaultProxy(upstream: moto)
        defer { slow.stop() }
        try await slow.addRules([["match": ["target": Self.ecrTarget], "times": 5, "delay": 30]])
        let error = try await withTransport(settings: settings, retryPolicy: .none) { transport in
            await expectAWSError { _ = try await ecr(transport, via: slow.url).getAuthorizationToken(region: fixture.region) }
        }
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("4 s") == true, "\(error?.description ?? "")")
    }

    @Test func retriesStopAfterThreeAttempts() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([throttle(10)])
        let error = try await withTransport { transport in
            await expectAWSError { _ = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region) }
        }
        #expect(error?.kind == .throttling)
        #expect(error?.code == "ThrottlingException")
        #expect(error?.attempts == 3)
        #expect(error?.requestID == "throttled-1")
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("after 3 attempts") == true)
        #expect(try await proxy.requests().count == 3)
    }

    @Test func emptyRetryBucketStopsRetrying() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([throttle(100)])
        // A bucket with room for exactly one retry.
        let policy = AWSRetryPolicy(baseDelay: .milliseconds(1), retryQuota: 5)
        try await withTransport(retryPolicy: policy) { transport in
            let first = await expectAWSError { _ = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region) }
            #expect(first?.attempts == 2)
            let second = await expectAWSError { _ = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region) }
            #expect(second?.attempts == 1)
        }
        #expect(try await proxy.requests().count == 3)
    }

    @Test func realAWSResponseShapesThroughTheWholeStack() async throws {
        // Canned answers as real AWS sends them (exponent-form expiresAt; ECR Public's single object).
        let token = Data("AWS:canned-password".utf8).base64EncodedString()
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([
            [
                "match": ["target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"], "times": 1, "status": 200,
                "headers": ["Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "canned"],
                "body": #"{"authorizationData":[{"authorizationToken":"\#(token)","expiresAt":1.7385984915E9,"proxyEndpoint":"https://210987654321.dkr.ecr.eu-north-1.amazonaws.com"}]}"#,
            ],
            [
                "match": ["target": "SpectrumKairosService.GetAuthorizationToken"], "times": 1, "status": 200,
                "headers": ["Content-Type": "application/x-amz-json-1.1"],
                "body": #"{"authorizationData":{"authorizationToken":"\#(token)","expiresAt":1738598491}}"#,
            ],
            [
                "match": ["target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"], "times": 1, "status": 200,
                "headers": ["Content-Type": "application/x-amz-json-1.1"],
                "body": #"{"authorizationData":[{"authorizationToken":"\#(Data("no colon".utf8).base64EncodedString())","proxyEndpoint":"https://x"}]}"#,
            ],
        ])
        try await withTransport { transport in
            let client = try ecr(transport, via: proxy.url)
            let auth = try #require(try await client.getAuthorizationToken(region: "eu-north-1").first)
            #expect(auth.password == "canned-password")
            #expect(auth.expiresAt == Date(timeIntervalSince1970: 1_738_598_491.5))
            #expect(auth.registryHost == "210987654321.dkr.ecr.eu-north-1.amazonaws.com")
            let publicAuth = try await client.getPublicAuthorizationToken()
            #expect(publicAuth.proxyEndpoint == "https://public.ecr.aws")
            #expect(publicAuth.expiresAt == Date(timeIntervalSince1970: 1_738_598_491))
            let malformed = await expectAWSError { _ = try await client.getAuthorizationToken(region: "eu-north-1") }
            #expect(malformed?.kind == .malformedResponse)
            #expect(malformed?.isRetryable == false)
        }
        let seen = try await proxy.requests()
        #expect(seen.map(\.service) == ["ecr", "ecr-public", "ecr"])
    }

    @Test func accessDeniedJSONFromAWSIsNotRetried() async throws {
        // Real ECR's shape: 400 with a JSON body and x-amzn-ErrorType.
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.addRules([
            [
                "match": ["target": Self.ecrTarget], "times": 5, "status": 400,
                "headers": [
                    "Content-Type": "application/x-amz-json-1.1",
                    "x-amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
                    "x-amzn-RequestId": "denied-req",
                ],
                "body": #"{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/x is not authorized to perform: ecr:GetAuthorizationToken"}"#,
            ]
        ])
        let error = try await withTransport { transport in
            await expectAWSError { _ = try await ecr(transport, via: proxy.url).getAuthorizationToken(region: fixture.region) }
        }
        #expect(error?.kind == .accessDenied)
        #expect(error?.requestID == "denied-req")
        #expect(error?.description.contains("is not authorized to perform") == true)
        #expect(try await proxy.requests().count == 1)
    }

    @Test func clockSkewIsCorrectedForECR() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.setClockOffset(3600)
        let logs = CapturedLogs()
        try await withTransport(logger: logs.logger()) { transport in
            let client = try ecr(transport, via: proxy.url)
            let result = try await client.getAuthorizationToken(region: fixture.region)
            #expect(result.count == 1)
            #expect(abs(transport.clockOffset - 3600) < 120, "offset \(transport.clockOffset)")
            // The learned offset is kept: the next call is right the first time.
            _ = try await client.getAuthorizationToken(region: fixture.region)
        }
        let seen = try await proxy.requests()
        #expect(seen.map(\.fault) == ["skew", nil, nil])
        let corrected = try #require(seen[1].amzDate.flatMap(UTCTime.parseAmzDate))
        #expect(abs(corrected.timeIntervalSinceNow - 3600) < 120)
        let warnings = logs.all.filter { $0.hasPrefix("warning") && $0.contains("clock") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("skew_seconds=") == true)
    }

    @Test func clockSkewIsCorrectedForSTSAndReportedWhenItPersists() async throws {
        let proxy = try await FaultProxy(upstream: moto)
        defer { proxy.stop() }
        try await proxy.setClockOffset(-7200)
        try await withTransport { transport in
            let sts = STSClient(transport: transport, endpoints: try endpoints(proxy.url))
            let role = try await sts.assumeRole(
                roleARN: fixture.roleArn, sessionName: "skewed", region: fixture.region, credentials: fixture.allowed.provider)
            #expect(role.credentials.isTemporary)
            #expect(abs(transport.clockOffset + 7200) < 120)
        }
        #expect(try await proxy.requests().map(\.fault) == ["skew", nil])

        // A server whose clock keeps moving away (answers skew every time): one correction, then a clear error.
        let stubborn = try await FaultProxy(upstream: moto)
        defer { stubborn.stop() }
        try await stubborn.addRules([
            [
                "match": ["target": Self.ecrTarget], "times": 10, "status": 400,
                "headers": ["Content-Type": "application/x-amz-json-1.1", "Date": "Mon, 01 Jan 2035 00:00:00 GMT"],
                "body": #"{"__type":"InvalidSignatureException","message":"Signature expired: 20200101T000000Z is now earlier than 20341231T235500Z (20350101T000000Z - 5 min.)"}"#,
            ]
        ])
        let error = try await withTransport(retryPolicy: AWSRetryPolicy(baseDelay: .milliseconds(1))) { transport in
            await expectAWSError { _ = try await ecr(transport, via: stubborn.url).getAuthorizationToken(region: fixture.region) }
        }
        #expect(error?.kind == .clockSkew)
        #expect(error?.description.contains("NTP") == true)
        #expect(error?.description.contains("s behind AWS's") == true, "\(error?.description ?? "")")
        // 1 + one skew correction + 2 standard retries.
        #expect(try await stubborn.requests().count == 4)
    }

    @Test func webIdentityReadsTheTokenFileEveryTime() async throws {
        let fixturePath = try #require(TestEnv.value("MOTO_FIXTURE"))
        // moto cannot serve unsigned AssumeRoleWithWebIdentity with signature checking on (it crashes on the
        // missing Authorization header), so the proxy signs it on the way; the log shows what the client sent.
        let proxy = try await FaultProxy(upstream: moto, signUnsignedWith: fixturePath)
        defer { proxy.stop() }
        let dir = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenFile = dir.appendingPathComponent("token")
        let tokenA = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YSJ9.c2lnbmF0dXJlQQ"
        let tokenB = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YiJ9.c2lnbmF0dXJlQg"
        try Data((tokenA + "\n").utf8).write(to: tokenFile)
        let logs = CapturedLogs()
        try await withTransport(logger: logs.logger()) { transport in
            let sts = STSClient(transport: transport, endpoints: try endpoints(proxy.url))
            let provider = try WebIdentityCredentialProvider(
                sts: sts, roleARN: fixture.roleArn, tokenFile: tokenFile.path, sessionName: "web-identity-test", region: fixture.region)
            let first = try await provider.credentials()
            #expect(first.isTemporary)
            try Data(tokenB.utf8).write(to: tokenFile)
            let second = try await provider.credentials()
            #expect(second.accessKeyID != first.accessKeyID)
            // The temporary credentials work for ECR (signed by us, straight to moto).
            let result = try await ECRClient(transport: transport, credentials: StaticCredentialProvider(second), endpoints: try endpoints(moto))
                .getAuthorizationToken(region: fixture.region)
            #expect(result.count == 1)
        }
        let seen = try await proxy.requests()
        #expect(seen.count == 2)
        #expect(seen.allSatisfy { $0.action == "AssumeRoleWithWebIdentity" && !$0.authorized && $0.signedByProxy })
        #expect(seen.map(\.webIdentityToken) == [tokenA, tokenB])
        #expect(logs.lines(containingAnyOf: [tokenA, tokenB]).isEmpty)
    }

    @Test func webIdentityChainFromEnvironment() async throws {
        let fixturePath = try #require(TestEnv.value("MOTO_FIXTURE"))
        let proxy = try await FaultProxy(upstream: moto, signUnsignedWith: fixturePath)
        defer { proxy.stop() }
        let dir = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenFile = dir.appendingPathComponent("token")
        try Data("not.even-a.jwt".utf8).write(to: tokenFile)
        let env = [
            "AWS_ROLE_ARN": fixture.roleArn, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path, "AWS_REGION": fixture.region,
            "AWS_ENDPOINT_URL_STS": proxy.url, "AWS_ENDPOINT_URL_ECR": moto,
        ]
        try await withTransport { transport in
            let endpoints = try AWSEndpoints.fromEnvironment(env)
            let sts = STSClient(transport: transport, endpoints: endpoints)
            let provider = try AWSCredentialChain.fromEnvironment(env, sts: sts)
            let ecr = ECRClient(transport: transport, credentials: provider, endpoints: endpoints)
            _ = try await ecr.getAuthorizationToken(region: fixture.region)
            _ = try await ecr.getAuthorizationToken(region: fixture.region)
        }
        // moto accepts any token (it does not validate web identity tokens), and the cache assumed the role once.
        #expect(try await proxy.requests().count == 1)
    }

    @Test func httpProxyIsUsedAndNoProxyBypassesIt() async throws {
        let forward = try await ForwardProxy()
        defer { forward.stop() }
        let motoPort = try #require(URL(string: moto)?.port)
        let proxied = AWSHTTPSettings(httpProxy: .init(host: "127.0.0.1", port: forward.port), requestTimeout: .seconds(20))
        let r1 = try await withTransport(settings: proxied) { transport in
            try await ecr(transport, via: moto).getAuthorizationToken(region: fixture.region)
        }
        #expect(r1.count == 1)
        #expect(try await forward.connects() == ["127.0.0.1:\(motoPort)"])

        var bypass = proxied
        bypass.noProxy = ["localhost", "127.0.0.1"]
        _ = try await withTransport(settings: bypass) { transport in
            try await ecr(transport, via: moto).getAuthorizationToken(region: fixture.region)
        }
        #expect(try await forward.connects().count == 1)

        // From the environment, with proxy authentication.
        let authenticated = try await ForwardProxy(auth: "helper:pa55word")
        defer { authenticated.stop() }
        let env = ["HTTP_PROXY": "http://helper:pa55word@127.0.0.1:\(authenticated.port)", "NO_PROXY": "example.com"]
        let logs = CapturedLogs()
        _ = try await withTransport(settings: try AWSHTTPSettings.fromEnvironment(env), logger: logs.logger()) { transport in
            try await ecr(transport, via: moto).getAuthorizationToken(region: fixture.region)
        }
        #expect(try await authenticated.connects() == ["127.0.0.1:\(motoPort)"])
        #expect(try await authenticated.authFailures() == 0)
        #expect(logs.lines(containingAnyOf: ["pa55word"]).isEmpty)

        // Wrong proxy password: a network error naming the proxy settings, not an AWS error.
        let wrong = ["HTTP_PROXY": "http://helper:nope@127.0.0.1:\(authenticated.port)"]
        let error = try await withTransport(settings: try AWSHTTPSettings.fromEnvironment(wrong), retryPolicy: AWSRetryPolicy(baseDelay: .milliseconds(1))) { transport in
            await expectAWSError { _ = try await ecr(transport, via: moto).getAuthorizationToken(region: fixture.region) }
        }
        #expect(error?.kind == .network, "\(error?.description ?? "")")
        #expect(error?.description.contains("HTTPS_PROXY") == true)
        #expect(error?.description.contains("nope") == false)
    }

    @Test func secretsNeverAppearInLogsOrErrors() async throws {
        let fixturePath = try #require(TestEnv.value("MOTO_FIXTURE"))
        let proxy = try await FaultProxy(upstream: moto, signUnsignedWith: fixturePath)
        defer { proxy.stop() }
        try await proxy.addRules([throttle(1)])
        let dir = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenFile = dir.appendingPathComponent("token")
        let webToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtd2ViLXRva2VuIn0.c2VjcmV0c2ln"
        try Data(webToken.utf8).write(to: tokenFile)
        let logs = CapturedLogs()
        var secrets = [fixture.allowed.secretAccessKey, fixture.denied.secretAccessKey, webToken, "\(fixture.account)-auth-token"]
        var descriptions: [String] = []
        try await withTransport(logger: logs.logger()) { transport in
            let sts = STSClient(transport: transport, endpoints: try endpoints(proxy.url))
            let role = try await sts.assumeRole(
                roleARN: fixture.roleArn, sessionName: "redaction", region: fixture.region, credentials: fixture.allowed.provider)
            secrets += [role.credentials.secretAccessKey, role.credentials.sessionToken!]
            descriptions.append("\(role)")
            descriptions.append("\(role.credentials)")
            let web = try WebIdentityCredentialProvider(sts: sts, roleARN: fixture.roleArn, tokenFile: tokenFile.path, region: fixture.region)
            let webCredentials = try await web.credentials()
            secrets += [webCredentials.secretAccessKey, webCredentials.sessionToken!]
            descriptions.append("\(webCredentials)")
            let client = try ecr(transport, via: proxy.url, keys: StaticCredentialProvider(role.credentials))
            let auth = try await client.getAuthorizationToken(region: fixture.region)  // throttled once, then OK
            descriptions.append("\(auth)")
            let wrong = AWSCredentials(accessKeyID: fixture.allowed.accessKeyId, secretAccessKey: fixture.denied.secretAccessKey)
            if let e = await expectAWSError({ _ = try await client.getAuthorizationToken(region: fixture.region, credentials: StaticCredentialProvider(wrong)) }) {
                descriptions.append(e.description)
                descriptions.append("\(e)")
            }
            let expiredSession = AWSCredentials(
                accessKeyID: role.credentials.accessKeyID, secretAccessKey: role.credentials.secretAccessKey, sessionToken: "bogus-session-token-value")
            secrets.append("bogus-session-token-value")
            if let e = await expectAWSError({ _ = try await client.getAuthorizationToken(region: fixture.region, credentials: StaticCredentialProvider(expiredSession)) }) {
                descriptions.append(e.description)
            }
        }
        #expect(logs.all.count > 10)
        #expect(logs.all.contains { $0.hasPrefix("trace") })
        let leaked = logs.lines(containingAnyOf: secrets)
        #expect(leaked.isEmpty, "leaked into logs: \(leaked)")
        for d in descriptions {
            for s in secrets { #expect(!d.contains(s), "\(d)") }
        }
    }

    @Test(.enabled(if: TestEnv.hasTLSMoto, TestEnv.tlsReason))
    func customCABundleForHTTPS() async throws {
        let tlsFixture = try TestEnv.fixture("MOTO_TLS_FIXTURE")
        let url = try #require(TestEnv.value("MOTO_TLS_ENDPOINT"))
        let ca = try #require(TestEnv.value("MOTO_TLS_CA"))
        let settings = try AWSHTTPSettings.fromEnvironment(["AWS_CA_BUNDLE": ca])
        let result = try await withTransport(settings: settings) { transport in
            try await ECRClient(transport: transport, credentials: tlsFixture.allowed.provider, endpoints: try endpoints(url))
                .getAuthorizationToken(region: tlsFixture.region)
        }
        #expect(result.first?.username == "AWS")

        // Signature checking is on there too.
        let denied = try await withTransport(settings: settings) { transport in
            await expectAWSError {
                _ = try await ECRClient(transport: transport, credentials: tlsFixture.denied.provider, endpoints: try endpoints(url))
                    .getAuthorizationToken(region: tlsFixture.region)
            }
        }
        #expect(denied?.kind == .accessDenied)

        // Without the CA: a TLS error that points at AWS_CA_BUNDLE, not retried.
        let error = try await withTransport(settings: AWSHTTPSettings(caBundlePath: nil)) { transport in
            await expectAWSError {
                _ = try await ECRClient(transport: transport, credentials: tlsFixture.allowed.provider, endpoints: try endpoints(url))
                    .getAuthorizationToken(region: tlsFixture.region)
            }
        }
        #expect(error?.kind == .tls, "\(error?.description ?? "")")
        #expect(error?.attempts == 1)
        #expect(error?.description.contains("AWS_CA_BUNDLE") == true)
    }

    /// Node mode's trust roots: the hashed folder (`<subject hash>.0` links), read one root at a time.
    @Test(.enabled(if: TestEnv.hasTLSMoto, TestEnv.tlsReason))
    func lazySystemTrustRootsFromAHashedFolder() async throws {
        let tlsFixture = try TestEnv.fixture("MOTO_TLS_FIXTURE")
        let url = try #require(TestEnv.value("MOTO_TLS_ENDPOINT"))
        let ca = try #require(TestEnv.value("MOTO_TLS_CA"))
        let folder = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(AWSHTTPTransport.hashedCertificateFolder(folder.path) == nil)
        let hash = try await ChildProcess.run(
            "/usr/bin/openssl", ["x509", "-subject_hash", "-noout", "-in", ca], environment: [:], outputDirectory: folder.path)
        let name = hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/\(name).0", withDestinationPath: ca)
        #expect(AWSHTTPTransport.hashedCertificateFolder(folder.path) == folder.path)

        var settings = try AWSHTTPSettings.fromEnvironment(["SSL_CERT_DIR": folder.path])
        settings.lazySystemTrustRoots = true
        let result = try await withTransport(settings: settings) { transport in
            try await ECRClient(transport: transport, credentials: tlsFixture.allowed.provider, endpoints: try endpoints(url))
                .getAuthorizationToken(region: tlsFixture.region)
        }
        #expect(result.first?.username == "AWS")

        // The same folder without the link trusts nothing of the test CA's.
        try FileManager.default.removeItem(atPath: folder.path + "/\(name).0")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/00000000.0", withDestinationPath: "/nonexistent")
        let error = try await withTransport(settings: settings) { transport in
            await expectAWSError {
                _ = try await ECRClient(transport: transport, credentials: tlsFixture.allowed.provider, endpoints: try endpoints(url))
                    .getAuthorizationToken(region: tlsFixture.region)
            }
        }
        #expect(error?.kind == .tls, "\(error?.description ?? "")")
    }

    @Test(.enabled(if: TestEnv.hasTLSMoto, TestEnv.tlsReason))
    func httpsThroughConnectProxyWithCustomCA() async throws {
        let tlsFixture = try TestEnv.fixture("MOTO_TLS_FIXTURE")
        let url = try #require(TestEnv.value("MOTO_TLS_ENDPOINT"))
        let ca = try #require(TestEnv.value("MOTO_TLS_CA"))
        let forward = try await ForwardProxy()
        defer { forward.stop() }
        let settings = try AWSHTTPSettings.fromEnvironment(["AWS_CA_BUNDLE": ca, "HTTPS_PROXY": "127.0.0.1:\(forward.port)"])
        let result = try await withTransport(settings: settings) { transport in
            try await ECRClient(transport: transport, credentials: tlsFixture.allowed.provider, endpoints: try endpoints(url))
                .getAuthorizationToken(region: tlsFixture.region)
        }
        #expect(result.count == 1)
        #expect(try await forward.connects() == [String(url.dropFirst("https://".count))])
    }
}
