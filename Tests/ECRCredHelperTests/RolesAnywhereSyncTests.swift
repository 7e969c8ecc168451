import Foundation
import KubeTestServer
import SyncEngine
import TestSupport
import Testing

extension HelperBinaryTests {
    /// IAM Roles Anywhere end to end: a helper given only a kubernetes.io/tls Secret's files and three ARNs (no AWS
    /// key anywhere) creates a session at the test endpoint (TLS, signature, chain and dates checked), logs in to
    /// ECR at moto with the session's credentials (signature checking on) and writes every pull secret.
    @Suite(.enabled(if: TestEnvironment.hasMoto && TestEnvironment.value("TEST_PYTHON") != nil, TestEnvironment.motoReason))
    struct RolesAnywhereSyncTests {
        /// The AWS folder as a Secret with the three ARNs mounts it, and the certificate Secret's folder.
        static func configure(_ world: HelperWorld, _ endpoint: RolesAnywhereEndpoint, certificate: String, key: String, namespaces: [String]) throws -> [String: String] {
            let tls = world.directory + "/tls"
            try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
            try world.write(try String(contentsOfFile: endpoint.path(certificate), encoding: .utf8), to: tls + "/tls.crt")
            try world.write(try String(contentsOfFile: endpoint.path(key), encoding: .utf8), to: tls + "/tls.key")
            try world.writeConfig("NAMESPACES", namespaces.joined(separator: " ") + "\n")
            try world.writeConfig("SECRET_NAME", world.secretName + "\n")
            try world.writeAWS("AWS_DEFAULT_REGION", world.moto.region + "\n")
            try world.writeAWS("AWS_ROLES_ANYWHERE_CERTIFICATE", tls + "/tls.crt\n")
            try world.writeAWS("AWS_ROLES_ANYWHERE_PRIVATE_KEY", tls + "/tls.key\n")
            try world.writeAWS("AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN", RolesAnywhereEndpoint.trustAnchorARN + "\n")
            try world.writeAWS("AWS_ROLES_ANYWHERE_PROFILE_ARN", RolesAnywhereEndpoint.profileARN + "\n")
            try world.writeAWS("AWS_ROLE_ARN", world.moto.roleArn + "\n")
            return ["AWS_ENDPOINT_URL_ROLESANYWHERE": endpoint.url, "AWS_CA_BUNDLE": endpoint.caBundle]
        }

        @Test(arguments: APIServerKind.enabled)
        func syncWithOnlyACertificateAndThreeARNs(_ kind: APIServerKind) async throws {
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: try #require(TestEnvironment.value("MOTO_FIXTURE")))
            defer { endpoint.stop() }
            try await HelperWorld.with(kind) { world in
                let environment = try Self.configure(world, endpoint, certificate: "rsa.crt", key: "rsa.key", namespaces: ["default", "team-a"])
                let aws = try FileManager.default.contentsOfDirectory(atPath: world.awsConfigDirectory)
                #expect(!aws.contains("AWS_ACCESS_KEY_ID") && !aws.contains("AWS_SECRET_ACCESS_KEY"))

                let result = try await world.run("sync", ["--log-level", "trace"], environment: environment)
                #expect(result.exitCode == 0, "\(result)")
                #expect(result.stdoutLines == ["default\twritten", "team-a\twritten"], "\(result)")
                for namespace in ["default", "team-a"] {
                    let config = try #require(try await world.dockerConfig(namespace), "no secret in \(namespace)")
                    let entry = try #require(config.auths["https://\(world.moto.account).dkr.ecr.\(world.moto.region).amazonaws.com"], "\(config.auths.keys)")
                    #expect(entry.username == "AWS")
                }
                let seen = try await endpoint.requests()
                #expect(seen.map(\.ok) == [true], "\(seen.map { $0.error ?? "ok" })")

                // Nothing of the private key in the output, even at trace level.
                let keyLines = try String(contentsOfFile: endpoint.path("rsa.key"), encoding: .utf8)
                    .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 16 }
                for line in keyLines {
                    #expect(!result.stdout.contains(line) && !result.stderr.contains(line), "a line of the private key was printed")
                }
                #expect(result.stderr.contains("signed AWS request with a certificate"), "trace logs missing: \(result.stderr.suffix(2000))")
            }
        }

        /// `check` (one AWS call) and `render` (the secrets as manifests, offline) with a certificate and three ARNs.
        @Test func checkAndRenderWithACertificate() async throws {
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: try #require(TestEnvironment.value("MOTO_FIXTURE")))
            defer { endpoint.stop() }
            try await HelperWorld.with(.standIn) { world in
                let environment = try Self.configure(world, endpoint, certificate: "ec256.crt", key: "ec256.key", namespaces: ["default", "team-a"])
                let check = try await world.run("check", environment: environment)
                #expect(check.exitCode == 0, "\(check)")
                #expect(check.stdout.contains("GetAuthorizationToken") && !check.stdout.contains("FAIL"), "\(check)")
                #expect(try await world.managedSecrets().isEmpty)

                let render = try await world.run("render", environment: environment)
                #expect(render.exitCode == 0, "\(render)")
                #expect(render.stdout.contains("kubernetes.io/dockerconfigjson") && render.stdout.contains("namespace: \"team-a\""), "\(render.stdout.prefix(2000))")
                #expect(try await endpoint.requests().map(\.ok) == [true, true], "one session per process")
            }
        }

