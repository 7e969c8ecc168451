import Foundation
import KubeTestServer
import TestSupport
import Testing
import Yams

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

        /// `-o json` and `-o yaml`: the table's facts as one document of the documented schema
        /// (docs/output.md), with the table's exit codes; `-o wide`: the table and two more columns.
        @Test(arguments: APIServerKind.enabled)
        func statusAsJSONYAMLAndWide(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let sync = try await world.run("sync")
                try #require(sync.exitCode == 0, "\(sync)")
                let host = "\(world.moto.account).dkr.ecr.\(world.moto.region).amazonaws.com"

                let fresh = try await world.run("status", ["-o", "json"])
                #expect(fresh.exitCode == 0, "\(fresh)")
                let document = try #require(try JSONSerialization.jsonObject(with: Data(fresh.stdout.utf8)) as? [String: Any], "\(fresh)")
                #expect(document["apiVersion"] as? String == "aws-ecr-cred-helper/v1" && document["kind"] as? String == "Status", "\(fresh)")
                #expect(document["secretName"] as? String == world.secretName && document["fresh"] as? Bool == true, "\(fresh)")
                let entries = try #require(document["namespaces"] as? [[String: Any]], "\(fresh)")
                #expect(entries.map { $0["namespace"] as? String } == ["default", "team-a"], "\(fresh)")
                for entry in entries {
                    #expect(entry["state"] as? String == "present" && entry["fresh"] as? Bool == true, "\(entry)")
                    #expect(entry["managedBy"] as? String == "aws-ecr-cred-helper" && entry["registries"] as? [String] == [host], "\(entry)")
                    #expect(entry["installation"] as? String == document["instance"] as? String, "\(entry)")
                    #expect(entry["refreshedAt"] is String && entry.keys.contains("expiresAt"), "\(entry)")
                }
                #expect(!fresh.output.contains(world.token))

                // The same facts in YAML, and the exit code of the table when some namespace is not fresh.
                try await plantForeignSecrets(world)
                let targets = ["--namespaces", "default team-a team-b team-c kube-system"]
                let table = try await world.run("status", targets)
                let json = try await world.run("status", targets + ["--output=json"])
                let yaml = try await world.run("status", targets + ["-oyaml"])
                #expect(table.exitCode == 2 && json.exitCode == 2 && yaml.exitCode == 2, "\(table)\n\(json)\n\(yaml)")
                let fromJSON = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json)")
                let fromYAML = try #require(try Yams.load(yaml: yaml.stdout) as? [String: Any], "\(yaml)")
                #expect(fromJSON["fresh"] as? Bool == false && fromYAML["fresh"] as? Bool == false)
                for read in [fromJSON, fromYAML] {
                    let byName = Dictionary(uniqueKeysWithValues: try #require(read["namespaces"] as? [[String: Any]]).map { ($0["namespace"] as? String ?? "", $0) })
                    #expect(byName.keys.sorted() == ["default", "kube-system", "team-a", "team-b", "team-c"], "\(read)")
                    #expect(byName["team-b"]?["managedBy"] as? String == "foreign (Opaque)" && byName["team-b"]?["fresh"] as? Bool == false)
                    #expect(byName["team-c"]?["managedBy"] as? String == "other (adoptable)" && byName["team-c"]?["installation"] is NSNull)
                    #expect(byName["kube-system"]?["state"] as? String == "missing" && byName["kube-system"]?["registries"] as? [String] == [])
                    #expect(byName["kube-system"]?["expiresAt"] is NSNull && byName["kube-system"]?["managedBy"] is NSNull)
                }
                #expect(!json.output.contains("aHVudGVyMg==") && !yaml.output.contains("aHVudGVyMg=="), "a secret's data is never shown")

                // Wide: the table's columns unchanged, then INSTALLATION and FRESH.
                let wide = try await world.run("status", targets + ["-o", "wide"])
                #expect(wide.exitCode == 2, "\(wide)")
                let rows = wide.stdout.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
                #expect(rows.first == ["NAMESPACE", "SECRET", "MANAGED-BY", "REGISTRIES", "REFRESHED", "EXPIRES", "INSTALLATION", "FRESH"], "\(wide)")
                #expect(rows.first { $0.first == "default" }?.suffix(2) == [fromJSON["instance"] as? String ?? "?", "yes"], "\(wide)")
                #expect(rows.first { $0.first == "kube-system" }?.suffix(2) == ["-", "no"], "\(wide)")
                #expect(table.stdout.lines.first?.split(separator: " ", omittingEmptySubsequences: true).count == 6, "the default table keeps its columns: \(table)")

                // A format status does not print: the usage error, exit 64.
                let unknown = try await world.run("status", ["-o", "xml"])
                #expect(unknown.exitCode == 64, "\(unknown)")
                #expect(unknown.stderr.contains("--output is one of wide, json, yaml, not 'xml'"), "\(unknown)")
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
