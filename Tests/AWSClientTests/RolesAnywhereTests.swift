import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
import X509

@testable import AWSClient

/// IAM Roles Anywhere: reading certificates and keys, every local error word for word, CreateSession against the
/// test endpoint (scripts/aws/rolesanywhere_endpoint.py: TLS, signature, chain and dates checked), the provider's
/// renewals, moto accepting the session's credentials, and the private key never shown.
@Suite(.enabled(if: TestEnv.python != nil, TestEnv.pythonReason))
struct RolesAnywhereTests {
    static let anchor = RolesAnywhereWorld.trustAnchorARN
    static let profile = RolesAnywhereWorld.profileARN
    static let role = RolesAnywhereWorld.roleARN

    func readError(_ world: RolesAnywhereWorld, _ certificate: String, _ key: String) -> RolesAnywhereError? {
        do {
            _ = try RolesAnywhereIdentity.read(certificateFile: certificate, privateKeyFile: key)
            Issue.record("expected an error reading \(certificate) and \(key)")
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Reading

    @Test func readsEveryKeyKindAndForm() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let cases: [(String, String, RolesAnywhereIdentity.KeyType, Int)] = [
            ("rsa.crt", "rsa.key", .rsa, 1), ("rsa.crt", "rsa-pkcs8.key", .rsa, 1), ("ec256.crt", "ec256.key", .ecdsaP256, 0),
            ("ec256.crt", "ec256-pkcs8.key", .ecdsaP256, 0), ("ec384.crt", "ec384.key", .ecdsaP384, 1),
        ]
        for (certificate, key, type, intermediates) in cases {
            let identity = try world.identity(certificate, key)
            #expect(identity.keyType == type, "\(certificate) \(key)")
            #expect(identity.chainDER.count == intermediates, "\(certificate)")
            #expect(identity.signingAlgorithm == (type == .rsa ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256"))
            #expect(identity.serialNumber.allSatisfy { $0.isNumber })
            #expect(identity.description.contains("key <redacted>"))
        }
        // A file holding the key and the certificate together serves as both.
        let combined = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: combined) }
        let both = combined.appendingPathComponent("both.pem").path
        let text = try String(contentsOfFile: world.path("ec256.key"), encoding: .utf8) + String(contentsOfFile: world.path("ec256.crt"), encoding: .utf8)
        try text.write(toFile: both, atomically: true, encoding: .utf8)
        #expect(try RolesAnywhereIdentity.read(certificateFile: both, privateKeyFile: both).keyType == .ecdsaP256)
    }

    @Test func serialNumbersInDecimal() {
        #expect(RolesAnywhereIdentity.decimal([0x00]) == "0")
        #expect(RolesAnywhereIdentity.decimal([0x01, 0x00]) == "256")
        #expect(RolesAnywhereIdentity.decimal([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == "18446744073709551615")
        #expect(
            RolesAnywhereIdentity.decimal([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
                == "340282366920938463463374607431768211456")
    }

    // MARK: - Local errors, word for word

    @Test func fileAndKeyErrors() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let missing = world.path("nothing-here.pem")
        #expect(
            readError(world, missing, world.path("rsa.key"))?.description
                == "AWS_ROLES_ANYWHERE_CERTIFICATE=\(missing): no such file; mount the kubernetes.io/tls Secret's tls.crt there or correct the path")
        #expect(
            readError(world, world.path("rsa.crt"), missing)?.description
                == "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(missing): no such file; mount the kubernetes.io/tls Secret's tls.key there or correct the path")
        #expect(
            readError(world, world.path("rsa.key"), world.path("rsa.key"))?.description
                == "AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.path("rsa.key")) holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at the certificate file (tls.crt), intermediates after it")
        #expect(
            readError(world, world.path("rsa.crt"), world.path("rsa.crt"))?.description
                == "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path("rsa.crt")) holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY): point it at the key file (tls.key)")
        #expect(
            readError(world, world.path("ec256.crt"), world.path("encrypted.key"))?.description
                == "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path("encrypted.key")) is encrypted (ENCRYPTED PRIVATE KEY): give the key unencrypted (PKCS#8, PKCS#1 or SEC1 PEM, as cert-manager writes it) and protect the file instead")
        for (file, type) in [("ed25519.key", "Ed25519"), ("p521.key", "ECDSA P-521")] {
            #expect(
                readError(world, world.path("ec256.crt"), world.path(file))?.description
                    == "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path(file)): unsupported key type \(type): IAM Roles Anywhere takes RSA (2048 bits or more) or ECDSA P-256/P-384 keys; issue the certificate for one of those (cert-manager: privateKey.algorithm RSA, or ECDSA with size 256 or 384)")
        }
        #expect(
            readError(world, world.path("rsa.crt"), world.path("rsa1024.key"))?.description
                == "AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path("rsa1024.key")) cannot be read as a private key (malformed, or RSA shorter than 2048 bits): give the PEM key the certificate was issued for")
        let rsa = try world.identity("rsa.crt", "rsa.key")
        #expect(
            readError(world, world.path("rsa.crt"), world.path("ec256.key"))?.description
                == "the private key AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path("ec256.key")) does not match the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.path("rsa.crt")) (serial \(rsa.serialNumber)): give the key the certificate was issued for (tls.key and tls.crt of the same Secret)")
        #expect(
            readError(world, world.path("rsa.crt"), world.path("rsa2.key"))?.description
                == "the private key AWS_ROLES_ANYWHERE_PRIVATE_KEY=\(world.path("rsa2.key")) does not match the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.path("rsa.crt")) (serial \(rsa.serialNumber)): give the key the certificate was issued for (tls.key and tls.crt of the same Secret)")
    }

    @Test func validityErrorsNameTheDates() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let now = Date()
        let expired = try world.identity("expired.crt", "expired.key")
        do {
            try expired.checkValidity(at: now)
            Issue.record("an expired certificate passed")
        } catch {
            #expect(
                error.description
                    == "the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.path("expired.crt")) (serial \(expired.serialNumber)) expired at \(UTCTime.iso8601(expired.certificate.notValidAfter)) (now \(UTCTime.iso8601(now))): renew it (with cert-manager, check the Certificate's status and its issuer)")
        }
        let early = try world.identity("notyet.crt", "notyet.key")
        do {
            try early.checkValidity(at: now)
            Issue.record("a certificate not yet valid passed")
        } catch {
            #expect(
                error.description
                    == "the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.path("notyet.crt")) (serial \(early.serialNumber)) is not valid before \(UTCTime.iso8601(early.certificate.notValidBefore)) (now \(UTCTime.iso8601(now))): check this machine's clock (NTP) or the issuer's, or wait until then")
        }
        try world.identity("rsa.crt", "rsa.key").checkValidity(at: now)
    }

    @Test func requestSettingsErrors() throws {
        func message(_ body: () throws -> Void) -> String? {
            do {
                try body()
                return nil
            } catch { return "\(error)" }
        }
        #expect(
            message { _ = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: Self.profile, roleARN: Self.role, durationSeconds: 600) }
                == "AWS_ROLES_ANYWHERE_SESSION_DURATION 600 s is outside 900 to 43200 s (15 minutes to 12 hours): choose a duration in that range (and no longer than the profile's and the role's maximum)")
        #expect(
            message { _ = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: Self.profile, roleARN: Self.role, durationSeconds: 43201) }
                == "AWS_ROLES_ANYWHERE_SESSION_DURATION 43201 s is outside 900 to 43200 s (15 minutes to 12 hours): choose a duration in that range (and no longer than the profile's and the role's maximum)")
        #expect(
            message { _ = try RolesAnywhereSessionRequest(trustAnchorARN: Self.profile, profileARN: Self.profile, roleARN: Self.role) }
                == "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN \"arn:aws:rolesanywhere:us-east-1:123456789012:profile/66666666-77...\" is not a trust anchor ARN like arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>")
        #expect(
            message { _ = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: "profile-1", roleARN: Self.role) }
                == "AWS_ROLES_ANYWHERE_PROFILE_ARN \"profile-1\" is not a profile ARN like arn:aws:rolesanywhere:us-east-1:123456789012:profile/<id>")
        let westProfile = Self.profile.replacingOccurrences(of: "us-east-1", with: "eu-west-1")
        #expect(
            message { _ = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: westProfile, roleARN: Self.role) }
                == "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN is in us-east-1 but AWS_ROLES_ANYWHERE_PROFILE_ARN is in eu-west-1: use a trust anchor and a profile of the same region")
        let request = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: Self.profile, roleARN: Self.role, roleSessionName: "node-1")
        #expect(request.region == "us-east-1")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"durationSeconds":3600,"roleSessionName":"node-1"}"#)
        #expect(
            request.pathAndQuery
                == "/sessions?profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2F66666666-7777-8888-9999-000000000000&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fecr-pull-role&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Atrust-anchor%2F11111111-2222-3333-4444-555555555555")
    }

    @Test func endpointsByPartition() throws {
        #expect(try AWSEndpoints.standard.resolve(.rolesAnywhere, region: "eu-central-1").url == "https://rolesanywhere.eu-central-1.amazonaws.com")
        #expect(try AWSEndpoints.standard.resolve(.rolesAnywhere, region: "cn-north-1").url == "https://rolesanywhere.cn-north-1.amazonaws.com.cn")
        #expect(try AWSEndpoints(useFIPS: true).resolve(.rolesAnywhere, region: "us-gov-west-1").url == "https://rolesanywhere-fips.us-gov-west-1.amazonaws.com")
        let env = try AWSEndpoints.fromEnvironment(["AWS_ENDPOINT_URL_ROLESANYWHERE": "https://ra.example.internal/", "AWS_ENDPOINT_URL": "https://all.example"])
        #expect(try env.resolve(.rolesAnywhere, region: "us-east-1").url == "https://ra.example.internal")
        #expect(try env.resolve(.rolesAnywhere, region: "us-east-1").signingName == "rolesanywhere")
        #expect(try AWSEndpoints.fromEnvironment(["AWS_ENDPOINT_URL": "https://all.example"]).resolve(.rolesAnywhere, region: "us-east-1").url == "https://all.example")
    }

    // MARK: - The endpoint

    @Test func createSessionForEveryKeyKind() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        try await withTransport(settings: world.httpSettings()) { transport in
            let client = RolesAnywhereClient(transport: transport, endpoints: try world.endpoints())
            for (certificate, key) in [("rsa.crt", "rsa.key"), ("ec256.crt", "ec256-pkcs8.key"), ("ec384.crt", "ec384.key")] {
                let credentials = try await client.createSession(try world.request(durationSeconds: 900), identity: try world.identity(certificate, key))
                #expect(credentials.accessKeyID == "ASIAROLESANYWHERETEST")
                #expect(credentials.isTemporary)
                #expect(credentials.expiration != nil)
            }
        }
        let seen = try await world.requests()
        #expect(seen.map(\.ok) == [true, true, true], "\(seen.map { $0.error ?? "ok" })")
        #expect(seen.first?.signedHeaders == "content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain")
        #expect(seen.first?.body == #"{"durationSeconds":900}"#)
        #expect(seen[1].signedHeaders == "content-type;host;x-amz-date;x-amz-x509")
    }

    @Test func refusalsNameCauseAndFix() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let requestID = " [request id ra-test-request]"
        try await withTransport(settings: world.httpSettings()) { transport in
            let client = RolesAnywhereClient(transport: transport, endpoints: try world.endpoints())
            func refusal(_ request: RolesAnywhereSessionRequest, _ identity: RolesAnywhereIdentity) async -> String? {
                do {
                    _ = try await client.createSession(request, identity: identity)
                    Issue.record("CreateSession succeeded")
                    return nil
                } catch let error as RolesAnywhereError {
                    return error.description
                } catch {
                    Issue.record("expected a RolesAnywhereError, got \(error)")
                    return nil
                }
            }
            let untrustedText =
                "IAM Roles Anywhere refused CreateSession (AccessDeniedException, HTTP 403): the certificate is not trusted by the trust anchor \(Self.anchor): add the CA that issued it (or its root) to the trust anchor, include the intermediates after the certificate in its file, and check that the anchor is enabled. It says: Untrusted signing certificate: not issued by the trust anchor's CA.\(requestID)"
            #expect(await refusal(try world.request(), try world.identity("untrusted.crt", "untrusted.key")) == untrustedText)
            // The intermediate left out of the file: the chain does not reach the anchor.
            #expect(await refusal(try world.request(), try world.identity("leaf-ec384.pem", "ec384.key")) == untrustedText)
            let other = "arn:aws:iam::123456789012:role/other"
            #expect(
                await refusal(try world.request(roleARN: other), try world.identity("rsa.crt", "rsa.key"))
                    == "IAM Roles Anywhere refused CreateSession (AccessDeniedException, HTTP 403): check that the profile \(Self.profile) is enabled and lists the role \(other), that the role's trust policy allows rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity) for this certificate, and that the trust anchor \(Self.anchor) is enabled. It says: Unable to assume role: the profile does not allow it.\(requestID)")
            let unknownProfile = Self.profile.replacingOccurrences(of: "66666666", with: "00000000")
            let request = try RolesAnywhereSessionRequest(trustAnchorARN: Self.anchor, profileARN: unknownProfile, roleARN: Self.role)
            #expect(
                await refusal(request, try world.identity("rsa.crt", "rsa.key"))
                    == "IAM Roles Anywhere refused CreateSession (ResourceNotFoundException, HTTP 404): check that the profile \(unknownProfile) is enabled and lists the role \(Self.role), that the role's trust policy allows rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity) for this certificate, and that the trust anchor \(Self.anchor) is enabled. It says: Profile not found.\(requestID)")
        }
        // Every refusal was one request: 4xx answers are not retried.
        #expect(try await world.requests().count == 4)
    }

    @Test func endpointNotTrustedWithoutTheCABundle() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        try await withTransport(retryPolicy: AWSRetryPolicy(maxAttempts: 1)) { transport in
            let client = RolesAnywhereClient(transport: transport, endpoints: try world.endpoints())
            let error = await expectAWSError { _ = try await client.createSession(try world.request(), identity: try world.identity("rsa.crt", "rsa.key")) }
            #expect(error?.kind == .tls)
            #expect(error?.operation == "rolesanywhere:CreateSession")
        }
    }

    // MARK: - The provider

    /// A folder like a mounted kubernetes.io/tls Secret: tls.crt and tls.key, replaced by renaming (as the kubelet
    /// swaps a Secret volume's files).
    struct SecretFolder {
        let directory: URL
        var certificate: String { directory.appendingPathComponent("tls.crt").path }
        var key: String { directory.appendingPathComponent("tls.key").path }

        init() throws { directory = try TestEnv.tempDirectory() }

        func install(_ world: RolesAnywhereWorld, _ certificate: String, _ key: String) throws {
            for (source, target) in [(world.path(certificate), self.certificate), (world.path(key), self.key)] {
                let temporary = target + ".new"
                try? FileManager.default.removeItem(atPath: temporary)
                try FileManager.default.copyItem(atPath: source, toPath: temporary)
                try #require(rename(temporary, target) == 0, "rename to \(target) failed")
            }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    final class Clock: Sendable {
        let offset = Mutex<TimeInterval>(0)
        func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    }

    @Test func oneSessionUntilItNearsExpiryOrTheFilesChange() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let folder = try SecretFolder()
        defer { folder.remove() }
        try folder.install(world, "rsa.crt", "rsa.key")
        let clock = Clock()
        try await withTransport(settings: world.httpSettings()) { transport in
            let provider = RolesAnywhereCredentialProvider(
                configuration: .init(certificateFile: folder.certificate, privateKeyFile: folder.key, session: try world.request(durationSeconds: 900)),
                client: RolesAnywhereClient(transport: transport, endpoints: try world.endpoints()), now: { clock.now() })
            for _ in 0..<3 { _ = try await provider.credentials() }
            #expect(try await world.requests().count == 1)
            // Within five minutes of the 15-minute session's end: a new session (once; then back to real time, as the
            // endpoint dates its sessions by the real clock).
            clock.advance(11 * 60)
            _ = try await provider.credentials()
            #expect(try await world.requests().count == 2)
            clock.advance(-11 * 60)
            _ = try await provider.credentials()
            #expect(try await world.requests().count == 2)
            // cert-manager renews the Secret: the next call makes a session with the new certificate.
            try folder.install(world, "rsa2.crt", "rsa2.key")
            _ = try await provider.credentials()
            _ = try await provider.credentials()
            let seen = try await world.requests()
            #expect(seen.count == 3)
            #expect(seen.last?.serial == (try world.identity("rsa2.crt", "rsa2.key").serialNumber))
            #expect(seen.first?.serial == (try world.identity("rsa.crt", "rsa.key").serialNumber))
            // A renewal that left a mismatched pair: the session made before is still used until it ends.
            try folder.install(world, "rsa.crt", "rsa2.key")
            let kept = try await provider.credentials()
            #expect(kept.accessKeyID == "ASIAROLESANYWHERETEST")
            #expect(try await world.requests().count == 3)
        }
    }

    @Test func providerChecksValidityBeforeCalling() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        try await withTransport(settings: world.httpSettings()) { transport in
            let provider = RolesAnywhereCredentialProvider(
                configuration: .init(certificateFile: world.path("expired.crt"), privateKeyFile: world.path("expired.key"), session: try world.request()),
                client: RolesAnywhereClient(transport: transport, endpoints: try world.endpoints()))
            await #expect(throws: RolesAnywhereError.self) { _ = try await provider.credentials() }
        }
        #expect(try await world.requests().isEmpty)
    }

    @Test(.enabled(if: TestEnv.hasMoto, TestEnv.motoReason))
    func motoAcceptsTheSessionForGetAuthorizationToken() async throws {
        let world = try await RolesAnywhereWorld.start(moto: true)
        defer { world.stop() }
        let moto = try #require(TestEnv.motoEndpoint)
        try await withTransport(settings: world.httpSettings()) { transport in
            let endpoints = try world.endpoints(others: moto)
            let provider = RolesAnywhereCredentialProvider(
                configuration: .init(certificateFile: world.path("ec384.crt"), privateKeyFile: world.path("ec384.key"), session: try world.request()),
                client: RolesAnywhereClient(transport: transport, endpoints: endpoints))
            let ecr = ECRClient(transport: transport, credentials: provider, endpoints: endpoints)
            let tokens = try await ecr.getAuthorizationToken(region: "us-east-1")
            #expect(!tokens.isEmpty)
            #expect(tokens.first?.username == "AWS")
        }
        #expect(try await world.requests().map(\.ok) == [true])
    }

    /// AWS answers ExpiredToken for session credentials that looked valid: the session is dropped, a new one made,
    /// and the call retried once with it.
    @Test(.enabled(if: TestEnv.hasMoto, TestEnv.motoReason))
    func expiredTokenMakesANewSession() async throws {
        let world = try await RolesAnywhereWorld.start(moto: true)
        defer { world.stop() }
        let proxy = try await FaultProxy(upstream: try #require(TestEnv.motoEndpoint))
        defer { proxy.stop() }
        try await proxy.addRules([[
            "match": ["target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"], "times": 1, "status": 400,
            "headers": ["Content-Type": "application/x-amz-json-1.1"],
            "body": #"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#,
        ]])
        try await withTransport(settings: world.httpSettings()) { transport in
            let endpoints = try world.endpoints(others: proxy.url)
            let provider = RolesAnywhereCredentialProvider(
                configuration: .init(certificateFile: world.path("rsa.crt"), privateKeyFile: world.path("rsa.key"), session: try world.request()),
                client: RolesAnywhereClient(transport: transport, endpoints: endpoints))
            let tokens = try await ECRClient(transport: transport, credentials: provider, endpoints: endpoints).getAuthorizationToken(region: "us-east-1")
            #expect(tokens.first?.username == "AWS")
        }
        #expect(try await world.requests().map(\.ok) == [true, true])
        #expect(try await proxy.requests().count == 2)
    }

    // MARK: - Hygiene

    @Test func privateKeyNeverInLogsOrErrors() async throws {
        let world = try await RolesAnywhereWorld.start()
        defer { world.stop() }
        let logs = CapturedLogs()
        let logger = logs.logger()
        var texts: [String] = []
        try await withTransport(settings: world.httpSettings(), logger: logger) { transport in
            let client = RolesAnywhereClient(transport: transport, endpoints: try world.endpoints(), logger: logger)
            for (certificate, key) in [("rsa.crt", "rsa.key"), ("ec256.crt", "ec256.key"), ("untrusted.crt", "untrusted.key"), ("rsa.crt", "ec256.key")] {
                let provider = RolesAnywhereCredentialProvider(
                    configuration: .init(certificateFile: world.path(certificate), privateKeyFile: world.path(key), session: try world.request()),
                    client: client, logger: logger)
                texts.append(provider.description)
                do {
                    texts.append("\(try await provider.credentials())")
                } catch {
                    texts.append("\(error)")
                    texts.append(String(reflecting: error))
                }
                if let identity = try? world.identity(certificate, key) {
                    texts.append(identity.description)
                    texts.append(String(reflecting: identity))
                }
            }
        }
        var keyLines: [String] = []
        for key in ["rsa.key", "ec256.key", "untrusted.key"] {
            let pem = try String(contentsOfFile: world.path(key), encoding: .utf8)
            keyLines += pem.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 16 }
        }
        #expect(!logs.all.isEmpty)
        #expect(logs.lines(containingAnyOf: keyLines).isEmpty)
        #expect(texts.filter { text in keyLines.contains { text.contains($0) } }.isEmpty)
        #expect(logs.all.contains { $0.contains("signed AWS request with a certificate") })
    }
}