        /// `run` keeps one session while the certificate stays (tokens are fetched again and again with it), and
        /// follows a renewal of the certificate Secret in place without a restart.
        @Test(arguments: APIServerKind.enabled)
        func runKeepsOneSessionAndFollowsACertificateRenewal(_ kind: APIServerKind) async throws {
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: try #require(TestEnvironment.value("MOTO_FIXTURE")))
            defer { endpoint.stop() }
            try await HelperWorld.with(kind) { world in
                let environment = try Self.configure(world, endpoint, certificate: "rsa.crt", key: "rsa.key", namespaces: ["default"])
                try world.writeConfig("REFRESH_INTERVAL", "1s\n")
                try await world.running(environment: environment.merging(["LOG_LEVEL": "debug"]) { _, new in new }) { process in
                    try await world.waitForSecrets(["default"], process: process)
                    try await process.waitForLog("fetched registry tokens", count: 2)
                    #expect(try await endpoint.requests().count == 1, "one session serves every refresh")

                    // cert-manager renews the Secret: both files change (one after the other, here).
                    let tls = world.directory + "/tls"
                    try world.write(try String(contentsOfFile: endpoint.path("rsa2.crt"), encoding: .utf8), to: tls + "/tls.crt")
                    try world.write(try String(contentsOfFile: endpoint.path("rsa2.key"), encoding: .utf8), to: tls + "/tls.key")
                    let renewed = try await eventuallyValue("a session with the renewed certificate", timeout: .seconds(30)) { () -> [RolesAnywhereEndpoint.Seen]? in
                        let seen = try await endpoint.requests()
                        return seen.count >= 2 ? seen : nil
                    }
                    #expect(renewed.allSatisfy { $0.ok }, "\(renewed.map { $0.error ?? "ok" })")
                    #expect(renewed.last?.serial != renewed.first?.serial)
                    let fetches = process.stderr.components(separatedBy: "fetched registry tokens").count - 1
                    try await process.waitForLog("fetched registry tokens", count: fetches + 1)
                    #expect(try await endpoint.requests().count == renewed.count, "the renewed certificate's session is reused")
                    #expect(process.isRunning)
                }
            }
        }

        /// Fleet mode: every cluster of the folder (two stand-ins, and the real server when there is one) gets its
        /// secrets from one session: one CreateSession for the whole fleet.
        @Test func fleetSyncSharesOneSession() async throws {
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: try #require(TestEnvironment.value("MOTO_FIXTURE")))
            defer { endpoint.stop() }
            try await HelperWorld.with(.standIn) { world in
                let suffix = uniqueSuffix(5)
                let secretName = "fleet-ra-\(suffix)"
                let namespace = "fra-\(suffix)"
                let rules = HelperWorld.renaming(PolicyRule.originalHelperRole(), to: secretName)
                var servers: [KubeTestServer] = []
                var kubeconfigs: [(String, String)] = []
                for name in ["edge-1", "edge-2"] {
                    let server = try await KubeTestServer.start(KubeTestServerConfiguration(
                        users: [TestUser(name: "system:serviceaccount:kube-system:fleet", token: "fleet-token", rules: rules)],
                        namespaces: ["default", namespace]))
                    servers.append(server)
                    kubeconfigs.append((name, server.kubeconfig(token: "fleet-token")))
                }
                if let real = RealAPIServer.shared {
                    try await real.createNamespace(namespace)
                    let identity = try await real.makeIdentity(name: "fleet-ra-\(suffix)", rules: rules)
                    kubeconfigs.append(("real", real.kubeconfig(token: identity.token)))
                }
                let started = servers
                defer {
                    Task {
                        for server in started { try? await server.stop() }
                        try? await RealAPIServer.shared?.delete("namespaces", namespace: nil, name: namespace)
                    }
                }
                let clusters = world.directory + "/clusters"
                try FileManager.default.createDirectory(atPath: clusters, withIntermediateDirectories: true)
                for (name, kubeconfig) in kubeconfigs { try world.write(kubeconfig, to: clusters + "/" + name + ".yaml") }
                let environment = try Self.configure(world, endpoint, certificate: "ec384.crt", key: "ec384.key", namespaces: [namespace])
                try world.writeConfig("SECRET_NAME", secretName + "\n")
                let base = ["--config-dir", world.configDirectory, "--aws-config-dir", world.awsConfigDirectory, "--clusters-dir", clusters]

                let sync = try await world.run("sync", base, environment: environment, locations: false)
                #expect(sync.exitCode == 0, "\(sync)")
                for (name, _) in kubeconfigs {
                    #expect(sync.stdout.contains("\(name)\t\(namespace)\twritten"), "\(sync.stdout)")
                }
                let seen = try await endpoint.requests()
                #expect(seen.map(\.ok) == [true], "one session for the fleet: \(seen.map { $0.error ?? "ok" })")
            }
        }

