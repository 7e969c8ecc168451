import Foundation
import KubeTestServer
import NIOHTTP1
import TestSupport
import Testing

/// The facts suite: requests whose answers (status code, `Status.reason`, a piece of the message) were
/// observed on a real kube-apiserver, replayed case by case against BOTH servers: the stand-in and the real
/// kube-apiserver of the test run (scripts/lib/envtest.sh). A fact that fails only on the stand-in is a
/// divergence to fix there (or, when deliberate, to list in Sources/KubeTestServer/README.md); one that
/// fails on the real server is a wrong fact.
///
/// Paths, bodies and messages hold placeholders filled per run, so that runs on the shared real server do
/// not meet: `{ns}` (a namespace of the fact's own), `{user}` (the identity's user name), `{id}` (unique).
struct APIFact: Sendable, CustomTestStringConvertible {
    enum Role: Sendable {
        case originalHelper
        case originalWithoutCreate
        case everyVerbLimitedToName
        case secretsEditor
        case everything
        case invalidToken
    }

    var testDescription: String
    var role: Role = .originalHelper
    /// Secrets in `{ns}` before the request.
    var existing: [String] = []
    /// Field manager that applied `existing` (with data key `k`), when ownership matters.
    var appliedBy: String?
    var method: HTTPMethod
    var path: String
    var contentType: String = "application/json"
    var body: String?
    var status: Int
    var reason: String?
    var messageContains: String?
    /// The body each of `existing` is applied with, instead of `secretJSON(name)` (`{name}` is filled in).
    var arrangeBody: String?
    /// Writes as admin after `existing` is in place and before the request (method, path, content type,
    /// body); `{rv}` in the request's path is then the last arranged secret's resourceVersion.
    var thenAsAdmin: [AdminStep] = []
    /// What the answer holds: for a watch (whose path carries `timeoutSeconds`, so that it ends), the
    /// answer is the array of its events.
    var checks: [JSONCheck] = []

    /// The request and expectations with the placeholders filled in.
    func filled(namespace: String, user: String, id: String) -> APIFact {
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{ns}", with: namespace).replacingOccurrences(of: "{user}", with: user)
                .replacingOccurrences(of: "{id}", with: id)
        }
        var fact = self
        fact.path = fill(path)
        fact.body = body.map(fill)
        fact.messageContains = messageContains.map(fill)
        fact.arrangeBody = arrangeBody.map(fill)
        fact.thenAsAdmin = thenAsAdmin.map { AdminStep($0.method, fill($0.path), contentType: $0.contentType, body: $0.body.map(fill)) }
        fact.checks = checks.map { JSONCheck($0.path, $0.expectation.filled(fill)) }
        return fact
    }

    var rules: [PolicyRule] {
        switch role {
        case .originalHelper, .invalidToken: PolicyRule.originalHelperRole()
        case .originalWithoutCreate:
            [PolicyRule(resources: ["secrets"], verbs: ["get", "patch", "watch", "list"], resourceNames: ["registry-aws-ecr"])]
        case .secretsEditor: [PolicyRule(resources: ["secrets"], verbs: ["*"])]
        case .everything: [.everything]
        case .everyVerbLimitedToName:
            [
                PolicyRule(
                    resources: ["secrets"], verbs: ["get", "patch", "watch", "list", "create"],
                    resourceNames: ["registry-aws-ecr"])
            ]
        }
    }
}

let secretPath = "/api/v1/namespaces/default/secrets/registry-aws-ecr"
/// The facts' own secret path, in the fact's namespace.
let factSecretPath = "/api/v1/namespaces/{ns}/secrets/registry-aws-ecr"
let applyQuery = "?fieldManager=x"

