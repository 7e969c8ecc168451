import Foundation
import TestSupport
import Testing
import Yams

/// `aws-ecr-cred-helper credential-provider` as the kubelet runs it: one request on stdin, one answer on stdout,
/// against moto with signature checking on (through scripts/aws/fault_proxy.py where its log is needed).
extension HelperBinaryTests {
    @Suite struct CredentialProviderTests {
        static let apiVersions = ["credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1"]

        /// Runs the provider with `stdin` and only `environment` (plus PATH and HOME, so no AWS file of the
        /// machine leaks in).
        static func provide(_ stdin: String, environment: [String: String] = [:], arguments: [String] = []) async throws -> (CommandResult, String) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cp-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let input = directory + "/request.json"
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: input))
            var env = ["PATH": "/usr/bin:/bin", "HOME": directory]
            env.merge(environment) { _, new in new }
            let child = try ChildProcess(
                executable: try TestEnvironment.helperBinary(), arguments: ["credential-provider"] + arguments, environment: env,
                outputDirectory: directory, stdinPath: input)
            let termination = try await child.wait(timeout: .seconds(60))
            return (CommandResult(termination: termination, stdout: child.stdout, stderr: child.stderr), directory)
        }

        static func request(_ image: String, apiVersion: String = apiVersions[0], token: String? = nil, annotations: [String: String]? = nil) -> String {
            var object: [String: Any] = ["kind": "CredentialProviderRequest", "apiVersion": apiVersion, "image": image]
            if let token { object["serviceAccountToken"] = token }
            if let annotations { object["serviceAccountAnnotations"] = annotations }
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }

        struct Answer {
            var json: [String: Any]
            var auth: [String: [String: String]]
            var registry: String? { auth.keys.first }
            var password: String? { auth.values.first?["password"] }
        }

        static func answer(_ result: CommandResult) throws -> Answer {
            #expect(result.exitCode == 0, "\(result)")
            #expect(result.stderr.isEmpty, "\(result)")
            #expect(result.stdoutLines.count == 1, "\(result)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            // Exactly the fields of CredentialProviderResponse: the kubelet decodes strictly.
            #expect(Set(json.keys) == ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"])
            #expect(json["kind"] as? String == "CredentialProviderResponse")
            #expect(json["cacheKeyType"] as? String == "Registry")
            let auth = try #require(json["auth"] as? [String: [String: String]])
            return Answer(json: json, auth: auth)
        }

        func moto() throws -> (MotoFixture, String) {
            (try TestEnvironment.moto(), try #require(TestEnvironment.motoEndpoint))
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason), arguments: apiVersions)
        func staticKeysAnswerInTheRequestsAPIVersion(apiVersion: String) async throws {
            let (fixture, endpoint) = try moto()
            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let (result, _) = try await Self.provide(
                Self.request("\(host)/team/app:1.2", apiVersion: apiVersion),
                environment: ["AWS_ACCESS_KEY_ID": fixture.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": fixture.allowed.secretAccessKey,
                              "AWS_ENDPOINT_URL": endpoint])
            let answer = try Self.answer(result)
            #expect(answer.json["apiVersion"] as? String == apiVersion)
            #expect(answer.registry == host)
            #expect(answer.auth[host]?["username"] == "AWS")
            #expect(answer.password == "\(fixture.account)-auth-token")
            // moto's tokens expire in 2015: the kubelet must not cache them at all.
            #expect(answer.json["cacheDuration"] as? String == "0s")
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func settingsFromAFolderWithARoleAssumeIt() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cp-aws-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (key, value) in ["AWS_ACCESS_KEY_ID": fixture.allowed.accessKeyId + "\n", "AWS_SECRET_ACCESS_KEY": fixture.allowed.secretAccessKey + "\n",
                                 "AWS_ROLE_ARN": fixture.roleArn] {
                try Data(value.utf8).write(to: URL(fileURLWithPath: folder + "/" + key))
            }
            // A pull-through-cache repository lives in the same registry.
            let host = "\(fixture.account).dkr.ecr.eu-west-1.amazonaws.com"
            // AWS only, never the Kubernetes API: a kubeconfig and the in-cluster variables point at the proxy
            // too, whose log would then show a request that is not an AWS action.
            let port = try #require(proxy.url.split(separator: ":").last.map(String.init))
            let kubeconfig = folder + "/kubeconfig"
            try Data("""
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "\(proxy.url)"}}]
                users: [{name: u, user: {token: kube-token-value}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                current-context: x

                """.utf8).write(to: URL(fileURLWithPath: kubeconfig))
            let (result, _) = try await Self.provide(
                Self.request("\(host)/docker-hub/library/nginx:latest"),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "KUBECONFIG": kubeconfig,
                              "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port],
                arguments: ["--aws-config-dir", folder])
            let answer = try Self.answer(result)
            #expect(answer.registry == host)
            let seen = try await proxy.requests()
            #expect(seen.map { $0.action ?? $0.target ?? "?" } == ["AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"])
            #expect(seen.allSatisfy { $0.authorized && !$0.signedByProxy })
        }

        /// Web identity from a file, named by the controller's settings (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE).
        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func webIdentityTokenFileFromTheSettings() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cp-web-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2RlLXdlYi1pZGVudGl0eSJ9.bm9kZS1maWxlLXRva2Vu"
            try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/token"))
            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let (result, _) = try await Self.provide(
                Self.request("\(host)/app"),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_ROLE_ARN": fixture.roleArn, "AWS_WEB_IDENTITY_TOKEN_FILE": folder + "/token",
                              "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"])
            let answer = try Self.answer(result)
            #expect(answer.registry == host)
            let seen = try await proxy.requests()
            #expect(seen.map { $0.action ?? $0.target ?? "?" } == ["AssumeRoleWithWebIdentity", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"])
            #expect(seen.first?.webIdentityToken == token)
            #expect(seen.last?.authorized == true && seen.last?.signedByProxy == false)
            #expect(!result.output.contains(token))
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func sharedFileProfilesChainThroughSourceProfile() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cp-files-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // Keys in the credentials file ([name], no prefix); roles in the config file ([profile name]); a
            // [profile default] that must not be what AWS_PROFILE selects; an inline comment.
            try Data("""
                [base]
                aws_access_key_id = \(fixture.allowed.accessKeyId)
                aws_secret_access_key = \(fixture.allowed.secretAccessKey)
                [profile ignored]
                aws_access_key_id = AKIAIGNOREDIGNORED00
                aws_secret_access_key = ignored

                """.utf8).write(to: URL(fileURLWithPath: folder + "/credentials"))
            try Data("""
                # node profiles
                [profile default]
                region = us-east-1
                [profile middle]
                role_arn = \(fixture.roleArn)
                source_profile = base
                [profile ecr]
                role_arn = \(fixture.roleArn) ; the pulling role
                source_profile = middle
                role_session_name = node-pull
                [ecr]
                role_arn = arn:aws:iam::123456789012:role/not-a-profile-without-the-prefix

                """.utf8).write(to: URL(fileURLWithPath: folder + "/config"))
            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let (result, _) = try await Self.provide(
                Self.request("\(host)/app"),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_SHARED_CREDENTIALS_FILE": folder + "/credentials",
                              "AWS_CONFIG_FILE": folder + "/config", "AWS_PROFILE": "ecr"])
            let answer = try Self.answer(result)
            #expect(answer.registry == host)
            let actions = try await proxy.requests().map { $0.action ?? $0.target ?? "?" }
            #expect(actions == ["AssumeRole", "AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"])

            // A web identity profile.
            let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06bm9kZSJ9.bm9kZS1wcm9maWxlLXRva2Vu"
            try Data(token.utf8).write(to: URL(fileURLWithPath: folder + "/token"))
            try Data("[profile web]\nrole_arn = \(fixture.roleArn)\nweb_identity_token_file = \(folder)/token\n".utf8)
                .write(to: URL(fileURLWithPath: folder + "/config"))
            let (web, _) = try await Self.provide(
                Self.request("\(host)/app"),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_CONFIG_FILE": folder + "/config", "AWS_PROFILE": "web",
                              "AWS_SHARED_CREDENTIALS_FILE": folder + "/none"])
            _ = try Self.answer(web)
            let last = try await proxy.requests().suffix(2)
            #expect(last.first?.action == "AssumeRoleWithWebIdentity")
            #expect(last.first?.webIdentityToken == token)
            #expect(!web.output.contains(token))

            // A loop is one clear line.
            try Data("[profile a]\nrole_arn = \(fixture.roleArn)\nsource_profile = b\n[profile b]\nrole_arn = \(fixture.roleArn)\nsource_profile = a\n".utf8)
                .write(to: URL(fileURLWithPath: folder + "/config"))
            let (loop, _) = try await Self.provide(
                Self.request("\(host)/app"),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_CONFIG_FILE": folder + "/config", "AWS_PROFILE": "a"])
            #expect(loop.exitCode == 1)
            #expect(loop.stdout.isEmpty)
            #expect(loop.stderrLines.count == 1 && loop.stderr.contains("a -> b -> a"), "\(loop)")
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func serviceAccountTokenIsExchangedForTheAnnotatedRole() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let tokenA = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbS1hOmJ1aWxkZXIifQ.c2lnQQ"
            let tokenB = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbS1iOnJ1bm5lciJ9.c2lnQg"
            // No node credentials at all: the pod's token is the only credential.
            var outputs: [String] = []
            for (token, annotations) in [(tokenA, ["eks.amazonaws.com/role-arn": fixture.roleArn]),
                                         (tokenB, ["aws-ecr-cred-helper/role-arn": fixture.roleArn, "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/other"])] {
                let (result, _) = try await Self.provide(
                    Self.request("\(host)/app", token: token, annotations: annotations),
                    environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"])
                let answer = try Self.answer(result)
                #expect(answer.registry == host)
                outputs.append(result.output)
            }
            let seen = try await proxy.requests()
            let exchanges = seen.filter { $0.action == "AssumeRoleWithWebIdentity" }
            // One exchange per request, each with its own ServiceAccount's token: nothing is shared between them.
            #expect(exchanges.map(\.webIdentityToken) == [tokenA, tokenB])
            #expect(exchanges.allSatisfy { !$0.authorized && $0.signedByProxy })
            #expect(seen.filter { $0.target?.hasSuffix("GetAuthorizationToken") == true }.allSatisfy { $0.authorized && !$0.signedByProxy })
            #expect(!outputs.joined().contains(tokenA) && !outputs.joined().contains(tokenB))

            // A token without a role annotation and no node credentials: one line saying what to do.
            let (none, _) = try await Self.provide(
                Self.request("\(host)/app", token: tokenA, annotations: [:]),
                environment: ["AWS_ENDPOINT_URL": proxy.url, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"])
            #expect(none.exitCode == 1 && none.stdout.isEmpty && none.stderrLines.count == 1, "\(none)")
            #expect(none.stderr.contains("no AWS credentials for node mode"))
            #expect(!none.output.contains(tokenA))
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func ecrPublicIsAskedOfECRPublicInUSEast1() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            // moto has no ECR Public: the proxy answers that call as AWS documents it (authorizationData is one
            // object, without proxyEndpoint); the log shows how the helper signed it.
            let expires = Date().timeIntervalSince1970 + 12 * 3600
            let token = Data("AWS:public-password-value".utf8).base64EncodedString()
            let publicTokenRule: [String: Any] = [
                "match": ["target": "SpectrumKairosService.GetAuthorizationToken"], "status": 200,
                "headers": ["Content-Type": "application/x-amz-json-1.1"],
                "body": "{\"authorizationData\":{\"authorizationToken\":\"\(token)\",\"expiresAt\":\(expires)}}",
            ]
            try await proxy.addRules([publicTokenRule])
            let (result, _) = try await Self.provide(
                Self.request("public.ecr.aws/team/tool:1"),
                environment: ["AWS_ACCESS_KEY_ID": fixture.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": fixture.allowed.secretAccessKey,
                              "AWS_ENDPOINT_URL": proxy.url])
            let answer = try Self.answer(result)
            #expect(answer.registry == "public.ecr.aws")
            #expect(answer.password == "public-password-value")
            // 12 h token, 1 h margin: about 11 h (the test's seconds of run time make it a little less).
            let duration = try #require(answer.json["cacheDuration"] as? String)
            #expect(duration.hasPrefix("10h59m") || duration.hasPrefix("11h0m"), "\(duration)")
            let seen = try await proxy.requests()
            #expect(seen.count == 1)
            #expect(seen.first?.service == "ecr-public")

            // REFRESH_MARGIN from the controller's config folder (--config-dir, read only when given).
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-cp-config-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("2h\n".utf8).write(to: URL(fileURLWithPath: folder + "/REFRESH_MARGIN"))
            try await proxy.addRules([publicTokenRule])  // a rule answers once
            let (margin, _) = try await Self.provide(
                Self.request("public.ecr.aws/team/tool:1"),
                environment: ["AWS_ACCESS_KEY_ID": fixture.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": fixture.allowed.secretAccessKey,
                              "AWS_ENDPOINT_URL": proxy.url],
                arguments: ["--config-dir", folder])
            let shorter = try #require(try Self.answer(margin).json["cacheDuration"] as? String)
            #expect(shorter.hasPrefix("9h59m") || shorter.hasPrefix("10h0m"), "\(shorter)")
        }

        /// Bad input: exit 1, exactly one line on stderr, nothing on stdout, no secret anywhere.
        @Test(arguments: [
            ("", "it was empty"),
            ("{not json", "not a JSON CredentialProviderRequest"),
            ("[]", "not a JSON CredentialProviderRequest"),
            (#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"1.dkr.ecr.x/y"}"#, "is not CredentialProviderRequest"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"a/b"}"#, "is not supported"),
            (#"{"kind":"CredentialProviderRequest","image":"a/b"}"#, "has no apiVersion"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#, "has no image"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"docker.io/library/nginx:1"}"#, "is not in an Amazon ECR registry"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"nginx"}"#, "is not in an Amazon ECR registry"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"123456789012.dkr.ecr.not_a_region.amazonaws.com/x"}"#, "is not in an Amazon ECR registry"),
            (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/x","serviceAccountToken":"secret-sa-token-value"}"#, "exist only in credentialprovider.kubelet.k8s.io/v1"),
        ])
        func badInputIsOneLineAndNoAnswer(input: String, mention: String) async throws {
            let (result, _) = try await Self.provide(input, environment: ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"])
            #expect(result.exitCode == 1, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.contains(mention), "\(result)")
            for secret in ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret-sa-token-value"] {
                #expect(!result.output.contains(secret))
            }
        }

        /// Standard error is the kubelet's log: even at trace level it holds no key, no ServiceAccount token and
        /// no ECR password (which only the answer on standard output carries).
        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func traceLevelPrintsNoSecretOnStandardError() async throws {
            let (fixture, endpoint) = try moto()
            let proxy = try await FaultProxy(upstream: endpoint, signUnsignedWith: try #require(TestEnvironment.value("MOTO_FIXTURE")) as String)
            defer { proxy.stop() }
            let host = "\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com"
            let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0cmFjZS1sZXZlbCJ9.dHJhY2UtbGV2ZWwtdG9rZW4"
            for request in [Self.request("\(host)/app"), Self.request("\(host)/app", token: token, annotations: ["aws-ecr-cred-helper/role-arn": fixture.roleArn])] {
                let (result, _) = try await Self.provide(
                    request,
                    environment: ["AWS_ACCESS_KEY_ID": fixture.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": fixture.allowed.secretAccessKey,
                                  "AWS_ROLE_ARN": fixture.roleArn, "AWS_ENDPOINT_URL": proxy.url],
                    arguments: ["--log-level", "trace"])
                #expect(result.exitCode == 0, "\(result)")
                #expect(result.stdoutLines.count == 1 && !result.stderr.isEmpty, "trace level should say something: \(result)")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
                let password = try #require((json["auth"] as? [String: [String: String]])?[host]?["password"])
                for secret in [fixture.allowed.secretAccessKey, token, password] {
                    #expect(!result.stderr.contains(secret), "stderr holds a secret: \(result.stderr.suffix(2000))")
                }
            }
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func awsRefusalIsOneLineWithoutTheSecret() async throws {
            let (fixture, endpoint) = try moto()
            for (id, secret, mention) in [(fixture.denied.accessKeyId, fixture.denied.secretAccessKey, "ecr:GetAuthorizationToken"),
                                          (fixture.allowed.accessKeyId, fixture.denied.secretAccessKey, "AWS_SECRET_ACCESS_KEY")] {
                let (result, _) = try await Self.provide(
                    Self.request("\(fixture.account).dkr.ecr.\(fixture.region).amazonaws.com/app"),
                    environment: ["AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": endpoint])
                #expect(result.exitCode == 1 && result.stdout.isEmpty && result.stderrLines.count == 1, "\(result)")
                #expect(result.stderr.contains(mention), "\(result)")
                #expect(!result.output.contains(secret))
            }
        }

        @Test func helpNamesNoSecret() async throws {
            let (result, _) = try await Self.provide("", arguments: ["get", "--help"])
            #expect(result.exitCode == 0)
            #expect(result.stdout.contains("CredentialProviderRequest"))
            #expect(!result.stdout.contains("--aws-secret-access-key"))
            // Node mode reads the settings folders only when given: no default folder is promised.
            #expect(!result.stdout.contains("Default: /config"), "\(result)")
            let words = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.components(separatedBy: "Default: none (read only when given).").count == 3, "\(result)")
        }
    }
}
