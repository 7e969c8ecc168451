import KubeTestServer
import NIOHTTP1
import Testing

/// The table in docs/…/kubernetes-api-facts.md (observed on a real kube-apiserver), replayed against the
/// stand-in over HTTPS: same status code, same `Status.reason`.
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
    /// Secrets in `default` before the request.
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
let applyQuery = "?fieldManager=x"

let writeFacts: [APIFact] = [
    APIFact(
        testDescription: "POST creates the secret", method: .POST, path: "/api/v1/namespaces/default/secrets",
        body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "the same POST again is AlreadyExists", existing: ["registry-aws-ecr"], method: .POST,
        path: "/api/v1/namespaces/default/secrets", body: secretJSON("registry-aws-ecr"), status: 409,
        reason: "AlreadyExists"),
    APIFact(
        testDescription: "POST of another name is allowed (create has no name)", method: .POST,
        path: "/api/v1/namespaces/default/secrets", body: secretJSON("something-else"), status: 201),
    APIFact(
        testDescription: "apply to an existing object", existing: ["registry-aws-ecr"], method: .PATCH,
        path: secretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 200),
    APIFact(
        testDescription: "apply creates a missing object when the role has create", method: .PATCH,
        path: secretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "apply to a missing object without create is Forbidden", role: .originalWithoutCreate,
        method: .PATCH, path: secretPath + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 403, reason: "Forbidden",
        messageContains: "secrets \"registry-aws-ecr\" is forbidden"),
    APIFact(
        testDescription: "apply creates with create limited to the name", role: .everyVerbLimitedToName, method: .PATCH,
        path: secretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 201),
    APIFact(
        testDescription: "apply by another manager changing an owned field is a Conflict", existing: ["registry-aws-ecr"],
        appliedBy: "x", method: .PATCH, path: secretPath + "?fieldManager=y", contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", data: ["k": "Y2hhbmdlZA=="]), status: 409, reason: "Conflict",
        messageContains: "Apply failed with 1 conflict: conflict with \"x\""),
    APIFact(
        testDescription: "the same apply with force=true takes the field", existing: ["registry-aws-ecr"], appliedBy: "x",
        method: .PATCH, path: secretPath + "?fieldManager=y&force=true", contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", data: ["k": "Y2hhbmdlZA=="]), status: 200),
    APIFact(
        testDescription: "merge patch on a missing object is NotFound", method: .PATCH, path: secretPath,
        contentType: "application/merge-patch+json", body: #"{"data":{"k":"dg=="}}"#, status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "apply to another name is Forbidden (patch)", method: .PATCH,
        path: "/api/v1/namespaces/default/secrets/other" + applyQuery, contentType: applyContentType,
        body: secretJSON("other"), status: 403, reason: "Forbidden",
        messageContains:
            #"secrets "other" is forbidden: User "helper" cannot patch resource "secrets" in API group "" in the namespace "default""#
    ),
    APIFact(
        testDescription: "apply into a missing namespace is NotFound", method: .PATCH,
        path: "/api/v1/namespaces/missing/secrets/registry-aws-ecr" + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 404, reason: "NotFound", messageContains: "namespaces \"missing\""),
    APIFact(
        testDescription: "an invalid token is Unauthorized", role: .invalidToken, method: .GET, path: secretPath,
        status: 401, reason: "Unauthorized"),
    APIFact(
        testDescription: "an invalid token on a write is Unauthorized", role: .invalidToken, method: .PATCH,
        path: secretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 401,
        reason: "Unauthorized"),
]

let readFacts: [APIFact] = [
    APIFact(
        testDescription: "GET the allowed name, present", existing: ["registry-aws-ecr"], method: .GET, path: secretPath,
        status: 200),
    APIFact(
        testDescription: "GET the allowed name, absent", method: .GET, path: secretPath, status: 404, reason: "NotFound"),
    APIFact(
        testDescription: "GET another secret is Forbidden", existing: ["other"], method: .GET,
        path: "/api/v1/namespaces/default/secrets/other", status: 403, reason: "Forbidden"),
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
        testDescription: "data that is not base64 is BadRequest", method: .POST, path: "/api/v1/namespaces/default/secrets",
        body: secretJSON("registry-aws-ecr", data: ["k": "not base64!"]), status: 400, reason: "BadRequest",
        messageContains: "illegal base64 data"),
    APIFact(
        testDescription: "changing type is Invalid (immutable)", existing: ["registry-aws-ecr"], appliedBy: "x",
        method: .PATCH, path: secretPath + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", type: "kubernetes.io/dockerconfigjson"), status: 422, reason: "Invalid",
        messageContains: "field is immutable"),
    APIFact(
        testDescription: "apply without fieldManager is BadRequest", method: .PATCH, path: secretPath,
        contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 400, reason: "BadRequest"),
    APIFact(
        testDescription: "PUT with a stale resourceVersion is a Conflict", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .PUT,
        path: secretPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","resourceVersion":"1"}}"#,
        status: 409, reason: "Conflict", messageContains: "the object has been modified"),
    APIFact(
        testDescription: "a dockerconfigjson secret without .dockerconfigjson is Invalid", method: .POST,
        path: "/api/v1/namespaces/default/secrets",
        body: secretJSON("registry-aws-ecr", type: "kubernetes.io/dockerconfigjson"), status: 422, reason: "Invalid",
        messageContains: "data[.dockerconfigjson]: Required value"),
    APIFact(
        testDescription: "a dockerconfigjson secret holding something else than JSON is Invalid", method: .POST,
        path: "/api/v1/namespaces/default/secrets",
        body: secretJSON("registry-aws-ecr", data: [".dockerconfigjson": "bm90IGpzb24="], type: "kubernetes.io/dockerconfigjson"),
        status: 422, reason: "Invalid", messageContains: "<secret contents redacted>"),
    APIFact(
        testDescription: "a valid dockerconfigjson secret is created", method: .POST,
        path: "/api/v1/namespaces/default/secrets",
        body: secretJSON("registry-aws-ecr", data: [".dockerconfigjson": "eyJhdXRocyI6e319"], type: "kubernetes.io/dockerconfigjson"),
        status: 201),
    APIFact(
        testDescription: "an event outside its object's namespace is Invalid", role: .everything, method: .POST,
        path: "/api/v1/namespaces/kube-system/events",
        body: #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"involvedObject":{"kind":"Secret","namespace":"default","name":"s"},"reason":"R","message":"m"}"#,
        status: 422, reason: "Invalid", messageContains: "does not match event.namespace"),
    APIFact(
        testDescription: "an event about a cluster-scoped object lives in default", role: .everything, method: .POST,
        path: "/api/v1/namespaces/default/events",
        body: #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"involvedObject":{"kind":"Namespace","name":"team-a"},"reason":"R","message":"m"}"#,
        status: 201),
    APIFact(
        testDescription: "PUT of a missing object is NotFound", role: .secretsEditor, method: .PUT, path: secretPath,
        body: secretJSON("registry-aws-ecr"), status: 404, reason: "NotFound"),
]

