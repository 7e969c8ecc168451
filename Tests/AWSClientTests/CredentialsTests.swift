import Foundation
import Synchronization
import Testing

@testable import AWSClient

/// A provider that counts calls and hands out credentials expiring `lifetime` after a settable clock.
final class CountingProvider: AWSCredentialProvider, Sendable {
    let calls = Atomic<Int>(0)
    let lifetime: TimeInterval?
    let delay: Duration
    let failing = Atomic<Bool>(false)
    let clock: TestClock

    init(lifetime: TimeInterval?, delay: Duration = .zero, clock: TestClock) {
        self.lifetime = lifetime
        self.delay = delay
        self.clock = clock
    }

    func credentials() async throws -> AWSCredentials {
        let n = calls.add(1, ordering: .sequentiallyConsistent).newValue
        if delay > .zero { try await Task.sleep(for: delay) }
        if failing.load(ordering: .sequentiallyConsistent) {
            throw AWSError(kind: .serverError, code: "ServiceUnavailable", statusCode: 503)
        }
        return AWSCredentials(
            accessKeyID: "ASIATESTKEY\(n)", secretAccessKey: "secret-\(n)", sessionToken: "token-\(n)",
            expiration: lifetime.map { clock.now().addingTimeInterval($0) })
    }
}

final class TestClock: Sendable {
    let offset = Mutex<TimeInterval>(0)
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    func now() -> Date { start.addingTimeInterval(offset.withLock { $0 }) }
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}

