import AsyncHTTPClient
import Foundation
import KubeTestServer
import NIOCore
import NIOHTTP1
import NIOSSL

/// The real kube-apiserver `scripts/test.sh` started (scripts/lib/envtest.sh: etcd, kube-apiserver and
/// kube-controller-manager on loopback), as the tests reach it: an admin client (cluster-admin by client
/// certificate, for arranging and reading back past RBAC) and a plain client that authenticates only with
/// the bearer token a test passes, so that every request the helper's identity makes is authorized by the
/// real RBAC. The server is shared by the whole test run: tests isolate themselves by names (their own
/// ServiceAccount, secret name and namespaces), never by assuming an empty cluster.
public final class RealAPIServer: Sendable {
    public let url: String
    public let caPEM: String
    /// The folder `envtest_start` wrote (pki/, logs/, env).
    public let directory: String
    let admin: HTTPClient
    let plain: HTTPClient

    public struct Answer: Sendable, CustomStringConvertible {
        public var status: Int
        public var headers: HTTPHeaders
        public var text: String
        public var json: JSONValue? { try? JSONValue(parsing: text) }
        public var reason: String? { json?["reason"]?.stringValue }
        public var message: String? { json?["message"]?.stringValue }
        public var description: String { "\(status) \(text.prefix(600))" }
    }

    /// Why the real-server tier is skipped, in one line.
    public static let missingReason =
        "real API server tier skipped: KUBE_APISERVER_URL/ENVTEST_DIR are unset; run scripts/test.sh with KUBEBUILDER_ASSETS set or ../shared/envtest beside the checkout (apt-get install etcd-server)"