@Suite("Facts observed on a real kube-apiserver")
struct APIFactsTests {
    @Test("writes", arguments: writeFacts)
    func writes(_ fact: APIFact) async throws { try await check(fact) }

    @Test("reads, lists, watches", arguments: readFacts)
    func reads(_ fact: APIFact) async throws { try await check(fact) }

    @Test("validation", arguments: validationFacts)
    func validation(_ fact: APIFact) async throws { try await check(fact) }

    private func check(_ fact: APIFact) async throws {
        let configuration = KubeTestServerConfiguration(
            users: [TestUser(name: "helper", token: helperToken, rules: fact.rules)])
        try await withServer(configuration) { server, client async throws in
            for name in fact.existing {
                let path = "/api/v1/namespaces/default/secrets/\(name)?fieldManager=\(fact.appliedBy ?? "arrange")"
                let arranged = try await client.send(
                    .PATCH, path, token: server.adminToken, body: secretJSON(name), contentType: applyContentType)
                #expect(arranged.status == 201)
            }
            let token = fact.role == .invalidToken ? "not-a-known-token" : helperToken
            let answer: TestClient.Answer
            if fact.path.contains("watch=1") {
                answer = try await client.head(fact.method, fact.path, token: token)
            } else {
                answer = try await client.send(
                    fact.method, fact.path, token: token, body: fact.body, contentType: fact.contentType)
            }
            #expect(answer.status == fact.status, "\(answer.text)")
            if let reason = fact.reason {
                #expect(answer.reason == reason)
                #expect(answer.json?["kind"]?.stringValue == "Status")
                #expect(answer.json?["code"]?.intValue == fact.status)
            }
            if let needle = fact.messageContains {
                #expect(answer.message?.contains(needle) == true, "\(answer.message ?? "no message")")
            }
        }
    }
}
