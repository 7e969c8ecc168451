import KubeTestServer
import Synchronization
import Testing
import TestSupport

@testable import KubeClient

@Suite struct WatchTests {
    static func secretJSON(_ name: String, namespace: String, value: String = "dg==") -> JSONValue {
        ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name), "namespace": .string(namespace)], "data": ["k": .string(value)]]
    }

    @Test func rawWatchStreamsEventsAndBookmarks() async throws {
        try await LiveCluster.run(bookmarkInterval: .milliseconds(100)) { cluster in
            try await cluster.withClient { client in
                let list = try await client.list(Secret.self, namespace: "team-a")
                let stream = try await client.watch(Secret.self, namespace: "team-a", resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 30)
                let recorder = Recorder(stream)
                defer { recorder.stop() }
                _ = try await client.create(Secret(name: "w1", namespace: "team-a", data: ["k": [1]]))
                _ = try await client.apply(Secret(name: "w1", namespace: "team-a", data: ["k": [2]]), fieldManager: "t")
                try await client.delete(Secret.self, namespace: "team-a", name: "w1")
                try await eventually("added, modified, deleted and a bookmark") {
                    let events = recorder.all
                    let kinds = events.map { event -> String in
                        switch event {
                        case .added: "added"
                        case .modified: "modified"
                        case .deleted: "deleted"
                        case .bookmark: "bookmark"
                        case .error: "error"
                        }
                    }
                    return kinds.filter { $0 != "bookmark" } == ["added", "modified", "deleted"] && kinds.contains("bookmark")
                }
            }
        }
    }

    @Test func watchFromAnExpiredVersionEndsWithGone() async throws {
        try await LiveCluster.run(watchHistoryLimit: 2) { cluster in
            try await cluster.withClient { client in
                let list = try await client.list(Secret.self, namespace: "team-a")
                for index in 0..<5 { try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("s\(index)", namespace: "team-a")) }
                let stream = try await client.watch(Secret.self, namespace: "team-a", resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 30)
                var sawGone = false
                for try await event in stream {
                    if case .error(let status) = event, status.code == 410 { sawGone = true }
                }
                #expect(sawGone)
            }
        }
    }

    @Test func watcherListsThenWatchesResumesAndRelists() async throws {
        try await LiveCluster.run(watchHistoryLimit: 3) { cluster in
            try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("before", namespace: "team-a"))
            try await cluster.withClient { client in
                let restarts = Counter()
                let watcher = Watcher(
                    client: client, type: Secret.self, namespace: "team-a", logger: cluster.logger,
                    backoff: ExponentialBackoff(initial: .milliseconds(10), maximum: .milliseconds(50)),
                    onRestart: { restarts.add($0.rawValue) }
                )
                let recorder = Recorder(watcher.events())
                defer { recorder.stop() }

                @Sendable func restartedLists() -> [[String]] {
                    recorder.all.compactMap { event in
                        if case .restarted(let items) = event { return items.compactMap(\.metadata.name).sorted() }
                        return nil
                    }
                }
                @Sendable func applied() -> [String] {
                    recorder.all.compactMap { event in
                        if case .applied(let secret) = event { return "\(secret.metadata.name ?? "")=\(secret.decodedString("k") ?? "")" }
                        return nil
                    }
                }

                try await eventually("the initial list") { restartedLists() == [["before"]] }
                try await eventually("the watch to be open") { await cluster.server.openWatchCount == 1 }
                try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("after", namespace: "team-a", value: "MQ=="))
                try await eventually("the added secret") { applied() == ["after=1"] }

                // The server ends the watch: the watcher resumes from where it was, without a relist.
                let endedBefore = restarts.value("closed") + restarts.value("error")
                await cluster.server.closeWatches()
                try await eventually("a resumed watch") { restarts.value("closed") + restarts.value("error") > endedBefore }
                try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("after", namespace: "team-a", value: "Mg=="))
                try await eventually("the change after the resume") { applied() == ["after=1", "after=2"] }
                #expect(restartedLists().count == 1)

                // Keep watches out while more changes happen than the server remembers, then let them in:
                // the resumed watch gets 410 Expired and the watcher lists again.
                await cluster.server.inject(FaultRule(method: "GET", pathContains: "watch=true", fault: .status(500)))
                let errorsBefore = restarts.value("error")
                await cluster.server.closeWatches()
                try await eventually("a failed watch attempt") { restarts.value("error") > errorsBefore }
                for index in 0..<5 { try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("burst\(index)", namespace: "team-a")) }
                await cluster.server.delete("secrets", namespace: "team-a", name: "before")
                await cluster.server.clearFaults()
                try await eventually("a relist after 410") { restartedLists().count == 2 }
                #expect(restartedLists().last == ["after", "burst0", "burst1", "burst2", "burst3", "burst4"])
                #expect(restarts.value("expired") >= 1)

                // And it keeps watching after the relist.
                try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("final", namespace: "team-a"))
                try await eventually("a change after the relist") { applied().contains { $0.hasPrefix("final=") } }
            }
        }
    }

    @Test func watcherRelistsAfterHTTP410AndFollowsBookmarks() async throws {
        try await LiveCluster.run(bookmarkInterval: .milliseconds(50)) { cluster in
            try await cluster.withClient { client in
                let restarts = Counter()
                let watcher = Watcher(
                    client: client, type: Secret.self, namespace: "team-a", logger: cluster.logger,
                    backoff: ExponentialBackoff(initial: .milliseconds(10), maximum: .milliseconds(50)),
                    onRestart: { restarts.add($0.rawValue) }
                )
                let recorder = Recorder(watcher.events())
                defer { recorder.stop() }
                try await eventually("the watch to be open") { await cluster.server.openWatchCount == 1 }

                // Changes elsewhere move the store's resourceVersion; bookmarks carry it to the watcher, so a
                // resumed watch starts from there rather than from the last event it saw.
                for index in 0..<3 { try await cluster.server.put("secrets", namespace: "team-b", Self.secretJSON("elsewhere\(index)", namespace: "team-b")) }
                let latest = await cluster.server.resourceVersion
                try await eventually("a resumed watch starting from the bookmarked version", poll: .milliseconds(200)) {
                    await cluster.server.resetRequests()
                    await cluster.server.closeWatches()
                    try await eventually("the watch to reopen") { await cluster.server.requests().contains { $0.verb == "watch" } }
                    return await cluster.server.requests().contains { request in
                        request.verb == "watch" && request.query.split(separator: "&").contains("resourceVersion=\(latest)")
                    }
                }

                // An HTTP 410 answer to the watch request itself also leads to a relist.
                await cluster.server.inject(FaultRule(method: "GET", pathContains: "watch=true", fault: .status(410), times: 1))
                await cluster.server.closeWatches()
                try await eventually("a relist") {
                    recorder.all.filter { if case .restarted = $0 { return true } else { return false } }.count == 2
                }
                #expect(restarts.value("expired") == 1)
            }
        }
    }

    /// The original helper's role can list and watch its one secret across all namespaces only through a
    /// `metadata.name` field selector; that is how the product watches what it planted.
    @Test func watcherWithTheOriginalRoleFollowsItsSecretInEveryNamespace() async throws {
        let user = TestUser(name: "helper", token: "helper-token", rules: PolicyRule.originalHelperRole(secretName: "registry-aws-ecr"))
        try await LiveCluster.run(users: [user]) { cluster in
            try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("registry-aws-ecr", namespace: "team-a"))
            try await cluster.server.put("secrets", namespace: "team-a", Self.secretJSON("unrelated", namespace: "team-a"))
            try await cluster.withClient(auth: .bearerToken("helper-token")) { client in
                let watcher = Watcher(
                    client: client, type: Secret.self, namespace: nil, fieldSelector: "metadata.name=registry-aws-ecr", logger: cluster.logger
                )
                let recorder = Recorder(watcher.events())
                defer { recorder.stop() }
                try await eventually("the initial list") {
                    recorder.all.contains { event in
                        if case .restarted(let secrets) = event { return secrets.map(\.metadata.namespace) == ["team-a"] }
                        return false
                    }
                }
                try await eventually("the watch to be open") { await cluster.server.openWatchCount == 1 }
                _ = try await client.apply(Secret(name: "registry-aws-ecr", namespace: "team-b", data: ["k": [1]]), fieldManager: "helper")
                try await cluster.server.put("secrets", namespace: "team-b", Self.secretJSON("unrelated", namespace: "team-b"))
                await cluster.server.delete("secrets", namespace: "team-a", name: "registry-aws-ecr")
                try await eventually("the apply in team-b and the deletion in team-a") {
                    let changes = recorder.all.compactMap { event -> String? in
                        switch event {
                        case .restarted, .initStarted, .initPage, .initDone: nil
                        case .applied(let secret): "applied \(secret.metadata.namespace ?? "")/\(secret.metadata.name ?? "")"
                        case .deleted(let secret): "deleted \(secret.metadata.namespace ?? "")/\(secret.metadata.name ?? "")"
                        }
                    }
                    return changes == ["applied team-b/registry-aws-ecr", "deleted team-a/registry-aws-ecr"]
                }
            }
            #expect(cluster.logs.lines(containingAnyOf: ["helper-token"]).isEmpty)
        }
    }

    @Test func watcherStopsWhenItsConsumerIsCancelled() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let watcher = Watcher(client: client, type: Namespace.self, namespace: nil, logger: cluster.logger)
                let consumer = Task {
                    for await _ in watcher.events() {}
                }
                try await eventually("the watch to be open") { await cluster.server.openWatchCount == 1 }
                consumer.cancel()
                await consumer.value
                try await eventually("the watch to be closed") { await cluster.server.openWatchCount == 0 }
            }
        }
    }
}