    /// The server of this test run, or nil when none was started.
    public static let shared: RealAPIServer? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["KUBE_APISERVER_URL"], !url.isEmpty,
              let directory = environment["ENVTEST_DIR"], !directory.isEmpty else { return nil }
        return try? RealAPIServer(url: url, directory: directory)
    }()

    public static var isAvailable: Bool { shared != nil }

    public init(url: String, directory: String) throws {
        self.url = url
        self.directory = directory
        let pki = directory + "/pki/"
        caPEM = try String(contentsOfFile: pki + "ca.crt", encoding: .utf8)
        let roots = try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8))
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(roots)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .http1Only
        plain = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki + "admin.crt").map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki + "admin.key", format: .pem))
        configuration.tlsConfiguration = tls
        admin = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit {
        try? admin.syncShutdown()
        try? plain.syncShutdown()
    }

    // MARK: - Raw requests

    /// One request: as cluster-admin when `token` is nil, else with that bearer token and no certificate
    /// (the server would take the admin certificate over any token).
    public func send(
        _ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil,
        contentType: String = "application/json", timeout: TimeAmount = .seconds(30)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let client = token == nil ? admin : plain
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    /// A GET as cluster-admin (for targets that do not import NIOHTTP1).
    public func get(_ path: String) async throws -> Answer { try await send(.GET, path) }

    /// Only the status line and headers, for a watch a test does not read.
    public func head(_ method: HTTPMethod, _ path: String, token: String?) async throws -> Answer {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await (token == nil ? admin : plain).execute(request, timeout: .seconds(30))
        var text = ""
        if response.status != .ok { text = String(buffer: try await response.body.collect(upTo: 1 << 20)) }
        return Answer(status: Int(response.status.code), headers: response.headers, text: text)
    }

    /// An admin request that must succeed (or answer one of `accepting`).
    @discardableResult
    public func expect(
        _ method: HTTPMethod, _ path: String, body: JSONValue? = nil, contentType: String = "application/json",
        accepting: Set<Int> = []
    ) async throws -> Answer {
        let answer = try await send(method, path, body: body?.jsonString, contentType: contentType)
        guard (200..<300).contains(answer.status) || accepting.contains(answer.status) else {
            throw RealAPIServerError(description: "\(method) \(path): \(answer)")
        }
        return answer
    }

    // MARK: - Objects, as cluster-admin

    /// The API path of a resource's collection: core resources and the few API groups tests touch.
    public static func collectionPath(_ resource: String, namespace: String?) -> String {
        let group: String
        switch resource {
        case "leases": group = "/apis/coordination.k8s.io/v1"
        case "clusterroles", "clusterrolebindings", "roles", "rolebindings": group = "/apis/rbac.authorization.k8s.io/v1"
        case "events.k8s.io": group = "/apis/events.k8s.io/v1"
        default: group = "/api/v1"
        }
        if let namespace { return "\(group)/namespaces/\(namespace)/\(resource)" }
        return "\(group)/\(resource)"
    }

    public func object(_ resource: String, namespace: String?, name: String) async throws -> JSONValue? {
        let answer = try await send(.GET, Self.collectionPath(resource, namespace: namespace) + "/" + name)
        if answer.status == 404 { return nil }
        guard answer.status == 200, let json = answer.json else { throw RealAPIServerError(description: "GET \(resource)/\(name): \(answer)") }
        return json
    }

    public func objects(
        _ resource: String, namespace: String?, fieldSelector: String? = nil, labelSelector: String? = nil
    ) async throws -> [JSONValue] {
        var query: [String] = []
        if let fieldSelector { query.append("fieldSelector=" + Self.escape(fieldSelector)) }
        if let labelSelector { query.append("labelSelector=" + Self.escape(labelSelector)) }
        let path = Self.collectionPath(resource, namespace: namespace) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let answer = try await expect(.GET, path)
        return answer.json?["items"]?.arrayValue ?? []
    }

    /// Creates the object, or replaces it when it exists (admin, no field manager of the helper's).
    public func put(_ resource: String, namespace: String?, _ object: JSONValue) async throws {
        let collection = Self.collectionPath(resource, namespace: namespace)
        // What the server owns: a create carrying any of it is refused (resourceVersion is even a 500).
        var object = object
        for field in ["resourceVersion", "uid", "creationTimestamp", "managedFields", "selfLink"] {
            object["metadata"]?[field] = nil
        }
        let created = try await send(.POST, collection, body: object.jsonString)
        if created.status == 201 { return }
        guard created.status == 409, let name = object["metadata"]?["name"]?.stringValue else {
            throw RealAPIServerError(description: "create \(resource): \(created)")
        }
        var replacement = object
        let current = try await self.object(resource, namespace: namespace, name: name)
        replacement["metadata"]?["resourceVersion"] = current?["metadata"]?["resourceVersion"] ?? .null
        try await expect(.PUT, collection + "/" + name, body: replacement)
    }

    public func delete(_ resource: String, namespace: String?, name: String) async throws {
        try await expect(.DELETE, Self.collectionPath(resource, namespace: namespace) + "/" + name, accepting: [404])
    }

    /// Creates a namespace (an existing one is kept; labels are merged into it).
    public func createNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        var metadata: JSONValue = ["name": .string(name)]
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues { .string($0) }) }
        let answer = try await expect(.POST, "/api/v1/namespaces", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": metadata], accepting: [409])
        if answer.status == 409, !labels.isEmpty {
            try await expect(
                .PATCH, "/api/v1/namespaces/" + name, body: ["metadata": ["labels": .object(labels.mapValues { .string($0) })]],
                contentType: "application/merge-patch+json")
        }
    }

    // MARK: - Identities

    /// A ServiceAccount of its own for a test, bound to exactly `rules` (a ClusterRole and
    /// ClusterRoleBinding; rules limited to namespaces become a Role and RoleBinding in each), with a token
    /// from the TokenRequest API. Returns once the authorizer grants the first rule, so the first request
    /// of the test does not race RBAC's informers.
    public func makeIdentity(name: String, rules: [PolicyRule], namespace: String = "kube-system") async throws -> Identity {
        try await createNamespace(namespace)
        try await expect(
            .POST, "/api/v1/namespaces/\(namespace)/serviceaccounts",
            body: ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(name)]], accepting: [409])
        let subject: JSONValue = [["kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]]
        let clusterRules = rules.filter { $0.namespaces == nil }
        if !clusterRules.isEmpty {
            try await put("clusterroles", namespace: nil, [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": ["name": .string(name)], "rules": .array(clusterRules.map(Self.ruleJSON)),
            ])
            try await put("clusterrolebindings", namespace: nil, [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": .string(name)],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(name)],
                "subjects": subject,
            ])
        }
        let scoped = Dictionary(grouping: rules.filter { $0.namespaces != nil }.flatMap { rule in rule.namespaces!.map { ($0, rule) } }) { $0.0 }
        for (roleNamespace, pairs) in scoped {
            try await createNamespace(roleNamespace)
            try await put("roles", namespace: roleNamespace, [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": .string(name)],
                "rules": .array(pairs.map { Self.ruleJSON($0.1) }),
            ])
            try await put("rolebindings", namespace: roleNamespace, [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": .string(name)],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(name)],
                "subjects": subject,
            ])
        }
        let token = try await requestToken(serviceAccount: name, namespace: namespace)
        let identity = Identity(user: "system:serviceaccount:\(namespace):\(name)", serviceAccount: name, namespace: namespace, token: token)
        for rule in rules.prefix(1) {
            try await awaitGrant(identity, rule)
        }
        return identity
    }

    /// A ServiceAccount token from the TokenRequest API (as `kubectl create token` gets it).
    public func requestToken(serviceAccount: String, namespace: String, expirationSeconds: Int = 7200) async throws -> String {
        let answer = try await expect(
            .POST, "/api/v1/namespaces/\(namespace)/serviceaccounts/\(serviceAccount)/token",
            body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": .number(Double(expirationSeconds))]])
        guard let token = answer.json?["status"]?["token"]?.stringValue else {
            throw RealAPIServerError(description: "TokenRequest for \(namespace)/\(serviceAccount) returned no token: \(answer)")
        }
        return token
    }

    /// Waits until a SubjectAccessReview for the identity allows the rule's first verb.
    func awaitGrant(_ identity: Identity, _ rule: PolicyRule) async throws {
        let verb = rule.verbs.first == "*" ? "get" : rule.verbs.first ?? "get"
        var attributes: JSONValue = [
            "verb": .string(verb), "group": .string(rule.apiGroups.first.map { $0 == "*" ? "" : $0 } ?? ""),
            "resource": .string(rule.resources.first.map { $0 == "*" ? "secrets" : $0 } ?? "secrets"),
        ]
        if let name = rule.resourceNames.first { attributes["name"] = .string(name) }
        if let namespace = rule.namespaces?.first { attributes["namespace"] = .string(namespace) }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": [
                "user": .string(identity.user),
                "groups": ["system:serviceaccounts", .string("system:serviceaccounts:\(identity.namespace)"), "system:authenticated"],
                "resourceAttributes": attributes,
            ],
        ]
        try await eventually("RBAC grants \(identity.user) \(verb) \(attributes)", timeout: .seconds(20), poll: .milliseconds(50)) {
            let answer = try await self.expect(.POST, "/apis/authorization.k8s.io/v1/subjectaccessreviews", body: review)
            return answer.json?["status"]?["allowed"]?.boolValue == true
        }
    }

    static func ruleJSON(_ rule: PolicyRule) -> JSONValue {
        var json: JSONValue = [
            "apiGroups": .array(rule.apiGroups.map { .string($0) }),
            "resources": .array(rule.resources.map { .string($0) }),
            "verbs": .array(rule.verbs.map { .string($0) }),
        ]
        if !rule.resourceNames.isEmpty { json["resourceNames"] = .array(rule.resourceNames.map { .string($0) }) }
        return json
    }

    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    /// A kubeconfig that reaches this server with `token` (and nothing else).
    public func kubeconfig(token: String, namespace: String? = nil) -> String {
        KubeTestServer.kubeconfig(server: url, caPEM: caPEM, token: token, namespace: namespace)
    }

    public struct Identity: Sendable {
        public var user: String
        public var serviceAccount: String
        public var namespace: String
        public var token: String
    }
}

