import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// The helper from a workstation, on both servers: its kubeconfig's user runs an exec credential plugin
    /// (as EKS, GKE, AKS and OIDC logins do), KUBECONFIG lists several files, --context and --namespace
    /// choose; and what `sync` prints when some namespaces fail.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct WorkstationTests {
        /// A script plugin that prints an ExecCredential with the world's token, and counts its runs.
        static func plugin(in world: HelperWorld, token: String) throws -> String {
            let path = world.directory + "/get-token"
            try world.write("""
                #!/bin/sh
                echo run >> "\(world.directory)/plugin-runs"
                printf '%s' "$KUBERNETES_EXEC_INFO" > "\(world.directory)/plugin-exec-info"
                printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s"}}' "$PLUGIN_TOKEN"

                """, to: path)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            return path
        }

        /// The world's kubeconfig with its user's token replaced by an exec plugin section.
        static func execKubeconfig(_ world: HelperWorld, plugin: String, token: String) throws -> String {
            let original = try String(contentsOfFile: world.kubeconfig, encoding: .utf8)
            let lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var out: [String] = []
            for line in lines {
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("token:") {
                    let indent = String(line.prefix { $0 == " " })
                    out += [
                        indent + "exec:",
                        indent + "  apiVersion: client.authentication.k8s.io/v1",
                        indent + "  command: \(plugin)",
                        indent + "  interactiveMode: Never",
                        indent + "  provideClusterInfo: true",
                        indent + "  env:",
                        indent + "  - name: PLUGIN_TOKEN",
                        indent + "    value: \"\(token)\"",
                    ]
                } else {
                    out.append(line)
                }
            }
            let path = world.directory + "/kubeconfig-exec"
            try world.write(out.joined(separator: "\n"), to: path)
            return path
        }

        @Test(arguments: APIServerKind.enabled)
        func statusCheckAndCleanupThroughAnExecPlugin(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let sync = try await world.run("sync")
                try #require(sync.exitCode == 0, "\(sync)")
                let plugin = try Self.plugin(in: world, token: world.token)
                let kubeconfig = try Self.execKubeconfig(world, plugin: plugin, token: world.token)
                #expect(!(try String(contentsOfFile: kubeconfig, encoding: .utf8)).contains("token: "), "the kubeconfig holds no token")
                let locations = ["--config-dir", world.configDirectory, "--kubeconfig", kubeconfig]

                let status = try await world.run("status", locations, locations: false)
                #expect(status.exitCode == 0, "\(status)")
                #expect(status.stdoutLines.count == 3 && status.stdout.contains("team-a"), "\(status)")
                let check = try await world.run("check", locations + ["--aws-config-dir", world.awsConfigDirectory], locations: false)
                #expect(check.exitCode == 0, "\(check)")
                let cleanup = try await world.run("cleanup", locations + ["--dry-run"], locations: false)
                #expect(cleanup.exitCode == 0 && cleanup.stdout.contains("default\twould remove"), "\(cleanup)")

                let runs = (try? String(contentsOfFile: world.directory + "/plugin-runs", encoding: .utf8)) ?? ""
                #expect(runs.split(separator: "\n").count == 3, "one plugin run per command (cached within it): \(runs)")
                let info = (try? String(contentsOfFile: world.directory + "/plugin-exec-info", encoding: .utf8)) ?? ""
                #expect(info.contains("\"interactive\":false") && info.contains("\"certificate-authority-data\""), "\(info)")
                for result in [status, check, cleanup] { #expect(!result.output.contains(world.token), "the plugin's token was printed") }

                // A plugin that fails: one line naming it and its exit code.
                try world.write("#!/bin/sh\necho 'error: you must be logged in to the server' >&2\nexit 1\n", to: plugin)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin)
                let failed = try await world.run("status", locations, locations: false)
                #expect(failed.exitCode == 1, "\(failed)")
                #expect(failed.stderrLines == ["Error: exec plugin \(plugin) (kubeconfig user \"kube-test-server-user\") failed with exit code 1 (error: you must be logged in to the server); run it by hand to see why"], "\(failed)")
            }
        }

        /// KUBECONFIG with two files: the first one's current-context points at a closed port; --context picks
        /// the world's context from the second. --namespace is the helper's own namespace (the Lease's).
        @Test(arguments: APIServerKind.enabled)
        func kubeconfigListContextAndNamespace(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                let other = world.directory + "/kubeconfig-other"
                try world.write("""
                    apiVersion: v1
                    kind: Config
                    current-context: elsewhere
                    clusters:
                    - name: elsewhere
                      cluster: {server: "https://127.0.0.1:1"}
                    users:
                    - name: someone
                      user: {token: other-token}
                    contexts:
                    - name: elsewhere
                      context: {cluster: elsewhere, user: someone}

                    """, to: other)
                let environment = ["KUBECONFIG": "\(other):\(world.kubeconfig)"]
                let locations = ["--config-dir", world.configDirectory]

                let elsewhere = try await world.run("status", locations, environment: environment, locations: false)
                #expect(elsewhere.exitCode == 1 && elsewhere.stderr.contains("https://127.0.0.1:1: connection refused"), "the first file's current-context wins: \(elsewhere)")
                let chosen = try await world.run("status", locations + ["--context", "kube-test-server"], environment: environment, locations: false)
                #expect(chosen.exitCode == 2 && chosen.stdoutLines.contains { $0.hasPrefix("default ") && $0.contains("missing") }, "\(chosen)")
                let unknown = try await world.run("status", locations + ["--context", "nope"], environment: environment, locations: false)
                #expect(unknown.stderrLines == ["Error: Kubernetes configuration: context \"nope\" not found in \(other), \(world.kubeconfig); contexts: elsewhere, kube-test-server"], "\(unknown)")

                // --namespace: the namespace check asks about for the Lease when LEADER_ELECTION is on.
                let check = try await world.run(
                    "check", locations + ["--aws-config-dir", world.awsConfigDirectory, "--context", "kube-test-server", "--namespace", "ops-\(uniqueSuffix(4))"],
                    environment: environment.merging(["LEADER_ELECTION": "true", "POD_NAMESPACE": ""]) { $1 }, locations: false
                )
                #expect(check.stdoutLines.contains { $0.contains("leases in ops-") }, "\(check)")
            }
        }

        /// Each failure once, then a summary; with LOG_FORMAT=json every stderr line is a JSON object.
        @Test(arguments: APIServerKind.enabled)
        func syncPrintsEachFailureOnceThenASummary(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "team-a"]) { world in
                let missing = (1...12).map { "missing-\(uniqueSuffix(4))-\($0)" }
                try world.writeOriginalConfig(namespaces: ["default", "team-a"] + missing)
                let text = try await world.run("sync")
                #expect(text.exitCode == 2, "\(text)")
                let lines = text.stderrLines
                for namespace in missing {
                    #expect(lines.filter { $0.contains(namespace) }.count == 1, "\(namespace) is not reported exactly once:\n\(text.stderr)")
                }
                #expect(lines.count == missing.count + 1, "a line per failure and a summary, nothing else:\n\(text.stderr)")
                #expect(lines.last == "12 of 14 namespaces do not hold a fresh secret (2 written, 0 unchanged)", "\(text.stderr)")
                #expect(lines.allSatisfy { $0.count < 400 }, "no line joins several failures")

                let json = try await world.run("sync", environment: ["LOG_FORMAT": "json"])
                #expect(json.exitCode == 2)
                var namespaces: [String] = []
                for line in json.stderrLines {
                    let object = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                    if let namespace = object["namespace"] as? String { namespaces.append(namespace) }
                }
                #expect(namespaces.sorted() == missing.sorted(), "\(json.stderr)")
                #expect(json.stderrLines.count == missing.count + 1, "\(json.stderr)")
            }
        }

        /// The Lease's duration is LEADER_ELECTION_LEASE_DURATION (leaseDurationSeconds on the Lease).
        @Test(arguments: APIServerKind.enabled)
        func leaseDurationIsASetting(_ kind: APIServerKind) async throws {
            let rules = PolicyRule.originalHelperRole() + [
                PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"])
            ]
            try await HelperWorld.with(kind, rules: rules) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                let environment = [
                    "LEADER_ELECTION": "true", "POD_NAMESPACE": "kube-system", "POD_NAME": "replica-a",
                    "LEADER_ELECTION_LEASE_NAME": world.leaseName,
                    "LEADER_ELECTION_LEASE_DURATION": "37s", "LEADER_ELECTION_RENEW_DEADLINE": "20s",
                ]
                try await world.running(environment: environment) { process in
                    try await eventually("replica-a leading", timeout: .seconds(20)) { await world.leaseHolder() == "replica-a" }
                    let lease = try #require(try await world.object("leases", namespace: "kube-system", name: world.leaseName))
                    #expect(lease["spec"]?["leaseDurationSeconds"] == .number(37), "\(lease)")
                    process.terminate()
                    _ = try await process.wait(timeout: .seconds(20))
                }
                let invalid = try await world.run("run", environment: environment.merging(["LEADER_ELECTION_RENEW_DEADLINE": "40s"]) { $1 })
                #expect(invalid.exitCode == 1, "\(invalid)")
                #expect(invalid.stderr.hasPrefix("Error: LEADER_ELECTION_RENEW_DEADLINE (environment LEADER_ELECTION_RENEW_DEADLINE, 40s) must be shorter than LEADER_ELECTION_LEASE_DURATION (environment LEADER_ELECTION_LEASE_DURATION, 37s)"), "\(invalid)")
            }
        }
    }
}