@Suite struct CredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//+="

    @Test func descriptionRedacts() {
        let c = AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token,
            expiration: Date(timeIntervalSince1970: 1_440_938_160))
        for text in [c.description, "\(c)", String(reflecting: c), "\([c])", StaticCredentialProvider(c).description] {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains(Self.token), "\(text)")
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"), "\(text)")
        }
        #expect(c.description.contains("AKIA…MPLE"))
        #expect(c.description.contains("2015-08-30T12:36:00Z"))
        #expect(AWSCredentials.redact(keyID: "short") == "…")
        #expect(AWSCredentials.redact(keyID: "") == "<empty>")
    }

    @Test(arguments: [
        ("AKIAIOSFODNN7EXAMPLE\n", "s", "white space"), ("AKIAIOSFODNN7EXAMPLE", " secretwithspace", "white space"),
        ("\"AKIAIOSFODNN7EXAMPLE\"", "s", "quote"), ("", "s", "empty"), ("AKIAIOSFODNN7EXAMPLE", "", "empty"),
        ("AKIA IOSFODNN7EXAMPLE", "s", "spaces or non-ASCII"),
    ])
    func validation(keyID: String, secret: String, why: String) {
        let error = #expect(throws: AWSError.self) {
            try AWSCredentials(accessKeyID: keyID, secretAccessKey: secret).validated()
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains(why) == true, "\(error?.description ?? "")")
        if secret.count > 3 { #expect(error?.description.contains(secret.trimmingCharacters(in: .whitespaces)) == false) }
    }

    @Test func cachingSharesOneRefreshAmongConcurrentCallers() async throws {
        let clock = TestClock()
        let base = CountingProvider(lifetime: 3600, delay: .milliseconds(100), clock: clock)
        let cache = CachingCredentialProvider(base, refreshBefore: .seconds(300), now: { clock.now() })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyID } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["ASIATESTKEY1"])
        #expect(base.calls.load(ordering: .sequentiallyConsistent) == 1)
        // Still fresh: no call.
        clock.advance(3000)
        #expect(try await cache.credentials().accessKeyID == "ASIATESTKEY1")
        #expect(base.calls.load(ordering: .sequentiallyConsistent) == 1)
        // Within 5 minutes of expiration: renewed.
        clock.advance(400)
        #expect(try await cache.credentials().accessKeyID == "ASIATESTKEY2")
        #expect(base.calls.load(ordering: .sequentiallyConsistent) == 2)
    }

    @Test func cachingKeepsValidCredentialsWhenRenewalFails() async throws {
        let clock = TestClock()
        let base = CountingProvider(lifetime: 3600, clock: clock)
        let cache = CachingCredentialProvider(base, refreshBefore: .seconds(300), now: { clock.now() })
        _ = try await cache.credentials()
        base.failing.store(true, ordering: .sequentiallyConsistent)
        clock.advance(3400)  // inside the renewal window, not yet expired
        #expect(try await cache.credentials().accessKeyID == "ASIATESTKEY1")
        clock.advance(300)  // expired now
        let error = await expectAWSError { _ = try await cache.credentials() }
        #expect(error?.kind == .serverError)
        base.failing.store(false, ordering: .sequentiallyConsistent)
        #expect(try await cache.credentials().accessKeyID.hasPrefix("ASIATESTKEY"))
    }

    @Test func cachingStaticCredentialsAndInvalidate() async throws {
        let clock = TestClock()
        let base = CountingProvider(lifetime: nil, clock: clock)
        let cache = CachingCredentialProvider(base, now: { clock.now() })
        _ = try await cache.credentials()
        clock.advance(86400 * 365)
        _ = try await cache.credentials()
        #expect(base.calls.load(ordering: .sequentiallyConsistent) == 1)
        cache.invalidate()
        #expect(try await cache.credentials().accessKeyID == "ASIATESTKEY2")
    }

    @Test func chainFromEnvironment() async throws {
        try await withTransport { transport in
            let sts = STSClient(transport: transport)
            let fromKeys = try AWSCredentialChain.fromEnvironment(
                ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token], sts: sts)
            let c = try await fromKeys.credentials()
            #expect(c.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
            #expect(c.sessionToken == Self.token)

            let web = try AWSCredentialChain.fromEnvironment(
                ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_REGION": "eu-west-1"],
                sts: sts)
            let cache = try #require(web as? CachingCredentialProvider)
            let provider = try #require(cache.base as? WebIdentityCredentialProvider)
            #expect(provider.region == "eu-west-1")
            #expect(provider.tokenFile == "/var/run/token")

            let assumed = try AWSCredentialChain.fromEnvironment(
                ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_ROLE_SESSION_NAME": "my-session"],
                sts: sts, assumeRole: AWSAssumeRoleOptions(roleARN: "arn:aws:iam::123456789012:role/pull", externalID: "ext-1", duration: .seconds(900)))
            let assume = try #require((assumed as? CachingCredentialProvider)?.base as? AssumeRoleCredentialProvider)
            #expect(assume.sessionName == "my-session")
            #expect(assume.externalID == "ext-1")
            #expect(assume.region == "us-east-1")

            // Keys injected per cycle (e.g. from mounted files) instead of the environment.
            let injected = try AWSCredentialChain.fromEnvironment(
                [:], sts: sts, baseOverride: StaticCredentialProvider(accessKeyID: "AKIAFROMFILE00000000", secretAccessKey: "x"))
            #expect(try await injected.credentials().accessKeyID == "AKIAFROMFILE00000000")
        }
    }

    @Test(arguments: [
        (["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"], "AWS_SECRET_ACCESS_KEY"),
        (["AWS_SECRET_ACCESS_KEY": "x"], "AWS_ACCESS_KEY_ID"),
        (["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r"], "AWS_WEB_IDENTITY_TOKEN_FILE"),
        (["AWS_WEB_IDENTITY_TOKEN_FILE": "/t"], "AWS_ROLE_ARN"),
        ([:], "no AWS credentials"),
        (["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE ", "AWS_SECRET_ACCESS_KEY": "x"], "white space"),
        (["AWS_ROLE_ARN": "my-role", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"], "role ARN"),
        (["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "Placeholder"], "AWS_REGION"),
        (["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ROLE_SESSION_NAME": "bad name"], "session name"),
    ])
    func chainErrors(env: [String: String], mentions: String) async throws {
        try await withTransport { transport in
            let error = #expect(throws: AWSError.self) {
                try AWSCredentialChain.fromEnvironment(env, sts: STSClient(transport: transport))
            }
            #expect(error?.kind == .invalidConfiguration)
            #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "")")
        }
    }

    @Test func webIdentityTokenFileErrors() async throws {
        try await withTransport { transport in
            let sts = STSClient(transport: transport)
            let missing = try WebIdentityCredentialProvider(
                sts: sts, roleARN: "arn:aws:iam::123456789012:role/r", tokenFile: "/nonexistent/token", region: "us-east-1")
            let e1 = await expectAWSError { _ = try await missing.credentials() }
            #expect(e1?.kind == .invalidConfiguration)
            #expect(e1?.description.contains("/nonexistent/token") == true)
            let dir = try TestEnv.tempDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let empty = dir.appendingPathComponent("token")
            try Data("  \n".utf8).write(to: empty)
            let p = try WebIdentityCredentialProvider(sts: sts, roleARN: "arn:aws:iam::123456789012:role/r", tokenFile: empty.path, region: "us-east-1")
            let e2 = await expectAWSError { _ = try await p.credentials() }
            #expect(e2?.description.contains("empty") == true)
        }
    }

    @Test func assumeRoleParameterValidation() async throws {
        try await withTransport { transport in
            let sts = STSClient(transport: transport)
            let base = StaticCredentialProvider(.example)
            #expect(throws: AWSError.self) {
                try AssumeRoleCredentialProvider(sts: sts, base: base, roleARN: "arn:aws:iam::123:role/x", region: "us-east-1")
            }
            #expect(throws: AWSError.self) {
                try AssumeRoleCredentialProvider(sts: sts, base: base, roleARN: "arn:aws:iam::123456789012:role/x", duration: .seconds(60), region: "us-east-1")
            }
            #expect(throws: AWSError.self) {
                try AssumeRoleCredentialProvider(sts: sts, base: base, roleARN: "arn:aws:iam::123456789012:role/x", sessionName: "a", region: "us-east-1")
            }
            _ = try AssumeRoleCredentialProvider(
                sts: sts, base: base, roleARN: "arn:aws-cn:iam::123456789012:role/path/x", sessionName: "ok.session@x", duration: .seconds(3600),
                region: "cn-north-1")
        }
    }
}