let writeFacts: [APIFact] = [
    APIFact(
        testDescription: "POST creates the secret", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "the same POST again is AlreadyExists", existing: ["registry-aws-ecr"], method: .POST,
        path: "/api/v1/namespaces/{ns}/secrets", body: secretJSON("registry-aws-ecr"), status: 409,
        reason: "AlreadyExists"),
    APIFact(
        testDescription: "POST of another name is allowed (create has no name)", method: .POST,
        path: "/api/v1/namespaces/{ns}/secrets", body: secretJSON("something-else"), status: 201),
    APIFact(
        testDescription: "apply to an existing object", existing: ["registry-aws-ecr"], method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 200),
    APIFact(
        testDescription: "apply creates a missing object when the role has create", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "apply to a missing object without create is Forbidden", role: .originalWithoutCreate,
        method: .PATCH, path: factSecretPath + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 403, reason: "Forbidden",
        messageContains: "secrets \"registry-aws-ecr\" is forbidden"),
    APIFact(
        testDescription: "apply creates with create limited to the name", role: .everyVerbLimitedToName, method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "apply by another manager changing an owned field is a Conflict", existing: ["registry-aws-ecr"],
        appliedBy: "x", method: .PATCH, path: factSecretPath + "?fieldManager=y", contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", data: ["k": "Y2hhbmdlZA=="]), status: 409, reason: "Conflict",
        messageContains: "Apply failed with 1 conflict: conflict with \"x\""),
    APIFact(
        testDescription: "the same apply with force=true takes the field", existing: ["registry-aws-ecr"], appliedBy: "x",
        method: .PATCH, path: factSecretPath + "?fieldManager=y&force=true", contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", data: ["k": "Y2hhbmdlZA=="]), status: 200),
    APIFact(
        testDescription: "merge patch on a missing object is NotFound", method: .PATCH, path: factSecretPath,
        contentType: "application/merge-patch+json", body: #"{"data":{"k":"dg=="}}"#, status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "apply to another name is Forbidden (patch)", method: .PATCH,
        path: "/api/v1/namespaces/{ns}/secrets/other" + applyQuery, contentType: applyContentType,
        body: secretJSON("other"), status: 403, reason: "Forbidden",
        messageContains:
            #"secrets "other" is forbidden: User "{user}" cannot patch resource "secrets" in API group "" in the namespace "{ns}""#
    ),
    APIFact(
        testDescription: "apply into a missing namespace is NotFound", method: .PATCH,
        path: "/api/v1/namespaces/missing/secrets/registry-aws-ecr" + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 404, reason: "NotFound", messageContains: "namespaces \"missing\""),
    APIFact(
        testDescription: "an invalid token is Unauthorized", role: .invalidToken, method: .GET, path: factSecretPath,
        status: 401, reason: "Unauthorized"),
    APIFact(
        testDescription: "an invalid token on a write is Unauthorized", role: .invalidToken, method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 401,
        reason: "Unauthorized"),
]

let readFacts: [APIFact] = [
    APIFact(
        testDescription: "GET the allowed name, present", existing: ["registry-aws-ecr"], method: .GET, path: factSecretPath,
        status: 200),
    APIFact(
        testDescription: "GET the allowed name, absent", method: .GET, path: factSecretPath, status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "GET another secret is Forbidden", existing: ["other"], method: .GET,
        path: "/api/v1/namespaces/{ns}/secrets/other", status: 403, reason: "Forbidden"),
    APIFact(
        testDescription: "cluster-wide LIST with the name selector", existing: ["registry-aws-ecr"], method: .GET,
        path: "/api/v1/secrets?fieldSelector=metadata.name%3Dregistry-aws-ecr", status: 200),
    APIFact(
        testDescription: "cluster-wide WATCH with the name selector", existing: ["registry-aws-ecr"], method: .GET,
        path: "/api/v1/secrets?watch=1&fieldSelector=metadata.name%3Dregistry-aws-ecr", status: 200),
    APIFact(
        testDescription: "LIST without the selector is Forbidden at the cluster scope", method: .GET,
        path: "/api/v1/secrets", status: 403, reason: "Forbidden", messageContains: "at the cluster scope"),
    APIFact(
        testDescription: "WATCH without the selector is Forbidden", method: .GET, path: "/api/v1/secrets?watch=1",
        status: 403, reason: "Forbidden", messageContains: "cannot watch resource \"secrets\""),
    APIFact(
        testDescription: "a field selector naming another secret is Forbidden", method: .GET,
        path: "/api/v1/secrets?fieldSelector=metadata.name%3Dother", status: 403, reason: "Forbidden"),
    APIFact(
        testDescription: "LIST namespaces is Forbidden", method: .GET, path: "/api/v1/namespaces", status: 403,
        reason: "Forbidden"),
]

let validationFacts: [APIFact] = [
    APIFact(
        testDescription: "data that is not base64 is BadRequest", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", data: ["k": "not base64!"]), status: 400, reason: "BadRequest",
        messageContains: "illegal base64 data"),
    APIFact(
        testDescription: "changing type is Invalid (immutable)", existing: ["registry-aws-ecr"], appliedBy: "x",
        method: .PATCH, path: factSecretPath + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", type: "kubernetes.io/dockerconfigjson"), status: 422, reason: "Invalid",
        messageContains: "field is immutable"),
    APIFact(
        testDescription: "apply without fieldManager is Invalid", method: .PATCH, path: factSecretPath,
        contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 422, reason: "Invalid",
        messageContains: "fieldManager: Required value: is required for apply patch"),
    APIFact(
        testDescription: "PUT with a stale resourceVersion is a Conflict", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .PUT,
        path: factSecretPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","resourceVersion":"1"}}"#,
        status: 409, reason: "Conflict", messageContains: "the object has been modified"),
    APIFact(
        testDescription: "a dockerconfigjson secret without .dockerconfigjson is Invalid", method: .POST,
        path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", type: "kubernetes.io/dockerconfigjson"), status: 422, reason: "Invalid",
        messageContains: "data[.dockerconfigjson]: Required value"),
    APIFact(
        testDescription: "a dockerconfigjson secret holding something else than JSON is Invalid", method: .POST,
        path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", data: [".dockerconfigjson": "bm90IGpzb24="], type: "kubernetes.io/dockerconfigjson"),
        status: 422, reason: "Invalid", messageContains: "<secret contents redacted>"),
    APIFact(
        testDescription: "a valid dockerconfigjson secret is created", method: .POST,
        path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", data: [".dockerconfigjson": "eyJhdXRocyI6e319"], type: "kubernetes.io/dockerconfigjson"),
        status: 201),
    APIFact(
        testDescription: "an event outside its object's namespace is Invalid", role: .everything, method: .POST,
        path: "/api/v1/namespaces/kube-system/events",
        body: #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e-{id}"},"involvedObject":{"kind":"Secret","namespace":"{ns}","name":"s"},"reason":"R","message":"m"}"#,
        status: 422, reason: "Invalid", messageContains: "does not match event.namespace"),
    APIFact(
        testDescription: "an event about a cluster-scoped object lives in default", role: .everything, method: .POST,
        path: "/api/v1/namespaces/default/events",
        body: #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e-{id}"},"involvedObject":{"kind":"Namespace","name":"team-a"},"reason":"R","message":"m"}"#,
        status: 201),
    APIFact(
        testDescription: "PUT of a missing object is NotFound", role: .secretsEditor, method: .PUT, path: factSecretPath,
        body: secretJSON("registry-aws-ecr"), status: 404, reason: "NotFound"),
]


/// Apply bodies are parsed as YAML by go-yaml (sigs.k8s.io/yaml), whatever they look like: JSON is accepted
/// because JSON is (almost) YAML, but not every JSON string escape is a YAML one.
let yamlBodyFacts: [APIFact] = [
    APIFact(
        testDescription: "an apply body escaping '/' as \\/ is BadRequest (go-yaml rejects the escape)", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","labels":{"app.kubernetes.io\/name":"x"}}}"#,
        status: 400, reason: "BadRequest", messageContains: "found unknown escape character"),
    APIFact(
        testDescription: "the same body without the escape is applied", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","labels":{"app.kubernetes.io/name":"x"}}}"#,
        status: 201),
    APIFact(
        testDescription: "a block-style YAML document is applied", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n  labels:\n    app.kubernetes.io/name: x\ndata:\n  k: dg==\n",
        status: 201),
    APIFact(
        testDescription: "a YAML flow mapping with unquoted keys is applied", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "{apiVersion: v1, kind: Secret, metadata: {name: registry-aws-ecr}, stringData: {k: v}}",
        status: 201),
    APIFact(
        testDescription: "JSON escapes that YAML shares (\\n, \\t, \\u00e9, \\\") are applied", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","annotations":{"a":"line\nnext\ttab \u00e9 \"q\""}}}"#,
        status: 201),
    APIFact(
        testDescription: "an apply body that is not YAML is BadRequest", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "{\"apiVersion\": \"v1\", \"kind\": [", status: 400, reason: "BadRequest"),
    APIFact(
        testDescription: "an apply body with a tab in its indentation is BadRequest", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n\tname: registry-aws-ecr\n", status: 400, reason: "BadRequest",
        messageContains: "error decoding YAML: error converting YAML to JSON: yaml: "),
    APIFact(
        testDescription: "an empty apply body is BadRequest", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType, body: "", status: 400, reason: "BadRequest",
        messageContains: "Incorrect version specified in apply patch"),
    APIFact(
        testDescription: "an apply body without kind is a 500 without reason", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","metadata":{"name":"registry-aws-ecr"}}"#, status: 500,
        messageContains: "failed to create typed patch object"),
    APIFact(
        testDescription: "an apply body of another kind is a 500 without reason", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"registry-aws-ecr"}}"#, status: 500,
        messageContains: "failed to merge config: expected objects of the same type"),
    APIFact(
        testDescription: "an apply body with a field the schema lacks is a 500 without reason", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr"},"bogus":1}"#, status: 500,
        messageContains: ".bogus: field not declared in schema"),
    APIFact(
        testDescription: "an apply body naming another object is BadRequest", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("something-else"),
        status: 400, reason: "BadRequest", messageContains: "does not match the name on the URL"),
]

