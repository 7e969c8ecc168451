import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `check`: validates configuration, AWS and RBAC before a rollout, and names the rule to add.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct CheckCommandTests {
        @Test(arguments: APIServerKind.enabled)
        func passesUnderTheOriginalClusterRole(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let result = try await world.run("check")
                #expect(result.exitCode == 0, "\(result)")
                #expect(!result.stdout.contains("FAIL"), "\(result)")
                #expect(result.stdout.contains("GetAuthorizationToken"), "\(result)")
                // check only asks; it writes nothing.
                #expect(try await world.managedSecrets().isEmpty)
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func namesTheMissingCreateRule(_ kind: APIServerKind) async throws {
            let withoutCreate = [
                PolicyRule(resources: ["secrets"], verbs: ["get", "patch", "watch", "list"], resourceNames: [HelperWorld.secretName])
            ]
            try await HelperWorld.with(kind, rules: withoutCreate) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let result = try await world.run("check")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let failing = result.stdout.lines.filter { $0.contains("FAIL") }
                #expect(!failing.isEmpty, "\(result)")
                #expect(failing.allSatisfy { $0.contains("create secrets") }, "only create should fail: \(failing)")
                #expect(failing.contains { $0.contains("in default") } && failing.contains { $0.contains("in team-a") }, "\(failing)")
                // The fix, as a rule to paste into the ClusterRole.
                let advice = try #require(result.stdout.range(of: "add to the ClusterRole"), "\(result)")
                let rule = String(result.stdout[advice.upperBound...])
                #expect(rule.contains("resources: [\"secrets\"]") && rule.contains("\"create\""), "\(rule)")
                #expect(try await world.managedSecrets().isEmpty)
            }
        }

        /// `-o json`: the table's rows and the rules to add as one document (docs/output.md), same exit code.
        @Test(arguments: APIServerKind.enabled)
        func printsJSON(_ kind: APIServerKind) async throws {
            let withoutCreate = [
                PolicyRule(resources: ["secrets"], verbs: ["get", "patch", "watch", "list"], resourceNames: [HelperWorld.secretName])
            ]
            try await HelperWorld.with(kind, rules: withoutCreate) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let result = try await world.run("check", ["-o", "json"])
                #expect(result.exitCode == 1, "\(result)")
                let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
                #expect(document["apiVersion"] as? String == "aws-ecr-cred-helper/v1" && document["kind"] as? String == "Check", "\(result)")
                #expect(document["passed"] as? Bool == false, "\(result)")
                let checks = try #require(document["checks"] as? [[String: String]], "\(result)")
                #expect(checks.first == ["check": "configuration", "result": "ok", "detail": "2 namespace entries, secret \(world.secretName)"], "\(checks)")
                #expect(checks.contains { $0["check"] == "aws GetAuthorizationToken" && $0["result"] == "ok" }, "\(checks)")
                let failing = checks.filter { $0["result"] == "fail" }
                #expect(failing.count == 2 && failing.allSatisfy { $0["check"]?.contains("create secrets") == true && $0["detail"] == "missing RBAC" }, "\(failing)")
                let rules = try #require(document["rulesToAdd"] as? [String], "\(result)")
                #expect(rules.count == 1 && rules[0].contains("resources: [\"secrets\"]") && rules[0].contains("\"create\""), "\(rules)")
                #expect(!result.output.contains(world.token), "no secret in the output")
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func asksForEventAndLeaseRulesWhenThoseFeaturesAreOn(_ kind: APIServerKind) async throws {
            let environment = ["POD_NAME": "helper-0", "POD_NAMESPACE": "kube-system", "LEADER_ELECTION": "true"]
            try await HelperWorld.with(kind) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                let result = try await world.run("check", environment: environment)
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let failing = result.stdout.lines.filter { $0.contains("FAIL") }
                #expect(failing.contains { $0.contains("create events in kube-system") }, "\(result)")
                for verb in ["get", "create", "update"] {
                    #expect(failing.contains { $0.contains("\(verb) leases in kube-system") }, "\(verb): \(result)")
                }
                #expect(result.stdout.contains("coordination.k8s.io") && result.stdout.contains("\"events\""), "\(result)")
            }
            let everything = PolicyRule.originalHelperRole() + [
                PolicyRule(resources: ["events"], verbs: ["create", "patch"]),
                PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"]),
            ]
            try await HelperWorld.with(kind, rules: everything) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                let result = try await world.run("check", environment: environment.merging(["LEADER_ELECTION_LEASE_NAME": world.leaseName]) { $1 })
                #expect(result.exitCode == 0, "\(result)")
            }
        }

        @Test func reportsAWSFailureInTheTable() async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default"], keys: world.moto.denied)
                let result = try await world.run("check")
                #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                let line = try #require(result.stdout.lines.first { $0.contains("GetAuthorizationToken") && $0.contains("FAIL") }, "\(result)")
                #expect(line.contains("denied") || line.contains("AccessDenied"), "\(line)")
                #expect(!result.output.contains(world.moto.denied.secretAccessKey))
            }
        }
    }
}
