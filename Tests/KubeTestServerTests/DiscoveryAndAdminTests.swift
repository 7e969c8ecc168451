import KubeTestServer
import NIOHTTP1
import TestSupport
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("Discovery, other resources, admin surface, CLI")
struct DiscoveryAndAdminTests {
    @Test("discovery documents kubectl reads")
    func discovery() async throws {
        try await withServer { server, client async throws in
            let version = try await client.send(.GET, "/version", token: server.adminToken)
            #expect(version.json?["major"]?.stringValue == "1")
            #expect(version.json?["gitVersion"]?.stringValue?.hasPrefix("v1.") == true)
            let api = try await client.send(.GET, "/api", token: server.adminToken)
            #expect(api.json?["kind"]?.stringValue == "APIVersions")
            #expect(api.json?["versions"] == ["v1"])
            let core = try await client.send(.GET, "/api/v1", token: server.adminToken)
            #expect(core.json?["kind"]?.stringValue == "APIResourceList")
            let resources = core.json?["resources"]?.arrayValue ?? []
            let secrets = try #require(resources.first { $0["name"]?.stringValue == "secrets" })
            #expect(secrets["namespaced"] == true)
            #expect(secrets["kind"]?.stringValue == "Secret")
            #expect(secrets["verbs"]?.arrayValue?.contains("watch") == true)
            #expect(resources.contains { $0["name"]?.stringValue == "namespaces" && $0["namespaced"] == false })
            let groups = try await client.send(.GET, "/apis", token: server.adminToken)
            let names = groups.json?["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(Set(names) == ["coordination.k8s.io", "authorization.k8s.io"])
            let coordination = try await client.send(.GET, "/apis/coordination.k8s.io/v1", token: server.adminToken)
            #expect(coordination.json?["groupVersion"]?.stringValue == "coordination.k8s.io/v1")
            #expect(coordination.json?["resources"]?[0]?["name"]?.stringValue == "leases")
            let authorization = try await client.send(.GET, "/apis/authorization.k8s.io/v1", token: server.adminToken)
            #expect(authorization.json?["resources"]?[0]?["kind"]?.stringValue == "SelfSubjectAccessReview")
            #expect(try await client.send(.GET, "/version", token: nil).status == 401)
            #expect(try await client.send(.GET, "/apis/apps/v1", token: server.adminToken).status == 404)
        }
    }

    @Test("plain HTTP mode, for debugging")
    func plainHTTP() async throws {
        try await withServer(KubeTestServerConfiguration(tls: false)) { server, client async throws in
            #expect(server.url.hasPrefix("http://127.0.0.1:"))
            #expect(server.caPEM.isEmpty)
            #expect(try await client.send(.GET, "/api/v1/namespaces/default", token: server.adminToken).status == 200)
        }
    }

    @Test("a given serving certificate and CA are used instead of generated ones")
    func givenCertificate() async throws {
        let first = try await KubeTestServer.start()
        let configuration = KubeTestServerConfiguration(
            certificatePEM: first.certificatePEM, keyPEM: first.keyPEM, caPEM: first.caPEM)
        try await first.stop()
        try await withServer(configuration) { server, client async throws in
            #expect(server.caPEM == first.caPEM)
            #expect(try await client.send(.GET, "/version", token: server.adminToken).status == 200)
        }
    }

    @Test("SelfSubjectAccessReview evaluates the caller's rules")
    func accessReview() async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "helper", token: helperToken, rules: PolicyRule.originalHelperRole())])
        try await withServer(configuration) { _, client async throws in
            func allowed(_ verb: String, _ name: String?) async throws -> Bool? {
                var attributes: JSONValue = ["namespace": "default", "verb": .string(verb), "resource": "secrets"]
                if let name { attributes["name"] = .string(name) }
                let body: JSONValue = [
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "spec": ["resourceAttributes": attributes],
                ]
                let answer = try await client.send(
                    .POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: helperToken, body: body.jsonString)
                #expect(answer.status == 201)
                return answer.json?["status"]?["allowed"]?.boolValue
            }
            let answers = [
                try await allowed("patch", "registry-aws-ecr"), try await allowed("patch", "other"),
                try await allowed("create", nil), try await allowed("list", nil),
                try await allowed("delete", "registry-aws-ecr"),
            ]
            #expect(answers == [true, false, true, false, false])
        }
    }

    @Test("leases with optimistic concurrency, service accounts, events")
    func otherResources() async throws {
        try await withServer { server, client async throws in
            let leasePath = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/helper"
            let lease: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "helper"],
                "spec": ["holderIdentity": "a", "leaseDurationSeconds": 15],
            ]
            let created = try await client.send(
                .POST, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", token: server.adminToken,
                body: lease.jsonString)
            #expect(created.status == 201)
            var update = try #require(created.json)
            update["spec"]?["holderIdentity"] = "b"
            let updated = try await client.send(.PUT, leasePath, token: server.adminToken, body: update.jsonString)
            #expect(updated.status == 200)
            #expect(updated.json?["spec"]?["holderIdentity"]?.stringValue == "b")
            let stale = try await client.send(.PUT, leasePath, token: server.adminToken, body: update.jsonString)
            #expect(stale.status == 409)
            #expect(stale.reason == "Conflict")

            let account: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]]
            #expect(
                try await client.send(
                    .POST, "/api/v1/namespaces/default/serviceaccounts", token: server.adminToken, body: account.jsonString
                ).status == 201)
            let patched = try await client.send(
                .PATCH, "/api/v1/namespaces/default/serviceaccounts/default", token: server.adminToken,
                body: #"{"imagePullSecrets":[{"name":"registry-aws-ecr"}]}"#,
                contentType: "application/strategic-merge-patch+json")
            #expect(patched.status == 200)
            #expect(patched.json?["imagePullSecrets"]?[0]?["name"]?.stringValue == "registry-aws-ecr")

            let event: JSONValue = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["generateName": "helper."],
                "involvedObject": ["kind": "Secret", "name": "registry-aws-ecr", "namespace": "default"],
                "reason": "Refreshed", "message": "ok", "type": "Normal",
            ]
            let posted = try await client.send(
                .POST, "/api/v1/namespaces/default/events", token: server.adminToken, body: event.jsonString)
            #expect(posted.status == 201)
            #expect(posted.json?["metadata"]?["name"]?.stringValue?.hasPrefix("helper.") == true)
            #expect(await server.objects("events", namespace: "default").count == 1)
        }
    }

    @Test("the admin surface: faults, close-watches, requests, bulk namespaces")
    func adminSurface() async throws {
        try await withServer { server, client async throws in
            let token = server.adminToken
            let rule = #"{"pathContains":"/api/v1/namespaces/default","fault":{"type":"status","status":503,"retryAfterSeconds":1},"times":1}"#
            #expect(try await client.send(.POST, "/_test/faults", token: token, body: rule).status == 201)
            #expect(try await client.send(.GET, "/api/v1/namespaces/default", token: token).status == 503)
            #expect(try await client.send(.GET, "/api/v1/namespaces/default", token: token).status == 200)
            #expect(try await client.send(.POST, "/_test/faults", token: token, body: #"{"fault":{"type":"dropConnection"}}"#).status == 201)
            #expect(try await client.send(.DELETE, "/_test/faults", token: token).status == 200)
            let created = try await client.send(.POST, "/_test/namespaces?count=250&prefix=bench-", token: token)
            #expect(created.status == 201)
            #expect(await server.objects("namespaces", namespace: nil).count == 253)
            let requests = try await client.send(.GET, "/_test/requests", token: token)
            #expect(requests.json?.arrayValue?.count == 2)
            #expect(try await client.send(.DELETE, "/_test/requests", token: token).status == 200)
            #expect(await server.requests().isEmpty)
            #expect(try await client.send(.POST, "/_test/close-watches", token: token).status == 200)
            #expect(try await client.send(.GET, "/_test/requests", token: "wrong").status == 401)
        }
    }

    @Test("the CLI's options build a configuration and write a usable kubeconfig and CA")
    func commandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rulesFile = directory + "/rules.json"
        try Data(#"[{"apiGroups":[""],"resources":["namespaces"],"verbs":["list"]}]"#.utf8)
            .write(to: URL(fileURLWithPath: rulesFile))

        var options = LaunchOptions()
        options.userSpecs = ["helper:helper-token:original-helper", "ops:ops-token:\(rulesFile)"]
        options.namespaces = ["default", "team-a"]
        options.kubeconfigPath = directory + "/kubeconfig.yaml"
        options.kubeconfigToken = "ops-token"
        options.kubeconfigNamespace = "team-a"
        options.caOutPath = directory + "/ca.pem"
        let configuration = try options.configuration()
        #expect(configuration.users.map(\.name) == ["helper", "ops"])
        #expect(configuration.users[0].rules == PolicyRule.originalHelperRole())
        #expect(configuration.namespaces == ["default", "team-a"])
        #expect(throws: LaunchError.self) { try LaunchOptions.parseUser("only-a-name") }

        let server = try await KubeTestServer.start(configuration)
        let lines = try options.announce(server)
        #expect(lines.first == "KUBE_TEST_SERVER_URL=\(server.url)")
        #expect(lines.contains("KUBE_TEST_SERVER_CA=\(directory)/ca.pem"))
        let kubeconfig = try LaunchOptions.readText(directory + "/kubeconfig.yaml")
        #expect(kubeconfig.contains("server: \"\(server.url)\""))
        #expect(kubeconfig.contains("token: \"ops-token\""))
        #expect(kubeconfig.contains("namespace: \"team-a\""))
        let caData = try #require(
            kubeconfig.split(separator: "\n").first { $0.contains("certificate-authority-data:") }?
                .split(separator: " ").last)
        #expect(Data(base64Encoded: String(caData)).map { String(decoding: $0, as: UTF8.self) } == server.caPEM)
        #expect(try LaunchOptions.readText(directory + "/ca.pem") == server.caPEM)

        let client = try TestClient(server)
        let namespaces = try await client.send(.GET, "/api/v1/namespaces", token: "ops-token")
        #expect(namespaces.status == 200)
        #expect(namespaces.json?["items"]?.arrayValue?.count == 2)
        try await client.shutdown()
        try await server.stop()
    }
}