        @Test func expiredCertificateFailsWithOneLineNamingTheDates() async throws {
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: try #require(TestEnvironment.value("MOTO_FIXTURE")))
            defer { endpoint.stop() }
            try await HelperWorld.with(.standIn) { world in
                let environment = try Self.configure(world, endpoint, certificate: "expired.crt", key: "expired.key", namespaces: ["default"])
                let result = try await world.run("sync", environment: environment)
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let prefix = "the certificate AWS_ROLES_ANYWHERE_CERTIFICATE=\(world.directory)/tls/tls.crt (serial "
                let line = try #require(result.stderrLines.first { $0.contains(prefix) }, "\(result)")
                #expect(line.contains(") expired at "), "\(line)")
                #expect(line.hasSuffix("): renew it (with cert-manager, check the Certificate's status and its issuer)"), "\(line)")
                #expect(await world.secret("default") == nil)
                #expect(try await endpoint.requests().isEmpty)
            }
        }
    }
}

extension HelperBinaryTests {
    /// Node mode with IAM Roles Anywhere: the certificate and key are files on the node, the settings in the
    /// provider's environment; one CreateSession and one GetAuthorizationToken per kubelet cache miss, and the
    /// answer's cacheDuration within the session's lifetime.
    @Suite(.enabled(if: TestEnvironment.hasMoto && TestEnvironment.value("TEST_PYTHON") != nil, TestEnvironment.motoReason))
    struct RolesAnywhereNodeModeTests {
        @Test func credentialProviderWithACertificate() async throws {
            let fixture = try TestEnvironment.moto()
            let fixturePath = try #require(TestEnvironment.value("MOTO_FIXTURE"))
            let endpoint = try await RolesAnywhereEndpoint(motoFixturePath: fixturePath)
            defer { endpoint.stop() }
            // In front of moto: ECR Public (which moto lacks) answered with a 12-hour token.
            let proxy = try await FaultProxy(upstream: try #require(TestEnvironment.motoEndpoint), signUnsignedWith: fixturePath)
            defer { proxy.stop() }
            let expires = Date().timeIntervalSince1970 + 12 * 3600
            let token = Data("AWS:public-password-value".utf8).base64EncodedString()
            try await proxy.addRules([[
                "match": ["target": "SpectrumKairosService.GetAuthorizationToken"], "status": 200,
                "headers": ["Content-Type": "application/x-amz-json-1.1"],
                "body": "{\"authorizationData\":{\"authorizationToken\":\"\(token)\",\"expiresAt\":\(expires)}}",
            ]])
            let environment = [
                "AWS_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_ROLESANYWHERE": endpoint.url,
                "AWS_CA_BUNDLE": endpoint.caBundle, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                "AWS_ROLES_ANYWHERE_CERTIFICATE": endpoint.path("ec256.crt"), "AWS_ROLES_ANYWHERE_PRIVATE_KEY": endpoint.path("ec256.key"),
                "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": RolesAnywhereEndpoint.trustAnchorARN,
                "AWS_ROLES_ANYWHERE_PROFILE_ARN": RolesAnywhereEndpoint.profileARN, "AWS_ROLE_ARN": fixture.roleArn,
                "AWS_ROLES_ANYWHERE_SESSION_DURATION": "15m",
            ]

            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let (privateResult, _) = try await CredentialProviderTests.provide(CredentialProviderTests.request("\(host)/app:1"), environment: environment)
            let privateAnswer = try CredentialProviderTests.answer(privateResult)
            #expect(privateAnswer.registry == host)
            #expect(privateAnswer.auth.values.first?["username"] == "AWS")
            // moto's private tokens expire in 2015: nothing to cache.
            #expect(privateAnswer.json["cacheDuration"] as? String == "0s")

            let (publicResult, _) = try await CredentialProviderTests.provide(CredentialProviderTests.request("public.ecr.aws/team/tool:1"), environment: environment)
            let publicAnswer = try CredentialProviderTests.answer(publicResult)
            #expect(publicAnswer.password == "public-password-value")
            // A 12-hour token fetched with a 15-minute session: the kubelet's cache ends before the session does
            // (half of what is left of it, the 1-hour margin being longer than the session).
            let cache = try #require(publicAnswer.json["cacheDuration"] as? String)
            let seconds = try #require(DurationParsing.parse(cache)).components.seconds
            #expect(seconds > 400 && seconds <= 450, "\(cache)")

            // One CreateSession and one GetAuthorizationToken per cache miss.
            let sessions = try await endpoint.requests()
            #expect(sessions.map(\.ok) == [true, true], "\(sessions.map { $0.error ?? "ok" })")
            let seen = try await proxy.requests()
            #expect(seen.map { $0.target ?? $0.action ?? "?" } == ["AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "SpectrumKairosService.GetAuthorizationToken"])
            #expect(seen.allSatisfy { $0.authorized && !$0.signedByProxy })
        }
    }
}
