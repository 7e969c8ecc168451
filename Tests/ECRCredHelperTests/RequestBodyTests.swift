import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// Issue 12: the first build's bodies escaped every `/` as `\/`; the real server parses apply bodies with
    /// go-yaml, which rejects that escape, so every write failed on real clusters. JSON bodies would pass
    /// there, but one encoder writes them all, so none may hold it. The facts suite shows the real server
    /// refusing the escape (APIFactsTests, "apply bodies are YAML"); RealServerRequestTests applies
    /// slash-heavy secrets on the real server; this test reads every body the running helper sends, in each
    /// content type it uses, from the stand-in's request log.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct RequestBodyTests {
        @Test func noBodyOfAnyContentTypeEscapesASlash() async throws {
            let rules = PolicyRule.originalHelperRole() + [
                PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"]),
                PolicyRule(resources: ["serviceaccounts"], verbs: ["get", "patch"], resourceNames: ["default"]),
                PolicyRule(resources: ["events"], verbs: ["create", "patch"]),
                PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"]),
            ]
            try await HelperWorld.with(.standIn, namespaces: ["default", "kube-system", "team-a"], rules: rules) { world in
                for namespace in ["default", "team-a"] {
                    try await world.put("serviceaccounts", namespace: namespace, [
                        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"],
                    ])
                }
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                let environment = [
                    "LEADER_ELECTION": "true", "POD_NAME": "helper-0", "POD_NAMESPACE": "kube-system",
                    "LEADER_ELECTION_LEASE_NAME": world.leaseName,
                ]
                try await world.running(environment: environment) { process in
                    try await world.waitForSecrets(["default", "team-a"], process: process)
                    try await eventually("both default ServiceAccounts list the pull secret", timeout: .seconds(20)) {
                        for namespace in ["default", "team-a"] {
                            let account = try? await world.object("serviceaccounts", namespace: namespace, name: "default")
                            let names = account?["imagePullSecrets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                            if !names.contains(world.secretName) { return false }
                        }
                        return true
                    }
                    let writes = await world.server.requests().filter {
                        $0.user == world.helperUser && ["POST", "PUT", "PATCH"].contains($0.method)
                    }
                    let contentTypes = Set(writes.compactMap(\.contentType))
                    // Apply (secrets), JSON (the Lease), merge patch (ServiceAccounts): each one seen.
                    #expect(
                        contentTypes.isSuperset(of: ["application/apply-patch+yaml", "application/json", "application/merge-patch+json"]),
                        "\(contentTypes)")
                    let escaping = writes.filter(\.bodyEscapesSlash)
                    #expect(escaping.isEmpty, "bodies holding \\/: \(escaping)")
                    #expect(writes.allSatisfy { $0.status < 300 }, "\(writes.filter { $0.status >= 300 })")
                }
            }
        }
    }
}