/// Requests a client gets wrong: the status codes the real server answers.
let malformedFacts: [APIFact] = [
    APIFact(
        testDescription: "a POST body that is not JSON is BadRequest", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: "{not json", status: 400, reason: "BadRequest"),
    APIFact(
        testDescription: "a PATCH with an unknown content type is UnsupportedMediaType", method: .PATCH,
        path: factSecretPath, contentType: "text/plain", body: "x", status: 415, reason: "UnsupportedMediaType"),
    APIFact(
        testDescription: "an invalid secret name is Invalid", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("Not_A_Name"), status: 422, reason: "Invalid", messageContains: "Not_A_Name"),
    APIFact(
        testDescription: "an invalid data key is Invalid", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", data: ["a b": "dg=="]), status: 422, reason: "Invalid"),
    APIFact(
        testDescription: "a body naming another namespace is BadRequest", method: .POST, path: "/api/v1/namespaces/{ns}/secrets",
        body: secretJSON("registry-aws-ecr", namespace: "kube-system"), status: 400, reason: "BadRequest",
        messageContains: "does not match the namespace"),
    APIFact(
        testDescription: "DELETE of a missing secret is NotFound", role: .secretsEditor, method: .DELETE, path: factSecretPath,
        status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "GET of a secret in a missing namespace is NotFound", method: .GET,
        path: "/api/v1/namespaces/missing-{id}/secrets/registry-aws-ecr", status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "a label selector that does not parse is BadRequest", role: .secretsEditor, method: .GET,
        path: "/api/v1/namespaces/{ns}/secrets?labelSelector=a%20in%20(", status: 400, reason: "BadRequest",
        messageContains: "unable to parse requirement"),
    APIFact(
        testDescription: "a label selector with > and an integer is accepted", role: .secretsEditor, method: .GET,
        path: "/api/v1/namespaces/{ns}/secrets?labelSelector=n%3E3", status: 200),
    APIFact(
        testDescription: "a label selector with > and a non-integer is BadRequest", role: .secretsEditor, method: .GET,
        path: "/api/v1/namespaces/{ns}/secrets?labelSelector=n%3Ex", status: 400, reason: "BadRequest"),
    APIFact(
        testDescription: "with a bad label selector RBAC cannot see the name: Forbidden for a name-limited role",
        method: .GET, path: "/api/v1/secrets?fieldSelector=metadata.name%3Dregistry-aws-ecr&labelSelector=a%20in%20(",
        status: 403, reason: "Forbidden"),
    APIFact(
        testDescription: "a watch from a resourceVersion far in the past is 200 then Gone, or Gone", method: .GET,
        path: "/api/v1/namespaces/{ns}/secrets?watch=1&fieldSelector=metadata.name%3Dregistry-aws-ecr&resourceVersion=1",
        status: 200),
]

/// One answer, from either server.
struct FactAnswer: Sendable {
    var status: Int
    var text: String
    var json: JSONValue? { try? JSONValue(parsing: text) }
    var reason: String? { json?["reason"]?.stringValue }
    var message: String? { json?["message"]?.stringValue }
    /// A watch stream's events, one JSON document a line.
    var events: JSONValue {
        .array(text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) })
    }
}

