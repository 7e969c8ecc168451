import KubeTestServer
import NIOHTTP1
import Testing

@Suite("RBAC rules")
struct RBACTests {
    @Test("rule matching: wildcards, resource names, namespaces")
    func matching() {
        let named = PolicyRule(resources: ["secrets"], verbs: ["get"], resourceNames: ["a"])
        #expect(named.allows(verb: "get", group: "", resource: "secrets", name: "a"))
        #expect(!named.allows(verb: "get", group: "", resource: "secrets", name: "b"))
        #expect(!named.allows(verb: "get", group: "", resource: "secrets", name: nil))
        #expect(!named.allows(verb: "list", group: "", resource: "secrets", name: "a"))
        #expect(!named.allows(verb: "get", group: "apps", resource: "secrets", name: "a"))
        #expect(PolicyRule.everything.allows(verb: "delete", group: "coordination.k8s.io", resource: "leases", name: nil))
        let leases = PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["*"])
        #expect(leases.allows(verb: "update", group: "coordination.k8s.io", resource: "leases", name: "x"))
        #expect(!leases.allows(verb: "update", group: "", resource: "leases", name: "x"))
        let scoped = PolicyRule(resources: ["secrets"], verbs: ["*"], namespaces: ["team-a"])
        #expect(scoped.allows(verb: "list", group: "", resource: "secrets", name: nil, namespace: "team-a"))
        #expect(!scoped.allows(verb: "list", group: "", resource: "secrets", name: nil, namespace: "team-b"))
        #expect(!scoped.allows(verb: "list", group: "", resource: "secrets", name: nil, namespace: nil))
    }

    @Test("a rule limited to namespaces works like a RoleBinding there, and not at the cluster scope")
    func namespacedRules() async throws {
        let rules = [PolicyRule(resources: ["secrets"], verbs: ["*"], namespaces: ["team-a"])]
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "scoped", token: "scoped", rules: rules)], namespaces: ["default", "team-a"])
        try await withServer(configuration) { _, client async throws in
            let inside = try await client.send(
                .PATCH, "/api/v1/namespaces/team-a/secrets/s?fieldManager=t", token: "scoped", body: secretJSON("s"),
                contentType: applyContentType)
            #expect(inside.status == 201)
            let outside = try await client.send(
                .PATCH, "/api/v1/namespaces/default/secrets/s?fieldManager=t", token: "scoped", body: secretJSON("s"),
                contentType: applyContentType)
            #expect(outside.status == 403)
            #expect(outside.message?.contains("in the namespace \"default\"") == true)
            let clusterWide = try await client.send(.GET, "/api/v1/secrets", token: "scoped")
            #expect(clusterWide.status == 403)
            #expect(clusterWide.message?.contains("at the cluster scope") == true)
            #expect(try await client.send(.GET, "/api/v1/namespaces/team-a/secrets", token: "scoped").status == 200)
        }
    }

    @Test("PolicyRule JSON round trip (the CLI's rules files)")
    func coding() throws {
        let text = #"[{"resources":["secrets"],"verbs":["get"],"resourceNames":["x"]},{"apiGroups":["*"],"resources":["*"],"verbs":["*"],"namespaces":["a"]}]"#
        let rules = try JSONValue(parsing: text).decode([PolicyRule].self)
        #expect(rules[0] == PolicyRule(resources: ["secrets"], verbs: ["get"], resourceNames: ["x"]))
        #expect(rules[1].namespaces == ["a"])
        #expect(try JSONValue(encoding: rules).decode([PolicyRule].self) == rules)
    }
}