@Suite struct HTTPSettingsTests {
    @Test func proxyParsing() throws {
        let p = try AWSHTTPSettings.Proxy.parse("http://user:p%40ss@proxy.corp:3128/", source: "HTTPS_PROXY")
        #expect(p.host == "proxy.corp")
        #expect(p.port == 3128)
        #expect(p.username == "user")
        #expect(p.password == "p@ss")
        #expect(!p.description.contains("p@ss"))
        #expect(p.description == "http://user:<redacted>@proxy.corp:3128")
        #expect(try AWSHTTPSettings.Proxy.parse("proxy:8080", source: "x").port == 8080)
        #expect(try AWSHTTPSettings.Proxy.parse("http://proxy", source: "x").port == 80)
        #expect(try AWSHTTPSettings.Proxy.parse("socks5://s", source: "x").kind == .socks5)
        #expect(try AWSHTTPSettings.Proxy.parse("http://[::1]:3128", source: "x").host == "::1")
        for bad in ["https://proxy:443", "ftp://p", "http://:80", "http://p:99999", "http://p:8080/path"] {
            let error = #expect(throws: AWSError.self) { try AWSHTTPSettings.Proxy.parse(bad, source: "HTTPS_PROXY") }
            #expect(error?.description.contains("HTTPS_PROXY") == true)
        }
        // A password never shows in the error either.
        let e = #expect(throws: AWSError.self) { try AWSHTTPSettings.Proxy.parse("http://u:hunter2@p:bad", source: "HTTPS_PROXY") }
        #expect(e?.description.contains("hunter2") == false)
    }

    @Test func fromEnvironment() throws {
        let s = try AWSHTTPSettings.fromEnvironment([
            "HTTPS_PROXY": "http://a:1", "https_proxy": "http://ignored:2", "http_proxy": "http://b:3",
            "NO_PROXY": " localhost, .internal ,10.0.0.0/8,, ", "AWS_CA_BUNDLE": "/etc/ca.pem",
        ])
        #expect(s.httpsProxy?.host == "a")
        #expect(s.httpProxy?.host == "b")
        #expect(s.noProxy == ["localhost", ".internal", "10.0.0.0/8"])
        #expect(s.caBundlePath == "/etc/ca.pem")
        #expect(try AWSHTTPSettings.fromEnvironment([:]) == AWSHTTPSettings())
    }

