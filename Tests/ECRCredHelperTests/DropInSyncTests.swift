import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `sync` as a drop-in for the original helper: its mounted files, its ClusterRole, its secret; and one
    /// clear line for each way AWS or the cluster can refuse. The tests that touch the cluster run on the
    /// stand-in and on the real kube-apiserver.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct DropInSyncTests {
        @Test(arguments: APIServerKind.enabled)
        func syncWritesEveryListedNamespaceThenReportsUnchanged(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "kube-system", "team-a", "team-b"]) { world in
                try world.writeOriginalConfig(namespaces: ["kube-system", "default", "team-a"])

                let first = try await world.run("sync")
                #expect(first.exitCode == 0, "\(first)")
                #expect(first.stdoutLines == ["default\twritten", "kube-system\twritten", "team-a\twritten"], "\(first)")

                for namespace in ["default", "kube-system", "team-a"] {
                    let secret = try #require(await world.secret(namespace), "no secret in \(namespace)")
                    let config = try DockerConfig(secret: secret)
                    let entry = try #require(config.auths["https://\(world.moto.account).dkr.ecr.\(world.moto.region).amazonaws.com"], "\(config.auths.keys)")
                    #expect(entry.username == "AWS")
                    #expect(!entry.password.isEmpty)
                    #expect(entry.auth == Data("AWS:\(entry.password)".utf8).base64EncodedString())
                    #expect(secret["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.stringValue == "aws-ecr-cred-helper")
                }
                #expect(await world.secret("team-b") == nil, "a namespace that is not listed got a secret")
                // Every write was a server-side apply by the helper's own ServiceAccount.
                for namespace in ["default", "kube-system", "team-a"] {
                    let managers = await world.secret(namespace)?["metadata"]?["managedFields"]?.arrayValue ?? []
                    #expect(managers.contains { $0["manager"]?.stringValue == "aws-ecr-cred-helper" && $0["operation"]?.stringValue == "Apply" }, "\(managers)")
                }
                if kind == .standIn {
                    let writes = await world.secretWrites()
                    #expect(writes.count == 3)
                    #expect(writes.allSatisfy { $0.contentType == "application/apply-patch+yaml" && $0.status < 300 }, "\(writes)")
                }
                let versions = try await world.secretVersions()

                let second = try await world.run("sync")
                #expect(second.exitCode == 0, "\(second)")
                #expect(second.stdoutLines == ["default\tunchanged", "kube-system\tunchanged", "team-a\tunchanged"], "\(second)")
                #expect(try await world.secretVersions() == versions, "an unchanged sync wrote")
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func missingNamespaceFailsOnlyThatNamespaceWithExitTwo(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default", "no-such-namespace", "team-a"])

                let result = try await world.run("sync")
                #expect(result.exitCode == 2, "\(result)")
                #expect(result.stdoutLines == ["default\twritten", "no-such-namespace\tfailed", "team-a\twritten"], "\(result)")
                let line = try #require(result.stderrLines.first { $0.hasPrefix("no-such-namespace: ") }, "\(result)")
                #expect(line.contains("does not exist"), "\(line)")
                #expect(await world.secret("default") != nil)
                #expect(await world.secret("team-a") != nil)
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func wrongSecretKeyFailsWithOneLineAndTouchesNoSecret(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let good = try await world.run("sync")
                try #require(good.exitCode == 0, "\(good)")
                let before = try await world.managedSecrets()
                if kind == .standIn { await world.server.resetRequests() }

                // The right key id with a secret that is not its own.
                try world.writeAWS("AWS_SECRET_ACCESS_KEY", String(world.moto.allowed.secretAccessKey.reversed()) + "\n")
                let result = try await world.run("sync")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let line = try #require(errorLine(result), "\(result)")
                #expect(line.contains("SignatureDoesNotMatch") || line.lowercased().contains("signature"), "\(line)")
                #expect(line.contains("AWS_SECRET_ACCESS_KEY"), "the line should name the setting to fix: \(line)")
                #expect(!result.output.contains(world.moto.allowed.secretAccessKey))
                #expect(!result.output.contains(String(world.moto.allowed.secretAccessKey.reversed())))
                if kind == .standIn { #expect(await world.secretWrites().isEmpty, "a failed AWS call wrote to the cluster") }
                #expect(try await world.managedSecrets() == before)
            }
        }

        @Test func userWithoutPermissionGetsAccessDeniedLine() async throws {
            try await HelperWorld.with() { world in
                try world.writeOriginalConfig(namespaces: ["default"], keys: world.moto.denied)

                let result = try await world.run("sync")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let line = try #require(errorLine(result), "\(result)")
                #expect(line.contains("AccessDenied") || line.lowercased().contains("denied"), "\(line)")
                #expect(line.contains("ecr:GetAuthorizationToken"), "\(line)")
                #expect(!result.output.contains(world.moto.denied.secretAccessKey))
                #expect(await world.secret("default") == nil)
                #expect(await world.secretWrites().isEmpty)
            }
        }

        @Test func unknownAccessKeyIdGetsClearLine() async throws {
            try await HelperWorld.with() { world in
                let unknown = MotoFixture.Keys(accessKeyId: "AKIAZZZZZZZZUNKNOWN1", secretAccessKey: "c2VjcmV0LXRoYXQtbm9ib2R5LWtub3dzLWFib3V0")
                try world.writeOriginalConfig(namespaces: ["default"], keys: unknown)

                let result = try await world.run("sync")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let line = try #require(errorLine(result), "\(result)")
                #expect(line.contains("InvalidClientTokenId") || line.contains("UnrecognizedClient") || line.lowercased().contains("not recognize"), "\(line)")
                #expect(line.contains("AWS_ACCESS_KEY_ID"), "\(line)")
                #expect(!line.contains(unknown.accessKeyId), "the full key id is shortened: \(line)")
                #expect(!result.output.contains(unknown.secretAccessKey))
                #expect(await world.secretWrites().isEmpty)
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func leavesForeignSecretAloneAndAdoptsTheOriginalHelpersSecret(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "team-a", "team-b"]) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a", "team-b"])
                // Someone else's Opaque secret that happens to have our name.
                try await world.put("secrets", namespace: "team-a", [
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": ["name": .string(world.secretName)],
                    "type": "Opaque",
                    "data": ["token": "aHVudGVyMg=="],
                ])
                // What the original helper (kubectl create secret docker-registry) left behind: no labels.
                let stale = Data(#"{"auths":{"https://123456789012.dkr.ecr.us-east-1.amazonaws.com":{"username":"AWS","password":"old","auth":"QVdTOm9sZA=="}}}"#.utf8)
                try await world.put("secrets", namespace: "team-b", [
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": ["name": .string(world.secretName)],
                    "type": "kubernetes.io/dockerconfigjson",
                    "data": [".dockerconfigjson": .string(stale.base64EncodedString())],
                ])
                let foreign = await world.secret("team-a")

                let result = try await world.run("sync")
                #expect(result.exitCode == 2, "\(result)")
                #expect(result.stdoutLines == ["default\twritten", "team-a\tforeign", "team-b\twritten"], "\(result)")
                let line = try #require(result.stderrLines.first { $0.hasPrefix("team-a: ") }, "\(result)")
                #expect(line.contains("Opaque") && line.contains("not ours"), "\(line)")
                #expect(await world.secret("team-a") == foreign, "a foreign secret was modified")
                let adopted = try #require(await world.secret("team-b"))
                #expect(adopted["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.stringValue == "aws-ecr-cred-helper")
                #expect(try DockerConfig(secret: adopted) == (try await world.dockerConfig("default")))
            }
        }

        @Test func theOriginalSamplesPlaceholdersAreAllReportedAtOnce() async throws {
            try await HelperWorld.with { world in
                // The original README's sample values, decoded, plus a typo in a namespace.
                try world.writeConfig("NAMESPACES", "kube-system Team_A default\n")
                try world.writeConfig("SECRET_NAME", "registry-aws-ecr\n")
                try world.writeAWS("AWS_ACCESS_KEY_ID", "Placeholder...\n")
                try world.writeAWS("AWS_SECRET_ACCESS_KEY", "SecretPlaceholder0123456789\n")
                try world.writeAWS("AWS_DEFAULT_REGION", "Placeholder...\n")

                let result = try await world.run("sync")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let text = result.stderr
                for (setting, file) in [("NAMESPACES", "config/NAMESPACES"), ("AWS_ACCESS_KEY_ID", "config-aws/AWS_ACCESS_KEY_ID"), ("AWS_DEFAULT_REGION", "config-aws/AWS_DEFAULT_REGION")] {
                    #expect(text.lines.contains { $0.contains(setting) && $0.contains(file) }, "\(setting) from \(file) not reported:\n\(text)")
                }
                #expect(text.contains("Team_A"))
                #expect(!result.output.contains("SecretPlaceholder0123456789"), "the secret key was echoed")
                #expect(await world.server.requests().filter { $0.resource == "secrets" }.isEmpty, "an invalid configuration reached the cluster")
            }
        }

        /// The single `Error: ...` line a failed command prints (anything else on stderr is a log line).
        private func errorLine(_ result: CommandResult) -> String? {
            let errors = result.stderrLines.filter { $0.hasPrefix("Error: ") }
            return errors.count == 1 ? errors[0] : nil
        }
    }
}
