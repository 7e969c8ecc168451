import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// Fleet mode as an operator uses it, with the built binary: `sync`, `status` (a row per cluster,
    /// `--cluster NAME` its namespaces), `cleanup --cluster NAME` and `run` (/readyz, /metrics with a
    /// `cluster` label) over a folder of kubeconfigs: two stand-ins and (when the run has one) the real
    /// kube-apiserver, from a "workstation" with no Kubernetes configuration of its own.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct FleetCommandTests {
        struct Member {
            let name: String
            let standIn: KubeTestServer?
            let real: RealAPIServer?
            let kubeconfig: String

            func secret(_ namespace: String, _ name: String) async -> JSONValue? {
                if let standIn { return await standIn.object("secrets", namespace: namespace, name: name) }
                return try? await real!.object("secrets", namespace: namespace, name: name)
            }
        }

        /// From a workstation, the cluster of KUBECONFIG joins a fleet as `local` only when asked (issue 24):
        /// `--include-local`, or an explicit `--kubeconfig`.
        @Test(arguments: APIServerKind.enabled)
        func theWorkstationsOwnClusterJoinsOnlyWhenAsked(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                let clusters = world.directory + "/clusters"
                try FileManager.default.createDirectory(atPath: clusters, withIntermediateDirectories: true)
                try world.write(try String(contentsOfFile: world.kubeconfig, encoding: .utf8), to: clusters + "/edge-1.yaml")
                let base = ["--config-dir", world.configDirectory, "--clusters-dir", clusters]
                func members(_ result: CommandResult) -> [String] {
                    result.stdoutLines.dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
                }

                let alone = try await world.run("status", base, environment: ["KUBECONFIG": world.kubeconfig], locations: false)
                #expect(members(alone) == ["edge-1"], "KUBECONFIG alone made its cluster a member: \(alone)")
                let asked = try await world.run("status", base + ["--include-local"], environment: ["KUBECONFIG": world.kubeconfig], locations: false)
                #expect(members(asked).sorted() == ["edge-1", "local"], "\(asked)")
                let explicit = try await world.run("status", base + ["--kubeconfig", world.kubeconfig], locations: false)
                #expect(members(explicit).sorted() == ["edge-1", "local"], "\(explicit)")
                let cleanup = try await world.run("cleanup", base + ["--cluster", "local"], environment: ["KUBECONFIG": world.kubeconfig], locations: false)
                #expect(cleanup.exitCode == 1, "\(cleanup)")
                #expect(cleanup.stderr.contains("no cluster named local in the fleet; its clusters: edge-1 (the own cluster joins from a workstation only with --include-local or --kubeconfig)"), "\(cleanup)")
            }
        }

        @Test func syncStatusCleanupAndRunOverAFleet() async throws {
            try await HelperWorld.with(.standIn) { world in
                let suffix = uniqueSuffix(5)
                let secretName = "fleet-cli-\(suffix)"
                let namespaces = ["flc-\(suffix)-a", "flc-\(suffix)-b"]
                let rules = HelperWorld.renaming(PolicyRule.originalHelperRole() + [
                    PolicyRule(resources: ["secrets"], verbs: ["delete"], resourceNames: [HelperWorld.secretName]),
                ], to: secretName)
                var members: [Member] = []
                for name in ["edge-1", "edge-2"] {
                    let server = try await KubeTestServer.start(KubeTestServerConfiguration(
                        users: [TestUser(name: "system:serviceaccount:kube-system:fleet", token: "fleet-token", rules: rules)],
                        namespaces: ["default"] + namespaces))
                    members.append(Member(name: name, standIn: server, real: nil, kubeconfig: server.kubeconfig(token: "fleet-token")))
                }
                if let real = RealAPIServer.shared {
                    for namespace in namespaces { try await real.createNamespace(namespace) }
                    let identity = try await real.makeIdentity(name: "fleet-cli-\(suffix)", rules: rules)
                    members.append(Member(name: "real", standIn: nil, real: real, kubeconfig: real.kubeconfig(token: identity.token)))
                }
                let all = members
                defer {
                    Task {
                        for member in all { try? await member.standIn?.stop() }
                        for namespace in namespaces { try? await RealAPIServer.shared?.delete("namespaces", namespace: nil, name: namespace) }
                    }
                }
                let clusters = world.directory + "/clusters"
                try FileManager.default.createDirectory(atPath: clusters, withIntermediateDirectories: true)
                for member in members { try world.write(member.kubeconfig, to: clusters + "/" + member.name + ".yaml") }
                try world.writeAWSFiles()
                try world.writeConfig("NAMESPACES", namespaces.joined(separator: " "))
                try world.writeConfig("SECRET_NAME", secretName)
                // No --kubeconfig, no KUBECONFIG, an empty HOME: the fleet alone.
                let base = ["--config-dir", world.configDirectory, "--aws-config-dir", world.awsConfigDirectory, "--clusters-dir", clusters]

                let sync = try await world.run("sync", base, locations: false)
                #expect(sync.exitCode == 0, "\(sync)")
                for member in members {
                    for namespace in namespaces {
                        #expect(sync.stdout.contains("\(member.name)\t\(namespace)\twritten"), "\(sync.stdout)")
                        #expect(await member.secret(namespace, secretName) != nil, "\(member.name)/\(namespace)")
                    }
                }

                let status = try await world.run("status", base, locations: false)
                #expect(status.exitCode == 0, "\(status)")
                let rows = status.stdout.split(separator: "\n").map(String.init)
                #expect(rows.first?.hasPrefix("CLUSTER") == true, "\(status.stdout)")
                for member in members {
                    #expect(rows.contains { $0.hasPrefix(member.name + " ") && $0.contains(" ok ") && $0.contains("2/2") }, "\(status.stdout)")
                }

                let one = try await world.run("status", base + ["--cluster", "edge-1"], locations: false)
                #expect(one.exitCode == 0, "\(one)")
                #expect(one.stdout.hasPrefix("NAMESPACE") && one.stdout.contains(namespaces[0]), "\(one.stdout)")

                // The same as documents (docs/output.md): a list of clusters, each with its namespaces; with
                // --cluster, the single-cluster document naming it.
                let fleetJSON = try await world.run("status", base + ["-o", "json"], locations: false)
                #expect(fleetJSON.exitCode == 0, "\(fleetJSON)")
                let fleetDocument = try #require(try JSONSerialization.jsonObject(with: Data(fleetJSON.stdout.utf8)) as? [String: Any], "\(fleetJSON)")
                #expect(fleetDocument["kind"] as? String == "FleetStatus" && fleetDocument["fresh"] as? Bool == true, "\(fleetJSON)")
                #expect(fleetDocument["secretName"] as? String == secretName && fleetDocument["problems"] as? [String] == [], "\(fleetJSON)")
                let entries = try #require(fleetDocument["clusters"] as? [[String: Any]], "\(fleetJSON)")
                #expect(entries.compactMap { $0["cluster"] as? String } == members.map(\.name).sorted(), "\(fleetJSON)")
                for entry in entries {
                    #expect(entry["state"] as? String == "ok" && entry["reason"] is NSNull && entry["fresh"] as? Int == 2 && entry["targets"] as? Int == 2, "\(entry)")
                    let inCluster = try #require(entry["namespaces"] as? [[String: Any]], "\(entry)")
                    #expect(inCluster.compactMap { $0["namespace"] as? String } == namespaces && inCluster.allSatisfy { $0["fresh"] as? Bool == true }, "\(entry)")
                }
                let oneJSON = try await world.run("status", base + ["--cluster", "edge-1", "-o", "json"], locations: false)
                #expect(oneJSON.exitCode == 0, "\(oneJSON)")
                let oneDocument = try #require(try JSONSerialization.jsonObject(with: Data(oneJSON.stdout.utf8)) as? [String: Any], "\(oneJSON)")
                #expect(oneDocument["kind"] as? String == "Status" && oneDocument["cluster"] as? String == "edge-1", "\(oneJSON)")
                #expect((oneDocument["namespaces"] as? [[String: Any]])?.count == 2, "\(oneJSON)")
                let wide = try await world.run("status", base + ["-o", "wide"], locations: false)
                #expect(wide.stdout.split(separator: "\n").first?.split(separator: " ").map(String.init) == ["CLUSTER", "STATE", "FRESH", "EARLIEST-EXPIRY", "SERVER", "SOURCE", "NOT-FRESH"], "\(wide.stdout)")
                #expect(wide.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(" -") }, "every namespace fresh: \(wide.stdout)")

                let unknown = try await world.run("status", base + ["--cluster", "nope"], locations: false)
                #expect(unknown.exitCode == 1)
                #expect(unknown.stderr.contains("no cluster named nope") && unknown.stderr.contains("edge-1"), "\(unknown.stderr)")

                let cleanup = try await world.run("cleanup", base + ["--cluster", "edge-1", "--yes"], locations: false)
                #expect(cleanup.exitCode == 0, "\(cleanup)")
                #expect(cleanup.stdout.contains("edge-1\t\(namespaces[0])\tremoved"), "\(cleanup.stdout)")
                #expect(await members[0].secret(namespaces[0], secretName) == nil)
                #expect(await members[1].secret(namespaces[0], secretName) != nil, "cleanup --cluster edge-1 touched edge-2")

                let port = try HTTPProbe.freePort()
                try await world.running(base, environment: ["HTTP_PORT": "\(port)"], locations: false) { process in
                    let ready = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200, timeout: .seconds(30))
                    #expect(ready.body.contains("\(members.count) clusters"), "\(ready.body)")
                    #expect(await members[0].secret(namespaces[0], secretName) != nil, "run restored edge-1")
                    let metrics = try #require(await HTTPProbe.get(port: port, "/metrics"))
                    for member in members {
                        #expect(metrics.body.contains("aws_ecr_cred_helper_last_success_timestamp_seconds{cluster=\"\(member.name)\"}"), "\(metrics.body.prefix(3000))")
                    }
                    #expect(metrics.body.contains("aws_ecr_cred_helper_aws_requests_total{outcome=\"success\"} 1"), "one fetch for the fleet: \(metrics.body.prefix(3000))")

                    // A rotated kubeconfig file: that cluster's controller restarts with it, its series with it.
                    try world.write("# rotated\n" + members[1].kubeconfig, to: clusters + "/edge-2.yaml")
                    try await process.waitForLog("cluster source changed; restarting its controller")
                    // A removed one: it leaves the fleet and /metrics.
                    #expect(unlink(clusters + "/edge-1.yaml") == 0)
                    try await process.waitForLog("cluster left the fleet")
                    try await eventually("edge-1's series gone, edge-2's back", timeout: .seconds(20), poll: .milliseconds(100)) {
                        guard let body = await HTTPProbe.get(port: port, "/metrics")?.body else { return false }
                        return !body.contains("last_success_timestamp_seconds{cluster=\"edge-1\"}")
                            && body.contains("last_success_timestamp_seconds{cluster=\"edge-2\"}")
                    }
                    let after = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200, timeout: .seconds(30))
                    #expect(after.body.contains("\(members.count - 1) clusters"), "\(after.body)")
                    #expect(process.isRunning, "\(process.stderr.suffix(2000))")
                }
            }
        }
    }
}