    @Test(arguments: [
        ("api.ecr.us-east-1.amazonaws.com", 443, ["amazonaws.com"], true),
        ("api.ecr.us-east-1.amazonaws.com", 443, [".amazonaws.com"], true),
        ("api.ecr.us-east-1.amazonaws.com", 443, ["*.amazonaws.com"], true),
        ("notamazonaws.com", 443, ["amazonaws.com"], false),
        ("api.ecr.us-east-1.amazonaws.com", 443, ["ecr.internal"], false),
        ("10.1.2.3", 443, ["10.0.0.0/8"], true),
        ("11.1.2.3", 443, ["10.0.0.0/8"], false),
        ("127.0.0.1", 5000, ["127.0.0.1"], true),
        ("127.0.0.1", 5000, ["127.0.0.1:6000"], false),
        ("127.0.0.1", 5000, ["127.0.0.1:5000"], true),
        ("anything", 1, ["*"], true),
        ("LOCALHOST", 80, ["localhost"], true),
        ("[::1]", 80, ["::1"], true),
    ])
    func noProxy(host: String, port: Int, noProxy: [String], bypass: Bool) {
        #expect(AWSHTTPSettings.bypassesProxy(host: host, port: port, noProxy: noProxy) == bypass)
        let s = AWSHTTPSettings(httpsProxy: .init(host: "p", port: 1), noProxy: noProxy)
        #expect((s.proxy(scheme: "https", host: host, port: port) == nil) == bypass)
        #expect(s.proxy(scheme: "http", host: host, port: port) == nil)  // no HTTP_PROXY configured
    }

    @Test func caBundleErrors() throws {
        let missing = #expect(throws: AWSError.self) {
            try AWSHTTPTransport(settings: AWSHTTPSettings(caBundlePath: "/nonexistent/ca.pem"))
        }
        #expect(missing?.description.contains("AWS_CA_BUNDLE") == true)
        let dir = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.pem")
        try Data("not a certificate".utf8).write(to: junk)
        let bad = #expect(throws: AWSError.self) { try AWSHTTPTransport(settings: AWSHTTPSettings(caBundlePath: junk.path)) }
        #expect(bad?.kind == .invalidConfiguration)
    }
}

@Suite struct RetryPolicyTests {
    @Test func backoffIsExponentialWithFullJitterAndCapped() {
        let p = AWSRetryPolicy.standard
        #expect(p.maxAttempts == 3)
        #expect(p.backoff(retry: 1, random: 1) == .milliseconds(100))
        #expect(p.backoff(retry: 2, random: 1) == .milliseconds(200))
        #expect(p.backoff(retry: 3, random: 0.5) == .milliseconds(200))
        #expect(p.backoff(retry: 1, random: 0) == .zero)
        #expect(p.backoff(retry: 30, random: 1) == .seconds(20))
        #expect(p.backoff(retry: 200, random: 1) == .seconds(20))
    }

    @Test func tokenBucket() {
        var b = RetryTokenBucket(capacity: 500)
        var retries = 0
        while b.acquire(5) { retries += 1 }
        #expect(retries == 100)
        let again = b.acquire(5)
        #expect(!again)
        b.succeeded(lastRetryCost: nil, increment: 1)
        #expect(b.available == 1)
        b.succeeded(lastRetryCost: 10, increment: 1)
        #expect(b.available == 11)
        var full = RetryTokenBucket(capacity: 500)
        full.succeeded(lastRetryCost: nil, increment: 1)
        #expect(full.available == 500)
    }

    @Test func fromEnvironment() throws {
        #expect(try AWSRetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "5"]).maxAttempts == 5)
        #expect(try AWSRetryPolicy.fromEnvironment(["AWS_RETRY_MODE": "standard"]).maxAttempts == 3)
        #expect(throws: AWSError.self) { try AWSRetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "0"]) }
        #expect(throws: AWSError.self) { try AWSRetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "three"]) }
        #expect(throws: AWSError.self) { try AWSRetryPolicy.fromEnvironment(["AWS_RETRY_MODE": "turbo"]) }
    }
}