@Suite("Facts observed on a real kube-apiserver, on both servers")
struct APIFactsTests {
    @Test("writes", arguments: APIServerKind.enabled, writeFacts)
    func writes(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("reads, lists, watches", arguments: APIServerKind.enabled, readFacts)
    func reads(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("validation", arguments: APIServerKind.enabled, validationFacts)
    func validation(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("apply bodies are YAML", arguments: APIServerKind.enabled, yamlBodyFacts)
    func yamlBodies(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("malformed requests", arguments: APIServerKind.enabled, malformedFacts)
    func malformed(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("malformed requests: routes, methods, bodies", arguments: APIServerKind.enabled, malformedRequestFacts)
    func malformedRequests(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("apply bodies are YAML: go-yaml's own rules", arguments: APIServerKind.enabled, moreYAMLBodyFacts)
    func moreYAMLBodies(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("Secrets and their types", arguments: APIServerKind.enabled, secretTypeFacts)
    func secretTypes(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("what a list and a watch return", arguments: APIServerKind.enabled, listAndWatchFacts)
    func listsAndWatches(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    @Test("field managers", arguments: APIServerKind.enabled, fieldManagerFacts)
    func fieldManagers(_ server: APIServerKind, _ fact: APIFact) async throws { try await check(fact, on: server) }

    private func check(_ template: APIFact, on server: APIServerKind) async throws {
        let id = uniqueSuffix()
        let namespace = "facts-\(id)"
        let user = "system:serviceaccount:kube-system:facts-\(id)"
        let fact = template.filled(namespace: namespace, user: user, id: id)
        switch server {
        case .standIn: try await checkOnStandIn(fact, namespace: namespace, user: user)
        case .real: try await checkOnRealServer(fact, namespace: namespace, id: id)
        }
    }

    private func checkOnStandIn(_ fact: APIFact, namespace: String, user: String) async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: user, token: helperToken, rules: fact.rules)],
            namespaces: ["default", "kube-system", namespace])
        try await withServer(configuration) { server, client async throws in
            var fact = fact
            let version = try await arrange(fact, namespace: namespace) { method, path, body, contentType in
                let answer = try await client.send(method, path, token: server.adminToken, body: body, contentType: contentType)
                return FactAnswer(status: answer.status, text: answer.text)
            }
            fact.path = fact.path.replacingOccurrences(of: "{rv}", with: version)
            let token = fact.role == .invalidToken ? "not-a-known-token" : helperToken
            let answer =
                if fact.path.contains("watch=1") && fact.checks.isEmpty {
                    try await client.head(fact.method, fact.path, token: token)
                } else {
                    try await client.send(fact.method, fact.path, token: token, body: fact.body, contentType: fact.contentType)
                }
            expect(FactAnswer(status: answer.status, text: answer.text), fact)
        }
    }

    private func checkOnRealServer(_ fact: APIFact, namespace: String, id: String) async throws {
        let server = try #require(RealAPIServer.shared, "\(RealAPIServer.missingReason)")
        try await server.createNamespace(namespace)
        var token = "not-a-known-token"
        if fact.role != .invalidToken {
            token = try await server.makeIdentity(name: "facts-\(id)", rules: fact.rules).token
        }
        var fact = fact
        let version = try await arrange(fact, namespace: namespace) { method, path, body, contentType in
            let answer = try await server.send(method, path, body: body, contentType: contentType)
            return FactAnswer(status: answer.status, text: answer.text)
        }
        fact.path = fact.path.replacingOccurrences(of: "{rv}", with: version)
        let answer =
            if fact.path.contains("watch=1") && fact.checks.isEmpty {
                try await server.head(fact.method, fact.path, token: token)
            } else {
                try await server.send(fact.method, fact.path, token: token, body: fact.body, contentType: fact.contentType)
            }
        expect(FactAnswer(status: answer.status, text: answer.text), fact)
        try? await server.delete("namespaces", namespace: nil, name: namespace)
    }

    /// Puts the fact's existing secrets in place as admin, applied by the fact's field manager, then makes
    /// the fact's admin writes. Returns the last arranged secret's resourceVersion.
    private func arrange(
        _ fact: APIFact, namespace: String,
        send: (HTTPMethod, String, String?, String) async throws -> FactAnswer
    ) async throws -> String {
        var version = ""
        for name in fact.existing {
            let path = "/api/v1/namespaces/\(namespace)/secrets/\(name)?fieldManager=\(fact.appliedBy ?? "arrange")"
            let body = fact.arrangeBody?.replacingOccurrences(of: "{name}", with: name) ?? secretJSON(name)
            let answer = try await send(.PATCH, path, body, applyContentType)
            #expect(answer.status == 201, "arranging \(name): \(answer.text.prefix(500))")
            version = answer.json?["metadata"]?["resourceVersion"]?.stringValue ?? ""
        }
        for step in fact.thenAsAdmin {
            let answer = try await send(step.method, step.path, step.body, step.contentType)
            #expect((200..<300).contains(answer.status), "\(step.method) \(step.path): \(answer.text.prefix(500))")
        }
        return version
    }

    private func expect(_ answer: FactAnswer, _ fact: APIFact) {
        #expect(answer.status == fact.status, "\(answer.text.prefix(800))")
        if let reason = fact.reason {
            #expect(answer.reason == reason, "\(answer.text.prefix(800))")
            #expect(answer.json?["kind"]?.stringValue == "Status")
            #expect(answer.json?["code"]?.intValue == fact.status)
        }
        if let needle = fact.messageContains {
            #expect(answer.message?.contains(needle) == true, "\(answer.message ?? answer.text)")
        }
        if !fact.checks.isEmpty {
            let document = fact.path.contains("watch=1") ? answer.events : answer.json
            for check in fact.checks {
                #expect(check.holds(in: document), "\(check): \(answer.text.prefix(1500))")
            }
        }
    }
}
