import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// Issue 24: installations own their secrets. Two installations with the same secret name on one
    /// cluster (INSTANCE first and second) never write, prune or clean up each other's secrets; secrets of
    /// earlier versions (no installation label) are adopted by the installation serving their namespace.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct InstallationOwnershipTests {
        static let namespaces = ["default", "team-a", "team-b", "team-c"]
        static let rules = PolicyRule.originalHelperRole() + [
            PolicyRule(resources: ["secrets"], verbs: ["delete"], resourceNames: [HelperWorld.secretName]),
            PolicyRule(resources: ["serviceaccounts"], verbs: ["get", "patch"], resourceNames: ["default"]),
        ]
        static let label = "aws-ecr-cred-helper/instance"

        static func installation(_ name: String, _ namespaces: String) -> [String] {
            ["--instance", name, "--namespaces", namespaces]
        }

        /// first serves default, team-a and team-b; second serves team-b (overlap) and team-c.
        @Test(arguments: APIServerKind.enabled)
        func twoInstallationsEachCleanedUpAlone(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                for namespace in Self.namespaces { try await putServiceAccount(world, namespace) }
                let first = Self.installation("first", "default team-a team-b")
                let second = Self.installation("second", "team-b team-c")

                let syncFirst = try await world.run("sync", first)
                try #require(syncFirst.exitCode == 0, "\(syncFirst)")
                let syncSecond = try await world.run("sync", second)
                #expect(syncSecond.exitCode == 2, "team-b is first's: second does not hold it: \(syncSecond)")
                #expect(syncSecond.stdout.lines.contains("team-b\tforeign") && syncSecond.stdout.lines.contains("team-c\twritten"), "\(syncSecond)")
                #expect(syncSecond.stderr.contains("team-b: the secret belongs to another installation of the helper (aws-ecr-cred-helper/instance=first)"), "\(syncSecond)")
                for namespace in ["default", "team-a", "team-b"] {
                    #expect(await instance(world, namespace) == "first", "\(namespace)")
                }
                #expect(await instance(world, "team-c") == "second")
                #expect(await pullSecretNames(world, "team-b") == ["user-registry", world.secretName])
                let firstVersions = try await world.secretVersions().filter { $0.key != "team-c" }
                let status = try await world.run("status", second)
                #expect(status.exitCode == 2, "team-b is not second's to keep fresh: \(status)")
                #expect(status.stdout.lines.contains { $0.hasPrefix("team-b ") && $0.contains(" installation first ") }, "\(status)")
                #expect(status.stdout.lines.contains { $0.hasPrefix("team-c ") && $0.contains(" aws-ecr-cred-helper ") }, "\(status)")

                // An identity that owns nothing here (a workstation without the pod's INSTANCE): the line says whose they are.
                let stranger = try await world.run("cleanup", Self.installation("third", "team-b") + ["--yes"])
                #expect(stranger.exitCode == 0, "\(stranger)")
                #expect(stranger.stdoutLines == [
                    "team-b\tkept (installation first)",
                    "removed 0 secrets and 0 ServiceAccount entries in 0 namespaces; left 4 secrets of other installations",
                ], "\(stranger)")
                #expect(stranger.stderrLines == [
                    "no secret of installation third was found; the helper's secrets here belong to installations first (3), second (1): give --instance to clean up one of them",
                ], "\(stranger)")

                let cleanupSecond = try await world.run("cleanup", second + ["--yes"])
                #expect(cleanupSecond.exitCode == 0, "\(cleanupSecond)")
                #expect(cleanupSecond.stdoutLines == [
                    "team-b\tkept (installation first)",
                    "team-c\tremoved",
                    "removed 1 secret and 1 ServiceAccount entry in 1 namespace; left 3 secrets of other installations",
                ], "\(cleanupSecond)")
                #expect(await world.secret("team-c") == nil)
                #expect(await pullSecretNames(world, "team-c") == ["user-registry"])
                #expect(try await world.secretVersions() == firstVersions, "second's cleanup touched first's secrets")
                #expect(await pullSecretNames(world, "team-b") == ["user-registry", world.secretName], "second's cleanup took first's entry")

                let cleanupFirst = try await world.run("cleanup", first + ["--yes"])
                #expect(cleanupFirst.exitCode == 0, "\(cleanupFirst)")
                #expect(cleanupFirst.stdoutLines == [
                    "default\tremoved", "team-a\tremoved", "team-b\tremoved",
                    "removed 3 secrets and 3 ServiceAccount entries in 3 namespaces",
                ], "\(cleanupFirst)")
                #expect(try await world.managedSecrets().isEmpty)
                for namespace in Self.namespaces {
                    #expect(await pullSecretNames(world, namespace) == ["user-registry"], "\(namespace)")
                }
            }
        }

        /// Secrets of an earlier version (managed-by, no installation label): another installation's cleanup
        /// leaves them; the installation serving their namespace adopts them on its next write. Then
        /// `--all-namespaces` widens the namespaces of first's own secrets, never to an unlabelled one.
        @Test(arguments: APIServerKind.enabled)
        func upgradeAdoptionAndAllNamespaces(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                for namespace in ["team-a", "team-c"] { try await putEarlierVersionSecret(world, namespace) }

                let other = try await world.run("cleanup", Self.installation("second", "team-b") + ["--yes"])
                #expect(other.exitCode == 0, "\(other)")
                #expect(other.stdoutLines == ["removed 0 secrets and 0 ServiceAccount entries in 0 namespaces; left 2 secrets of other installations"], "\(other)")
                #expect(await world.secret("team-a") != nil)
                #expect(await world.secret("team-c") != nil)

                let sync = try await world.run("sync", Self.installation("first", "default team-a team-b"))
                try #require(sync.exitCode == 0, "\(sync)")
                #expect(sync.stdout.lines.contains("team-a\twritten"), "the earlier version's secret is adopted: \(sync)")
                #expect(await instance(world, "team-a") == "first")
                #expect(await instance(world, "team-c") == nil, "team-c is not first's namespace: its secret stays as it was")

                // first's settings now select default only: team-a and team-b are first's, outside them.
                let narrow = try await world.run("cleanup", Self.installation("first", "default") + ["--yes"])
                #expect(narrow.exitCode == 0, "\(narrow)")
                #expect(narrow.stdoutLines == [
                    "default\tremoved",
                    "removed 1 secret and 0 ServiceAccount entries in 1 namespace; left 1 secret of other installations; left 2 secrets of this installation outside the selected namespaces (--all-namespaces removes them)",
                ], "\(narrow)")

                let wide = try await world.run("cleanup", Self.installation("first", "default") + ["--all-namespaces", "--yes"])
                #expect(wide.exitCode == 0, "\(wide)")
                #expect(wide.stdoutLines == [
                    "team-a\tremoved", "team-b\tremoved",
                    "removed 2 secrets and 0 ServiceAccount entries in 2 namespaces; left 1 secret of other installations",
                ], "\(wide)")
                #expect(await world.secret("team-c") != nil, "--all-namespaces widened the ownership")
                #expect(await instance(world, "team-c") == nil)

                // Without NAMESPACES at all (a workstation with only the cluster at hand): --all-namespaces
                // still finds this installation's labelled secrets; without it, NAMESPACES is asked for.
                let again = try await world.run("sync", Self.installation("first", "team-b"))
                try #require(again.exitCode == 0, "\(again)")
                try FileManager.default.removeItem(atPath: world.configDirectory + "/NAMESPACES")
                let unscoped = try await world.run("cleanup", ["--instance", "first", "--yes"])
                #expect(unscoped.exitCode == 1 && unscoped.stderr.contains("NAMESPACES is empty or missing"), "\(unscoped)")
                let everywhere = try await world.run("cleanup", ["--instance", "first", "--all-namespaces", "--yes"])
                #expect(everywhere.stdoutLines == [
                    "team-b\tremoved",
                    "removed 1 secret and 0 ServiceAccount entries in 1 namespace; left 1 secret of other installations",
                ], "\(everywhere)")
            }
        }

        /// ServiceAccount entries an earlier version added (no claim annotation): the installation serving the
        /// namespace claims them on its next pass and its cleanup removes them; another's cleanup leaves them.
        @Test(arguments: APIServerKind.enabled)
        func serviceAccountEntriesOfEarlierVersions(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: Self.namespaces, rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                for namespace in ["team-a", "team-c"] {
                    try await putEarlierVersionSecret(world, namespace)
                    try await world.put("serviceaccounts", namespace: namespace, [
                        "apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": ["name": "default"],
                        "imagePullSecrets": [["name": "user-registry"], ["name": .string(world.secretName)]],
                    ])
                }

                let other = try await world.run("cleanup", Self.installation("second", "team-b") + ["--yes"])
                #expect(other.stdoutLines == ["removed 0 secrets and 0 ServiceAccount entries in 0 namespaces; left 2 secrets of other installations"], "\(other)")
                let sync = try await world.run("sync", Self.installation("first", "team-a"))
                try #require(sync.exitCode == 0, "\(sync)")
                #expect(await claims(world, "team-a") == "first=\(world.secretName)", "the serving installation claims the entry")
                #expect(await claims(world, "team-c") == nil)

                let cleanup = try await world.run("cleanup", Self.installation("first", "team-a") + ["--yes"])
                #expect(cleanup.stdoutLines == [
                    "team-a\tremoved",
                    "removed 1 secret and 1 ServiceAccount entry in 1 namespace; left 1 secret of other installations",
                ], "\(cleanup)")
                #expect(await pullSecretNames(world, "team-a") == ["user-registry"])
                #expect(await claims(world, "team-a") == nil, "no claim left: the annotation is gone")
                #expect(await pullSecretNames(world, "team-c") == ["user-registry", world.secretName], "team-c is not first's")
            }
        }

        private func claims(_ world: HelperWorld, _ namespace: String) async -> String? {
            let account = try? await world.object("serviceaccounts", namespace: namespace, name: "default")
            return account?["metadata"]?["annotations"]?["aws-ecr-cred-helper/instances"]?.stringValue
        }

        private func instance(_ world: HelperWorld, _ namespace: String) async -> String? {
            await world.secret(namespace)?["metadata"]?["labels"]?[Self.label]?.stringValue
        }

        private func putServiceAccount(_ world: HelperWorld, _ namespace: String) async throws {
            try await world.put("serviceaccounts", namespace: namespace, [
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": ["name": "default"],
                "imagePullSecrets": [["name": "user-registry"]],
            ])
        }

        /// What versions before installations wrote: our labels without `aws-ecr-cred-helper/instance`.
        private func putEarlierVersionSecret(_ world: HelperWorld, _ namespace: String) async throws {
            let config = Data(#"{"auths":{"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com":{"auth":"QVdTOm9sZA=="}}}"#.utf8)
            try await world.put("secrets", namespace: namespace, [
                "apiVersion": "v1", "kind": "Secret",
                "metadata": [
                    "name": .string(world.secretName),
                    "labels": [
                        "app.kubernetes.io/name": "aws-ecr-cred-helper",
                        "app.kubernetes.io/component": "registry-credentials",
                        "app.kubernetes.io/managed-by": "aws-ecr-cred-helper",
                    ],
                ],
                "type": "kubernetes.io/dockerconfigjson",
                "data": [".dockerconfigjson": .string(config.base64EncodedString())],
            ])
        }

        private func pullSecretNames(_ world: HelperWorld, _ namespace: String) async -> [String] {
            let account = try? await world.object("serviceaccounts", namespace: namespace, name: "default")
            return account?["imagePullSecrets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
    }
}
