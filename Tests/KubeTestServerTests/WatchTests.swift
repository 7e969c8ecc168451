import KubeTestServer
import NIOHTTP1
import TestSupport
import Testing

@Suite("Watches")
struct WatchTests {
    @Test("without resourceVersion: ADDED for what exists, then changes, filtered by the field selector")
    func addedThenChanges() async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "helper", token: helperToken, rules: PolicyRule.originalHelperRole())])
        try await withServer(configuration) { server, client async throws in
            await server.createNamespace("team-a")
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "registry-aws-ecr"]])
            try await server.put("secrets", namespace: "team-a", ["metadata": ["name": "registry-aws-ecr"]])
            try await server.put("secrets", namespace: "team-a", ["metadata": ["name": "unrelated"]])
            let watch = try await client.watch(
                "/api/v1/secrets?watch=1&fieldSelector=metadata.name%3Dregistry-aws-ecr", token: helperToken)
            #expect(watch.status == 200)
            try await eventually("two ADDED events") { watch.events.count == 2 }
            #expect(watch.types == ["ADDED", "ADDED"])
            #expect(Set(watch.events.compactMap { $0["object"]?["metadata"]?["namespace"]?.stringValue }) == ["default", "team-a"])

            try await server.put("secrets", namespace: "team-a", ["metadata": ["name": "unrelated"], "data": ["x": "eA=="]])
            try await server.put(
                "secrets", namespace: "default", ["metadata": ["name": "registry-aws-ecr"], "data": ["x": "eA=="]])
            await server.delete("secrets", namespace: "team-a", name: "registry-aws-ecr")
            try await eventually("MODIFIED and DELETED") { watch.events.count == 4 }
            #expect(watch.types == ["ADDED", "ADDED", "MODIFIED", "DELETED"])
            #expect(watch.events[2]["object"]?["data"]?["x"]?.stringValue == "eA==")
            #expect(watch.events[2]["object"]?["kind"]?.stringValue == "Secret")
            #expect(await server.openWatchCount == 1)
            watch.cancel()
            try await eventually("the server notices the client left") { await server.openWatchCount == 0 }
        }
    }

    @Test("resume from a resourceVersion replays only later events")
    func resume() async throws {
        try await withServer { server, client async throws in
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "a"]])
            let list = try await client.send(.GET, "/api/v1/namespaces/default/secrets", token: server.adminToken)
            let version = try #require(list.json?["metadata"]?["resourceVersion"]?.stringValue)
            #expect(list.json?["items"]?[0]?["kind"] == nil, "list items carry no kind, as on a real server")
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "b"]])
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "a"], "data": ["k": "dg=="]])
            let watch = try await client.watch(
                "/api/v1/namespaces/default/secrets?watch=true&resourceVersion=\(version)", token: server.adminToken)
            try await eventually("the two later events") { watch.events.count == 2 }
            #expect(watch.types == ["ADDED", "MODIFIED"])
            #expect(watch.names("ADDED") == ["b"])
            let versions = watch.events.compactMap { $0["object"]?["metadata"]?["resourceVersion"]?.stringValue }.compactMap { Int($0) }
            #expect(versions.allSatisfy { $0 > Int(version)! })
            watch.cancel()
        }
    }

    @Test("a resourceVersion older than the history gets one ERROR event with 410 Expired")
    func tooOld() async throws {
        try await withServer(KubeTestServerConfiguration(watchHistoryLimit: 3)) { server, client async throws in
            let start = await server.resourceVersion
            for index in 0..<10 {
                try await server.put("secrets", namespace: "default", ["metadata": ["name": .string("s\(index)")]])
            }
            let watch = try await client.watch(
                "/api/v1/namespaces/default/secrets?watch=1&resourceVersion=\(start)", token: server.adminToken)
            #expect(watch.status == 200)
            try await eventually("the stream ends") { watch.finished }
            #expect(watch.types == ["ERROR"])
            let status = try #require(watch.events.first?["object"])
            #expect(status["code"]?.intValue == 410)
            #expect(status["reason"]?.stringValue == "Expired")
            #expect(status["message"]?.stringValue?.contains("too old resource version") == true)
        }
    }

    @Test("bookmarks arrive at the configured interval, carrying only a resourceVersion")
    func bookmarks() async throws {
        try await withServer(KubeTestServerConfiguration(bookmarkInterval: .milliseconds(50))) { server, client async throws in
            let watch = try await client.watch(
                "/api/v1/namespaces/default/secrets?watch=1&allowWatchBookmarks=true", token: server.adminToken)
            try await eventually("a bookmark") { watch.types.contains("BOOKMARK") }
            let bookmark = try #require(watch.events.first { $0["type"]?.stringValue == "BOOKMARK" }?["object"])
            #expect(bookmark["kind"]?.stringValue == "Secret")
            #expect(bookmark["apiVersion"]?.stringValue == "v1")
            #expect(bookmark["metadata"]?["resourceVersion"]?.stringValue == (await server.resourceVersion))
            #expect(bookmark["metadata"]?["name"] == nil)
            watch.cancel()

            let plain = try await client.watch("/api/v1/namespaces/default/secrets?watch=1", token: server.adminToken)
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "after"]])
            try await eventually("the ADDED event") { plain.events.count == 1 }
            #expect(plain.types == ["ADDED"], "no bookmarks unless asked for")
            plain.cancel()
        }
    }

    @Test("timeoutSeconds ends the stream")
    func timeout() async throws {
        try await withServer { server, client async throws in
            let watch = try await client.watch(
                "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1", token: server.adminToken)
            try await eventually("the stream ends", timeout: .seconds(10)) { watch.finished }
            try await eventually("the watch is gone") { await server.openWatchCount == 0 }
        }
    }

    @Test("label selectors filter watch events")
    func labelSelectedWatch() async throws {
        try await withServer { server, client async throws in
            let watch = try await client.watch(
                "/api/v1/namespaces?watch=1&labelSelector=team%20in%20(a,b),!skip", token: server.adminToken)
            await server.createNamespace("one", labels: ["team": "a"])
            await server.createNamespace("two", labels: ["team": "c"])
            await server.createNamespace("three", labels: ["team": "b", "skip": "yes"])
            await server.createNamespace("four", labels: ["team": "b"])
            try await eventually("two matching namespaces") { watch.events.count == 2 }
            #expect(watch.names("ADDED") == ["one", "four"])
            watch.cancel()
        }
    }

    @Test("an update that moves an object into or out of the selection is ADDED or DELETED for a filtered watch")
    func selectionTransitions() async throws {
        try await withServer { server, client async throws in
            await server.createNamespace("team-a")
            let watch = try await client.watch("/api/v1/namespaces?watch=1&labelSelector=ecr%3Don", token: server.adminToken)
            #expect(await server.openWatchCount == 1)
            try await server.put("namespaces", namespace: nil, ["metadata": ["name": "team-a", "labels": ["ecr": "on"]]])
            try await server.put(
                "namespaces", namespace: nil, ["metadata": ["name": "team-a", "labels": ["ecr": "on", "x": "y"]]])
            try await server.put("namespaces", namespace: nil, ["metadata": ["name": "team-a", "labels": ["ecr": "off"]]])
            try await eventually("three events") { watch.events.count == 3 }
            #expect(watch.types == ["ADDED", "MODIFIED", "DELETED"])
            let deleted = try #require(watch.events.last?["object"])
            #expect(deleted["metadata"]?["labels"]?["ecr"]?.stringValue == "on", "DELETED carries the last matching content")
            #expect(deleted["metadata"]?["resourceVersion"]?.stringValue == (await server.resourceVersion))
            watch.cancel()
        }
    }

    @Test("RBAC applies to watches")
    func watchIsAuthorized() async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "lister", token: "lister", rules: [PolicyRule(resources: ["secrets"], verbs: ["list"])])])
        try await withServer(configuration) { server, client async throws in
            let answer = try await client.send(.GET, "/api/v1/namespaces/default/secrets?watch=1", token: "lister")
            #expect(answer.status == 403)
            #expect(answer.message?.contains("cannot watch resource \"secrets\"") == true)
        }
    }
}
