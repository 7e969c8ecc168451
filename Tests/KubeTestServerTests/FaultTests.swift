import AsyncHTTPClient
import KubeTestServer
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import Testing

@Suite("Faults on demand")
struct FaultTests {
    @Test("an injected 429 with Retry-After fires the given number of times")
    func tooManyRequests() async throws {
        try await withServer { server, client async throws in
            await server.inject(
                FaultRule(method: "GET", pathContains: "/secrets", fault: .status(429, retryAfterSeconds: 3), times: 2))
            for _ in 0..<2 {
                let answer = try await client.send(.GET, "/api/v1/namespaces/default/secrets", token: server.adminToken)
                #expect(answer.status == 429)
                #expect(answer.reason == "TooManyRequests")
                #expect(answer.headers.first(name: "Retry-After") == "3")
            }
            let after = try await client.send(.GET, "/api/v1/namespaces/default/secrets", token: server.adminToken)
            #expect(after.status == 200)
            let other = try await client.send(.GET, "/api/v1/namespaces", token: server.adminToken)
            #expect(other.status == 200)
        }
    }

    @Test("a 503 until cleared, matching on method")
    func untilCleared() async throws {
        try await withServer { server, client async throws in
            await server.inject(FaultRule(method: "PATCH", fault: .status(503)))
            for _ in 0..<3 {
                let answer = try await client.send(
                    .PATCH, "/api/v1/namespaces/default/secrets/s?fieldManager=t", token: server.adminToken,
                    body: secretJSON("s"), contentType: applyContentType)
                #expect(answer.status == 503)
                #expect(answer.reason == "ServiceUnavailable")
            }
            #expect(try await client.send(.GET, "/api/v1/namespaces", token: server.adminToken).status == 200)
            await server.clearFaults()
            let answer = try await client.send(
                .PATCH, "/api/v1/namespaces/default/secrets/s?fieldManager=t", token: server.adminToken,
                body: secretJSON("s"), contentType: applyContentType)
            #expect(answer.status == 201)
        }
    }

    @Test("a dropped connection gives the client a transport error, then the server answers again")
    func dropConnection() async throws {
        try await withServer { server, client async throws in
            await server.inject(FaultRule(pathContains: "/api/v1/namespaces/default", fault: .dropConnection, times: 1))
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.GET, "/api/v1/namespaces/default", token: server.adminToken)
            }
            #expect(try await client.send(.GET, "/api/v1/namespaces/default", token: server.adminToken).status == 200)
            let recorded = await server.requests().filter { $0.path == "/api/v1/namespaces/default" }
            #expect(recorded.map(\.status) == [0, 200])
        }
    }

    @Test("a delay holds the answer, then serves it")
    func delay() async throws {
        try await withServer { server, client async throws in
            await server.inject(FaultRule(pathContains: "/version", fault: .delay(.milliseconds(50)), times: 1))
            #expect(try await client.send(.GET, "/version", token: server.adminToken).status == 200)
        }
    }

    @Test("closeWatches ends every open watch")
    func closeWatches() async throws {
        try await withServer { server, client async throws in
            let first = try await client.watch("/api/v1/namespaces/default/secrets?watch=1", token: server.adminToken)
            let second = try await client.watch("/api/v1/namespaces?watch=1", token: server.adminToken)
            try await eventually("both watches open") { await server.openWatchCount == 2 }
            await server.closeWatches()
            try await eventually("both streams end") { first.finished && second.finished }
            #expect(await server.openWatchCount == 0)
        }
    }

    @Test("closeWatches(dropConnections:) cuts the watch connections mid-response")
    func dropWatches() async throws {
        try await withServer { server, client async throws in
            let watch = try await client.watch("/api/v1/namespaces/default/secrets?watch=1", token: server.adminToken)
            try await eventually("the watch is open") { await server.openWatchCount == 1 }
            await server.closeWatches(dropConnections: true)
            try await eventually("the stream ends") { watch.finished }
            #expect(await server.openWatchCount == 0)
            #expect(try await client.send(.GET, "/version", token: server.adminToken).status == 200)
        }
    }

    @Test("restart keeps the port, the CA and the data; open watches are cut")
    func restart() async throws {
        try await withServer { server, client async throws in
            try await server.put("secrets", namespace: "default", ["metadata": ["name": "kept"]])
            let watch = try await client.watch("/api/v1/namespaces/default/secrets?watch=1", token: server.adminToken)
            try await eventually("the ADDED event") { watch.events.count == 1 }
            let port = server.port
            try await server.restart()
            try await eventually("the watch is cut") { watch.finished }
            #expect(server.port == port)
            let answer = try await client.send(.GET, "/api/v1/namespaces/default/secrets/kept", token: server.adminToken)
            #expect(answer.status == 200)
        }
    }

    @Test("a stopped server refuses connections")
    func stopped() async throws {
        try await withServer { server, client async throws in
            try await server.stop()
            // A plain connect, so the refusal shows at once (an HTTP client would retry until its deadline).
            await #expect(throws: (any Error).self) {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: server.port).get()
                try await channel.close()
            }
            try await server.restart()
            #expect(try await client.send(.GET, "/version", token: server.adminToken).status == 200)
        }
    }

    @Test("a removed token gets 401; its replacement works (rotation)")
    func tokenRotation() async throws {
        let rules = PolicyRule.originalHelperRole()
        let configuration = KubeTestServerConfiguration(users: [TestUser(name: "helper", token: "old", rules: rules)])
        try await withServer(configuration) { server, client async throws in
            #expect(try await client.send(.GET, secretPath, token: "old").status == 404)
            await server.removeToken("old")
            await server.addUser(TestUser(name: "helper", token: "new", rules: rules))
            let expired = try await client.send(.GET, secretPath, token: "old")
            #expect(expired.status == 401)
            #expect(expired.reason == "Unauthorized")
            #expect(try await client.send(.GET, secretPath, token: "new").status == 404)
            let missing = try await client.send(.GET, secretPath, token: nil)
            #expect(missing.status == 401)
        }
    }

    @Test("the request log records verb, resource, namespace, name, user and status")
    func requestLog() async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "helper", token: helperToken, rules: PolicyRule.originalHelperRole())])
        try await withServer(configuration) { server, client async throws in
            _ = try await client.send(
                .PATCH, secretPath + "?fieldManager=x", token: helperToken, body: secretJSON("registry-aws-ecr"),
                contentType: applyContentType)
            _ = try await client.send(.GET, "/api/v1/secrets?fieldSelector=metadata.name%3Dregistry-aws-ecr", token: helperToken)
            _ = try await client.send(.GET, "/api/v1/namespaces", token: helperToken)
            let log = await server.requests()
            #expect(log.map(\.verb) == ["patch", "list", "list"])
            #expect(log.map(\.status) == [201, 200, 403])
            #expect(log[0].resource == "secrets")
            #expect(log[0].namespace == "default")
            #expect(log[0].name == "registry-aws-ecr")
            #expect(log[0].user == "helper")
            #expect(log[0].contentType == applyContentType)
            #expect(log[1].namespace == nil)
            #expect(log[1].query.contains("fieldSelector"))
            await server.resetRequests()
            #expect(await server.requests().isEmpty)
        }
    }
}
