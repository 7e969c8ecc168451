import Foundation
import Testing

@testable import KubeClient

@Suite struct ErrorFormattingTests {
    @Test func forbiddenApplyCreateNamesVerbResourceNamespaceAndRBACFix() {
        let error = KubeAPIError(
            statusCode: 403,
            status: KubeStatus(status: "Failure", code: 403, reason: "Forbidden", message: "secrets \"registry-aws-ecr\" is forbidden: ", details: .init(name: "registry-aws-ecr", kind: "secrets")),
            verb: "create", resource: "secrets", namespace: "team-a", name: "registry-aws-ecr"
        )
        #expect(error.isForbidden && !error.isRetryable)
        #expect(
            error.description
                == "forbidden: cannot create secrets/registry-aws-ecr in namespace team-a (RBAC: the ServiceAccount needs verb create on secrets)"
        )
        let apply = KubeAPIError(statusCode: 403, status: nil, verb: "apply", resource: "secrets", namespace: "team-a", name: "x")
        #expect(apply.description.contains("needs verb patch (and create, so apply can create the object) on secrets"))
    }

    @Test func serverMessageIsAppendedWhenItSaysSomething() {
        let error = KubeAPIError(
            statusCode: 409,
            status: KubeStatus(code: 409, reason: "Conflict", message: "Apply failed with 1 conflict: conflict with \"other\": .data.x"),
            verb: "apply", resource: "secrets", namespace: "ns", name: "s"
        )
        #expect(error.isConflict && !error.isAlreadyExists)
        #expect(error.description.hasPrefix("conflict: apply secrets/s in namespace ns"))
        #expect(error.description.hasSuffix(": Apply failed with 1 conflict: conflict with \"other\": .data.x"))
    }

    @Test func classification() {
        func error(_ code: Int, _ reason: String?, verb: String = "get") -> KubeAPIError {
            KubeAPIError(statusCode: code, status: reason.map { KubeStatus(code: code, reason: $0) }, verb: verb, resource: "leases", group: "coordination.k8s.io", namespace: "ns", name: "l")
        }
        #expect(error(404, "NotFound").isNotFound)
        #expect(error(409, "AlreadyExists", verb: "create").isAlreadyExists)
        #expect(!error(409, "AlreadyExists", verb: "create").isConflict)
        #expect(error(409, "Conflict", verb: "update").isConflict)
        #expect(error(410, "Expired").isGone)
        #expect(error(401, "Unauthorized").isUnauthorized)
        #expect(error(429, "TooManyRequests").isRetryable)
        #expect(error(503, nil).isRetryable)
        #expect(!error(400, "BadRequest").isRetryable)
        #expect(error(404, "NotFound").description == "not found: get leases.coordination.k8s.io/l in namespace ns")
        let listAll = KubeAPIError(statusCode: 403, status: nil, verb: "list", resource: "secrets", namespace: nil, name: nil)
        #expect(listAll.description.contains("cannot list secrets at the cluster scope"))
    }

    @Test func retryAfterIsShown() {
        let error = KubeAPIError(statusCode: 429, status: nil, verb: "apply", resource: "secrets", namespace: "a", name: "b", retryAfter: .seconds(3))
        #expect(error.description == "too many requests: apply secrets/b in namespace a (the API server is throttling this client); retry after 3s")
    }

    @Test func transportErrorNamesServerAndFix() {
        let error = KubeTransportError(kind: .unreachable, server: "https://10.0.0.1:6443", verb: "get", path: "/api/v1/namespaces", underlying: "connection refused")
        #expect(error.description.contains("cannot reach the Kubernetes API server at https://10.0.0.1:6443"))
        #expect(error.description.contains("KUBERNETES_SERVICE_HOST"))
        #expect(!error.description.contains("\n"))
    }
}

@Suite struct BearerTokenSourceTests {
    @Test func rereadsTheFileAfterTheRefreshIntervalAndOnReload() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("token", "first\n")
        let cached = BearerTokenSource(origin: .file(path), refreshInterval: .seconds(3600))
        #expect(try cached.token() == "first")
        try directory.write("token", "second")
        #expect(try cached.token() == "first", "within the refresh interval the cached token is used")
        #expect(cached.reload())
        #expect(try cached.token() == "second")

        let eager = BearerTokenSource(origin: .file(path), refreshInterval: .zero)
        #expect(try eager.token() == "second")
        try directory.write("token", "third")
        #expect(try eager.token() == "third")
    }

    @Test func keepsThePreviousTokenWhenTheFileVanishes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("token", "kept")
        let source = BearerTokenSource(origin: .file(path), refreshInterval: .zero)
        #expect(try source.token() == "kept")
        try FileManager.default.removeItem(atPath: path)
        #expect(try source.token() == "kept")
        #expect(throws: KubeConfigurationError("token file \(directory.path)/none does not exist")) {
            try BearerTokenSource(origin: .file(directory.path + "/none")).token()
        }
    }
}