public struct RealAPIServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A short random suffix that keeps names of one test apart from every other test on the shared server.
public func uniqueSuffix(_ length: Int = 6) -> String {
    String(UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(length))
}

extension RealAPIServer {
    /// API Priority and Fairness switched on (alpha in v1.19), as every current release has it.
    public static let priorityAndFairnessFlags =
        "--feature-gates=APIPriorityAndFairness=true --enable-priority-and-fairness=true --runtime-config=flowcontrol.apiserver.k8s.io/v1alpha1=true"

    /// A real server of a test's own (for what would disturb the shared one: restarts, throttling), started
    /// with scripts/envtest.sh; `stop()` it when done.
    public static func startPrivate(extraFlags: String = "") async throws -> RealAPIServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-envtest-\(uniqueSuffix())").path
        try await runEnvtest(["start", directory], extraFlags: extraFlags)
        let env = try String(contentsOfFile: directory + "/env", encoding: .utf8)
        guard let url = env.split(separator: "\n").first(where: { $0.hasPrefix("KUBE_APISERVER_URL=") }).map({ String($0.dropFirst(19)) }) else {
            throw RealAPIServerError(description: "no KUBE_APISERVER_URL in \(directory)/env")
        }
        return try RealAPIServer(url: url, directory: directory)
    }

    /// Stops a server started with `startPrivate`.
    public func stop() async {
        try? await Self.runEnvtest(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops kube-apiserver and starts it again on the same port and etcd data.
    public func restart() async throws {
        try await Self.runEnvtest(["restart-apiserver", directory])
    }

    static func runEnvtest(_ arguments: [String], extraFlags: String = "") async throws {
        // posix_spawn and waitpid (ChildProcess), not Foundation's Process: its reaper never saw the script
        // end inside the test process, which left a zombie and a test waiting forever.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-envtest-out-\(uniqueSuffix())").path
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: output) }
        var environment = ProcessInfo.processInfo.environment
        environment["EXTRA_APISERVER_FLAGS"] = extraFlags
        let process = try ChildProcess(
            executable: "/bin/bash", arguments: [repositoryRoot.appendingPathComponent("scripts/envtest.sh").path] + arguments,
            environment: environment, outputDirectory: output)
        let termination = try await process.wait(timeout: .seconds(180))
        guard termination == .exited(0) else {
            throw RealAPIServerError(description: "scripts/envtest.sh \(arguments.joined(separator: " ")) failed (\(termination)): \(process.stderr.suffix(2000))")
        }
    }

    /// Puts a ServiceAccount in a priority level of its own with `shares` concurrency shares that rejects
    /// (or queues) what exceeds them: a client throttled as a busy cluster throttles it.
    public func throttle(serviceAccount: String, namespace: String, shares: Int = 1, queue: Bool = false) async throws {
        let name = "throttle-\(serviceAccount)"
        let limitResponse: JSONValue = queue
            ? ["type": "Queue", "queuing": ["queues": 1, "handSize": 1, "queueLengthLimit": 1000]]
            : ["type": "Reject"]
        try await expect(.POST, "/apis/flowcontrol.apiserver.k8s.io/v1alpha1/prioritylevelconfigurations", body: [
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1alpha1", "kind": "PriorityLevelConfiguration",
            "metadata": ["name": .string(name)],
            "spec": ["type": "Limited", "limited": ["assuredConcurrencyShares": .number(Double(shares)), "limitResponse": limitResponse]],
        ])
        try await expect(.POST, "/apis/flowcontrol.apiserver.k8s.io/v1alpha1/flowschemas", body: [
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1alpha1", "kind": "FlowSchema", "metadata": ["name": .string(name)],
            "spec": [
                "priorityLevelConfiguration": ["name": .string(name)], "matchingPrecedence": 100,
                "distinguisherMethod": ["type": "ByUser"],
                "rules": [[
                    "subjects": [["kind": "ServiceAccount", "serviceAccount": ["name": .string(serviceAccount), "namespace": .string(namespace)]]],
                    "resourceRules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true]],
                ]],
            ],
        ])
    }
}
