import KubeTestServer
import NIOHTTP1
import TestSupport
import Testing

@Suite("Lists and selectors")
struct SelectorTests {
    static let cases: [(selector: String, expected: [String])] = [
        ("env%3Dprod", ["p1", "p2"]),
        ("env%3D%3Dprod", ["p1", "p2"]),
        ("env!%3Dprod", ["d1", "none"]),
        ("env%20in%20(dev,prod)", ["d1", "p1", "p2"]),
        ("env%20notin%20(prod)", ["d1", "none"]),
        ("env", ["d1", "p1", "p2"]),
        ("!env", ["none"]),
        ("env%3Dprod,tier%3Dweb", ["p1"]),
    ]

    @Test("label selectors on namespaced lists", arguments: cases)
    func labelSelector(_ selector: String, _ expected: [String]) async throws {
        try await withServer { server, client async throws in
            for (name, labels) in [
                ("p1", ["env": "prod", "tier": "web"]), ("p2", ["env": "prod"]), ("d1", ["env": "dev"]), ("none", [:]),
            ] {
                try await server.put(
                    "secrets", namespace: "default",
                    ["metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) })]])
            }
            let answer = try await client.send(
                .GET, "/api/v1/namespaces/default/secrets?labelSelector=\(selector)", token: server.adminToken)
            #expect(answer.status == 200)
            let names = answer.json?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
            #expect(names == expected)
            #expect(answer.json?["kind"]?.stringValue == "SecretList")
        }
    }

    @Test("field selectors by name and namespace, cluster-wide and namespaced lists")
    func fieldSelectors() async throws {
        try await withServer { server, client async throws in
            await server.createNamespace("team-a")
            for namespace in ["default", "team-a"] {
                for name in ["x", "y"] {
                    try await server.put("secrets", namespace: namespace, ["metadata": ["name": .string(name)]])
                }
            }
            func names(_ path: String) async throws -> [String] {
                let answer = try await client.send(.GET, path, token: server.adminToken)
                return answer.json?["items"]?.arrayValue?.compactMap {
                    guard let ns = $0["metadata"]?["namespace"]?.stringValue, let name = $0["metadata"]?["name"]?.stringValue
                    else { return nil }
                    return "\(ns)/\(name)"
                } ?? []
            }
            #expect(try await names("/api/v1/secrets") == ["default/x", "default/y", "team-a/x", "team-a/y"])
            #expect(try await names("/api/v1/secrets?fieldSelector=metadata.name%3Dy") == ["default/y", "team-a/y"])
            #expect(try await names("/api/v1/secrets?fieldSelector=metadata.namespace%3Dteam-a") == ["team-a/x", "team-a/y"])
            #expect(try await names("/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name!%3Dx") == ["team-a/y"])
            let bad = try await client.send(.GET, "/api/v1/secrets?labelSelector=a%20in%20b", token: server.adminToken)
            #expect(bad.status == 400)
        }
    }

    @Test("deletecollection removes the selected objects and answers them")
    func deleteCollection() async throws {
        try await withServer { server, client async throws in
            for (name, managed) in [("a", true), ("b", true), ("c", false)] {
                var object: JSONValue = ["metadata": ["name": .string(name)]]
                if managed { object["metadata"]?["labels"] = ["managed-by": "helper"] }
                try await server.put("secrets", namespace: "default", object)
            }
            let watch = try await client.watch("/api/v1/namespaces/default/secrets?watch=1", token: server.adminToken)
            try await eventually("the three ADDED events") { watch.events.count == 3 }
            let answer = try await client.send(
                .DELETE, "/api/v1/namespaces/default/secrets?labelSelector=managed-by%3Dhelper", token: server.adminToken)
            #expect(answer.status == 200)
            #expect(answer.json?["items"]?.arrayValue?.count == 2)
            #expect(await server.objects("secrets", namespace: "default").map { $0["metadata"]?["name"] } == ["c"])
            try await eventually("two DELETED events") { watch.names("DELETED").count == 2 }
            #expect(Set(watch.names("DELETED")) == ["a", "b"])
            watch.cancel()
        }
    }

    @Test("with defaultServiceAccounts, every new namespace gets a default ServiceAccount")
    func defaultServiceAccounts() async throws {
        var configuration = KubeTestServerConfiguration(namespaces: ["default"])
        configuration.defaultServiceAccounts = true
        try await withServer(configuration) { server, client async throws in
            #expect(await server.object("serviceaccounts", namespace: "default", name: "default") != nil)
            let created = try await client.send(
                .POST, "/api/v1/namespaces", token: server.adminToken,
                body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fresh"}}"#)
            #expect(created.status == 201)
            #expect(await server.object("serviceaccounts", namespace: "fresh", name: "default") != nil)
            await server.createNamespace("direct")
            #expect(await server.object("serviceaccounts", namespace: "direct", name: "default") != nil)
        }
        try await withServer(KubeTestServerConfiguration(namespaces: ["default"])) { server, _ async throws in
            #expect(await server.object("serviceaccounts", namespace: "default", name: "default") == nil)
        }
    }

    @Test("namespace labels, and deleting a namespace removes what is in it")
    func namespaces() async throws {
        try await withServer { server, client async throws in
            let created = try await client.send(
                .POST, "/api/v1/namespaces", token: server.adminToken,
                body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-b","labels":{"ecr":"yes"}}}"#)
            #expect(created.status == 201)
            #expect(created.json?["metadata"]?["labels"]?["kubernetes.io/metadata.name"]?.stringValue == "team-b")
            try await server.put("secrets", namespace: "team-b", ["metadata": ["name": "s"]])
            let selected = try await client.send(.GET, "/api/v1/namespaces?labelSelector=ecr%3Dyes", token: server.adminToken)
            #expect(selected.json?["items"]?.arrayValue?.count == 1)
            let deleted = try await client.send(.DELETE, "/api/v1/namespaces/team-b", token: server.adminToken)
            #expect(deleted.status == 200)
            #expect(await server.object("namespaces", namespace: nil, name: "team-b") == nil)
            #expect(await server.objects("secrets", namespace: "team-b").isEmpty)
            let again = try await client.send(.DELETE, "/api/v1/namespaces/team-b", token: server.adminToken)
            #expect(again.status == 404)
        }
    }
}
