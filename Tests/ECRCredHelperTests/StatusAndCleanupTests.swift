import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `status` shows what each target namespace holds; `cleanup` (for uninstall) removes only what is ours.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct StatusAndCleanupTests {
        static let namespaces = ["default", "team-a", "team-b", "team-c"]
        /// The original role, plus what ServiceAccount patching and cleanup need.
        static let rules = PolicyRule.originalHelperRole() + [
            PolicyRule(resources: ["secrets"], verbs: ["delete"], resourceNames: [HelperWorld.secretName]),
            PolicyRule(resources: ["serviceaccounts"], verbs: ["get", "patch"], resourceNames: ["default"]),
        ]

        @Test(arguments: APIServerKind.enabled)
        func statusTableAfterSync(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let sync = try await world.run("sync")
                try #require(sync.exitCode == 0, "\(sync)")

                let status = try await world.run("status")
                #expect(status.exitCode == 0, "\(status)")
                let rows = status.stdout.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
                #expect(rows.first == ["NAMESPACE", "SECRET", "MANAGED-BY", "REGISTRIES", "REFRESHED", "EXPIRES"], "\(status)")
                let host = "\(world.moto.account).dkr.ecr.\(world.moto.region).amazonaws.com"
                for namespace in ["default", "team-a"] {
                    let row = try #require(rows.first { $0.first == namespace }, "\(status)")
                    #expect(Array(row.prefix(4)) == [namespace, "present", "aws-ecr-cred-helper", host], "\(row)")
                }
                #expect(rows.count == 3, "\(status)")
                #expect(!status.output.contains(world.token))

                // Someone else's secret of that name, the original helper's unlabelled one, and none at all.
                try await plantForeignSecrets(world)
                let wider = try await world.run("status", ["--namespaces", "default team-a team-b team-c kube-system"])
                #expect(wider.exitCode != 0, "a namespace without a fresh secret should fail status: \(wider)")
                let table = wider.stdout
                #expect(table.lines.contains { $0.hasPrefix("team-b ") && $0.contains("foreign (Opaque)") }, "\(table)")
                #expect(table.lines.contains { $0.hasPrefix("team-c ") && $0.contains("other (adoptable)") }, "\(table)")
                #expect(table.lines.contains { $0.hasPrefix("kube-system ") && $0.contains("missing") }, "\(table)")
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func cleanupRemovesOnlyOurSecretsAndOurImagePullSecretsEntries(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                for namespace in ["default", "team-a"] {
                    try await world.put("serviceaccounts", namespace: namespace, [
                        "apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": ["name": "default"],
                        "imagePullSecrets": [["name": "user-registry"]],
                    ])
                }
                let sync = try await world.run("sync")
                try #require(sync.exitCode == 0, "\(sync)")
                for namespace in ["default", "team-a"] {
                    #expect(await pullSecretNames(world, namespace) == ["user-registry", world.secretName])
                }
                try await plantForeignSecrets(world)
                let foreignBefore = [
                    await world.secret("team-b")?["data"],
                    await world.secret("team-c")?["data"],
                ]

                // The namespaces this installation selects: its own two, and the two holding someone else's secret.
                try world.writeConfig("NAMESPACES", "default team-a team-b team-c\n")
                let dryRun = try await world.run("cleanup", ["--dry-run"])
                #expect(dryRun.exitCode == 0, "\(dryRun)")
                #expect(dryRun.stdout.lines.contains("default\twould remove"), "\(dryRun)")
                #expect(dryRun.stdout.lines.last == "would remove 2 secrets and 2 ServiceAccount entries in 2 namespaces", "\(dryRun)")
                #expect(await world.secret("default") != nil, "--dry-run removed a secret")

                // No terminal and no --yes: what --dry-run does, and one line saying how to confirm.
                let unconfirmed = try await world.run("cleanup")
                #expect(unconfirmed.exitCode == 0, "\(unconfirmed)")
                #expect(unconfirmed.stdout == dryRun.stdout, "\(unconfirmed)")
                #expect(unconfirmed.stderrLines == ["nothing was removed: no terminal to ask on; run again with --yes to remove them"], "\(unconfirmed)")
                #expect(await world.secret("default") != nil, "cleanup without --yes removed a secret")
                #expect(await world.secret("team-a") != nil, "cleanup without --yes removed a secret")

                let cleanup = try await world.run("cleanup", ["--yes"])
                #expect(cleanup.exitCode == 0, "\(cleanup)")
                let lines = cleanup.stdout.lines
                #expect(lines.contains("default\tremoved") && lines.contains("team-a\tremoved"), "\(cleanup)")
                #expect(lines.contains { $0.hasPrefix("team-b\tkept") } && lines.contains { $0.hasPrefix("team-c\tkept") }, "\(cleanup)")
                #expect(lines.last == "removed 2 secrets and 2 ServiceAccount entries in 2 namespaces", "\(cleanup)")

                #expect(await world.secret("default") == nil)
                #expect(await world.secret("team-a") == nil)
                #expect(await world.secret("team-b")?["type"]?.stringValue == "Opaque")
                #expect(await world.secret("team-c")?["type"]?.stringValue == "kubernetes.io/dockerconfigjson")
                #expect([await world.secret("team-b")?["data"], await world.secret("team-c")?["data"]] == foreignBefore)
                for namespace in ["default", "team-a"] {
                    #expect(await pullSecretNames(world, namespace) == ["user-registry"], "cleanup must keep the user's entry")
                }
            }
        }

        /// Uninstall is often done without the AWS credentials at hand: cleanup needs none.
        @Test(arguments: APIServerKind.enabled)
        func cleanupWithoutAWSConfigurationStillRemovesImagePullSecretsEntries(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                try await world.put("serviceaccounts", namespace: "default", [
                    "apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": ["name": "default"],
                    "imagePullSecrets": [["name": "user-registry"]],
                ])
                let sync = try await world.run("sync")
                try #require(sync.exitCode == 0, "\(sync)")
                for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"] {
                    try FileManager.default.removeItem(atPath: world.awsConfigDirectory + "/" + name)
                }

                let cleanup = try await world.run("cleanup", ["--yes"])
                #expect(cleanup.exitCode == 0, "\(cleanup)")
                #expect(cleanup.stdoutLines == ["default\tremoved", "removed 1 secret and 1 ServiceAccount entry in 1 namespace"], "\(cleanup)")
                #expect(await world.secret("default") == nil)
                #expect(await pullSecretNames(world, "default") == ["user-registry"], "\(cleanup)")
            }
        }

        private func plantForeignSecrets(_ world: HelperWorld) async throws {
            try await world.put("secrets", namespace: "team-b", [
                "apiVersion": "v1", "kind": "Secret",
                "metadata": ["name": .string(world.secretName)],
                "type": "Opaque",
                "data": ["password": "aHVudGVyMg=="],
            ])
            let original = Data(#"{"auths":{"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com":{"auth":"QVdTOm9sZA=="}}}"#.utf8)
            try await world.put("secrets", namespace: "team-c", [
                "apiVersion": "v1", "kind": "Secret",
                "metadata": ["name": .string(world.secretName)],
                "type": "kubernetes.io/dockerconfigjson",
                "data": [".dockerconfigjson": .string(original.base64EncodedString())],
            ])
        }

        private func pullSecretNames(_ world: HelperWorld, _ namespace: String) async -> [String] {
            let account = try? await world.object("serviceaccounts", namespace: namespace, name: "default")
            return account?["imagePullSecrets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
    }
}