@Suite struct WireFormatTests {
    @Test func encodesApiVersionAndKindAndBase64Data() throws {
        let secret = Secret(name: "registry-aws-ecr", namespace: "team-a", type: "kubernetes.io/dockerconfigjson", data: [".dockerconfigjson": Array("{}".utf8)])
        let encoded = try JSONEncoder().encode(TypedObject(object: secret))
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["apiVersion"] as? String == "v1")
        #expect(object["kind"] as? String == "Secret")
        #expect((object["data"] as? [String: String])?[".dockerconfigjson"] == "e30=")
        #expect((object["metadata"] as? [String: Any])?["namespace"] as? String == "team-a")

        let decoded = try JSONDecoder().decode(Secret.self, from: encoded)
        #expect(decoded.decodedString(".dockerconfigjson") == "{}")
        #expect(!"\(decoded)".contains("e30="))
        #expect("\(decoded)" == "Secret(team-a/registry-aws-ecr type=kubernetes.io/dockerconfigjson keys=[.dockerconfigjson])")
    }

    @Test func decodesWatchLinesOfEveryType() throws {
        var splitter = LineSplitter()
        var buffer = ByteBufferMaker.make("""
            {"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}
            {"type":"BOOKMARK","object":{"kind":"Secret","metadata":{"resourceVersion":"7"}}}

            {"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}
            {"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"9"}}}
            {"type":"MODI
            """)
        splitter.append(buffer)
        var events: [WatchEvent<Secret>] = []
        while let line = splitter.nextLine() {
            if let event = try KubernetesClient.decodeWatchLine(Secret.self, line, decoder: JSONDecoder()) { events.append(event) }
        }
        buffer = ByteBufferMaker.make("FIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}")
        splitter.append(buffer)
        let incomplete = splitter.nextLine()
        #expect(incomplete == nil)
        let remainder = splitter.remainder()
        let last = try #require(remainder)
        if let event = try KubernetesClient.decodeWatchLine(Secret.self, last, decoder: JSONDecoder()) { events.append(event) }

        #expect(events.count == 5)
        guard events.count == 5 else { return }
        if case .added(let secret) = events[0] { #expect(secret.metadata.name == "a") } else { Issue.record("\(events[0])") }
        if case .bookmark(let version) = events[1] { #expect(version == "7") } else { Issue.record("\(events[1])") }
        if case .error(let status) = events[2] { #expect(status.code == 410) } else { Issue.record("\(events[2])") }
        if case .deleted(let secret) = events[3] { #expect(secret.metadata.resourceVersion == "9") } else { Issue.record("\(events[3])") }
        if case .modified(let secret) = events[4] { #expect(secret.metadata.name == "b") } else { Issue.record("\(events[4])") }
    }

    @Test func paths() {
        #expect(ResourcePath.object(Secret.self, namespace: "ns", name: "s") == "/api/v1/namespaces/ns/secrets/s")
        #expect(ResourcePath.collection(Secret.self, namespace: nil) == "/api/v1/secrets")
        #expect(ResourcePath.object(Namespace.self, namespace: "ignored", name: "team-a") == "/api/v1/namespaces/team-a")
        #expect(ResourcePath.object(Lease.self, namespace: "kube-system", name: "l") == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l")
        #expect(ResourcePath.query([("fieldSelector", "metadata.name=x"), ("labelSelector", "a in (b, c),!d")])
            == "?fieldSelector=metadata.name%3Dx&labelSelector=a%20in%20%28b%2C%20c%29%2C%21d")
    }

    @Test func kubeTimeFormatsAndParses() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        #expect(KubeTime.time(date) == "2023-11-14T22:13:20Z")
        #expect(KubeTime.microTime(date) == "2023-11-14T22:13:20.123456Z")
        #expect(KubeTime.time(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        let parsed = try #require(KubeTime.parse("2023-11-14T23:13:20.5+01:00"))
        #expect(abs(parsed.timeIntervalSince1970 - 1_700_000_000.5) < 0.000_001)
        #expect(KubeTime.parse("2023-11-14") == nil)
        for seconds in stride(from: -86_400.0 * 365 * 30, through: 86_400.0 * 365 * 80, by: 86_400.0 * 37.3) {
            let date = Date(timeIntervalSince1970: seconds.rounded())
            #expect(KubeTime.parse(KubeTime.time(date)) == date)
        }
    }

    @Test func backoffGrowsAndIsCapped() {
        let backoff = ExponentialBackoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0)
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 3) == .milliseconds(400))
        #expect(backoff.delay(afterFailures: 50) == .seconds(1))
        let jittered = ExponentialBackoff(initial: .seconds(1), maximum: .seconds(30), jitter: 0.5)
        for _ in 0..<50 {
            let delay = jittered.delay(afterFailures: 2)
            #expect(delay >= .seconds(1) && delay <= .seconds(2))
        }
    }
}
