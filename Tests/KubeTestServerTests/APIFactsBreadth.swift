import KubeTestServer
import NIOHTTP1

// More facts observed on kube-apiserver v1.19 (request by request with curl as admin, then replayed here
// under the facts' own identities on both servers): the routes and bodies a client gets wrong, the Secret
// types' own validation, what a list and a watch hold, and what field managers record.

/// A write a fact makes as admin after arranging its secrets.
struct AdminStep: Sendable {
    var method: HTTPMethod
    var path: String
    var contentType: String
    var body: String?

    init(_ method: HTTPMethod, _ path: String, contentType: String = "application/json", body: String? = nil) {
        self.method = method
        self.path = path
        self.contentType = contentType
        self.body = body
    }
}

/// One thing an answer's JSON holds, at a `/`-separated path of keys and array indices.
struct JSONCheck: Sendable, CustomStringConvertible {
    enum Expectation: Sendable {
        case equals(String)
        case present
        case absent

        func filled(_ fill: (String) -> String) -> Expectation {
            if case .equals(let value) = self { return .equals(fill(value)) }
            return self
        }
    }

    var path: String
    var expectation: Expectation

    init(_ path: String, _ expectation: Expectation) {
        self.path = path
        self.expectation = expectation
    }

    static func value(_ path: String, _ value: String) -> JSONCheck { JSONCheck(path, .equals(value)) }
    static func present(_ path: String) -> JSONCheck { JSONCheck(path, .present) }
    static func absent(_ path: String) -> JSONCheck { JSONCheck(path, .absent) }

    var description: String { "\(path) \(expectation)" }

    func holds(in document: JSONValue?) -> Bool {
        var node = document
        for part in path.split(separator: "/").map(String.init) {
            if let index = Int(part), case .array = node { node = node?[index] } else { node = node?[part] }
        }
        switch expectation {
        case .absent: return node == nil || node == .null
        case .present: return node != nil && node != .null
        case .equals(let expected):
            guard let node else { return false }
            let text = node.stringValue ?? node.intValue.map(String.init) ?? node.boolValue.map(String.init)
            return text == expected
        }
    }
}

private let secretsPath = "/api/v1/namespaces/{ns}/secrets"
private let nameSelector = "fieldSelector=metadata.name%3Dregistry-aws-ecr"
private let tooLongManager = String(repeating: "m", count: 129)

/// More of what go-yaml (sigs.k8s.io/yaml over yaml.v2) makes of an apply body: YAML features a JSON
/// encoder never writes but a person or another tool does, and the JSON a YAML parser does not take.
let moreYAMLBodyFacts: [APIFact] = [
    APIFact(
        testDescription: "a JSON surrogate pair escape is BadRequest (go-yaml takes no surrogates)", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","annotations":{"e":"\ud83d\ude00"}}}"#,
        status: 400, reason: "BadRequest", messageContains: "yaml: found invalid Unicode character escape code"),
    APIFact(
        testDescription: "a YAML-only escape (\\x41) is applied", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","annotations":{"e":"\x41"}}}"#,
        status: 201, checks: [.value("metadata/annotations/e", "A")]),
    APIFact(
        testDescription: "an unknown escape in block YAML names its line", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n  labels: {a: \"\\z\"}\n", status: 400,
        reason: "BadRequest", messageContains: "error converting YAML to JSON: yaml: line 5: found unknown escape character"),
    APIFact(
        testDescription: "a duplicate key is accepted, the last one wins", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","labels":{"a":"1","a":"2"}}}"#,
        status: 201, checks: [.value("metadata/labels/a", "2")]),
    APIFact(
        testDescription: "anchors and aliases are resolved", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n  labels: &l {a: \"1\"}\n  annotations: *l\n",
        status: 201, checks: [.value("metadata/labels/a", "1"), .value("metadata/annotations/a", "1")]),
    APIFact(
        testDescription: "comments are ignored", method: .PATCH, path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "# the helper's secret\napiVersion: v1 # core\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n", status: 201),
    APIFact(
        testDescription: "of several documents only the first is applied", method: .PATCH, path: factSecretPath + applyQuery,
        contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n",
        status: 201, checks: [.value("metadata/name", "registry-aws-ecr")]),
    APIFact(
        testDescription: "an unquoted yes is a boolean, not a string: a 500 without reason", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n  labels:\n    a: yes\n", status: 500,
        messageContains: "failed to create typed patch object: .metadata.labels.a: expected string"),
    APIFact(
        testDescription: "an unquoted number where a string belongs: a 500 without reason", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType,
        body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-aws-ecr\n  labels:\n    a: 1\n", status: 500,
        messageContains: "failed to create typed patch object: .metadata.labels.a: expected string"),
]

/// Routes, methods and bodies a client gets wrong.
let malformedRequestFacts: [APIFact] = [
    APIFact(
        testDescription: "an unknown resource is NotFound", role: .everything, method: .GET,
        path: "/api/v1/namespaces/{ns}/nosuchthings", status: 404, reason: "NotFound",
        messageContains: "the server could not find the requested resource"),
    APIFact(
        testDescription: "PATCH on a collection is MethodNotAllowed", role: .everything, method: .PATCH, path: secretsPath,
        contentType: "application/merge-patch+json", body: "{}", status: 405, reason: "MethodNotAllowed",
        messageContains: "the server does not allow this method on the requested resource"),
    APIFact(
        testDescription: "POST on an object is MethodNotAllowed", role: .everything, method: .POST, path: factSecretPath,
        body: "{}", status: 405, reason: "MethodNotAllowed"),
    APIFact(
        testDescription: "PUT of a body naming another object is BadRequest", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .PUT, path: factSecretPath, body: secretJSON("other"), status: 400,
        reason: "BadRequest", messageContains: "the name of the object (other) does not match the name on the URL (registry-aws-ecr)"),
    APIFact(
        testDescription: "POST into a missing namespace is NotFound", method: .POST,
        path: "/api/v1/namespaces/missing-{id}/secrets", body: secretJSON("registry-aws-ecr"), status: 404,
        reason: "NotFound", messageContains: "namespaces \"missing-{id}\" not found"),
    APIFact(
        testDescription: "POST without a name is Invalid", method: .POST, path: secretsPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{}}"#, status: 422, reason: "Invalid",
        messageContains: "metadata.name: Required value: name or generateName is required"),
    APIFact(
        testDescription: "POST of another kind's body is BadRequest", method: .POST, path: secretsPath,
        body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"registry-aws-ecr"}}"#, status: 400,
        reason: "BadRequest", messageContains: "cannot be handled as a Secret"),
    APIFact(
        testDescription: "a JSON patch that is not an array is BadRequest", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .PATCH, path: factSecretPath, contentType: "application/json-patch+json",
        body: "{}", status: 400, reason: "BadRequest", messageContains: "cannot unmarshal object into Go value of type jsonpatch.Patch"),
    APIFact(
        testDescription: "a JSON patch whose test fails is Invalid", role: .secretsEditor, existing: ["registry-aws-ecr"],
        method: .PATCH, path: factSecretPath, contentType: "application/json-patch+json",
        body: #"[{"op":"test","path":"/type","value":"x"}]"#, status: 422, reason: "Invalid",
        messageContains: "the server rejected our request due to an error in our request"),
    APIFact(
        testDescription: "a merge patch that is not JSON is a 500 without reason", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .PATCH, path: factSecretPath, contentType: "application/merge-patch+json",
        body: "{nope", status: 500, messageContains: "Invalid JSON Patch"),
    APIFact(
        testDescription: "a resourceVersion that is not a number is a 500 without reason (list)", method: .GET,
        path: secretsPath + "?" + nameSelector + "&resourceVersion=abc", status: 500,
        messageContains: #"resourceVersion: Invalid value: "abc""#),
    APIFact(
        testDescription: "a resourceVersion that is not a number is a 500 without reason (watch)", method: .GET,
        path: secretsPath + "?watch=1&" + nameSelector + "&resourceVersion=abc", status: 500,
        messageContains: #"resourceVersion: Invalid value: "abc""#),
]

private func typedSecret(_ type: String, data: String = "{}", extra: String = "") -> String {
    #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr"},"type":"\#(type)","data":\#(data)\#(extra)}"#
}

private let immutableSecret = #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"{name}"},"immutable":true,"data":{"k":"dg=="}}"#

/// The validation of Secrets beyond their names: each type's required keys, `immutable`, `stringData`,
/// label keys.
let secretTypeFacts: [APIFact] = [
    APIFact(
        testDescription: "a TLS secret without tls.key is Invalid", method: .POST, path: secretsPath,
        body: typedSecret("kubernetes.io/tls", data: #"{"tls.crt":"dg=="}"#), status: 422, reason: "Invalid",
        messageContains: #"Secret "registry-aws-ecr" is invalid: data[tls.key]: Required value"#),
    APIFact(
        testDescription: "a TLS secret without either key names both", method: .POST, path: secretsPath,
        body: typedSecret("kubernetes.io/tls"), status: 422, reason: "Invalid",
        messageContains: "is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]"),
    APIFact(
        testDescription: "a TLS secret with both keys is created", method: .POST, path: secretsPath,
        body: typedSecret("kubernetes.io/tls", data: #"{"tls.crt":"dg==","tls.key":"dg=="}"#), status: 201,
        checks: [.value("type", "kubernetes.io/tls")]),
    APIFact(
        testDescription: "a basic-auth secret without username and password is Invalid (with v1.19's odd path)",
        method: .POST, path: secretsPath, body: typedSecret("kubernetes.io/basic-auth"), status: 422, reason: "Invalid",
        messageContains: "is invalid: [data[%s][username]: Required value, data[%s][password]: Required value]"),
    APIFact(
        testDescription: "a basic-auth secret with only a username from stringData is created", method: .POST,
        path: secretsPath, body: typedSecret("kubernetes.io/basic-auth", extra: #","stringData":{"username":"u"}"#),
        status: 201, checks: [.value("data/username", "dQ=="), .absent("stringData")]),
    APIFact(
        testDescription: "an ssh-auth secret with an empty key is Invalid", method: .POST, path: secretsPath,
        body: typedSecret("kubernetes.io/ssh-auth", data: #"{"ssh-privatekey":""}"#), status: 422, reason: "Invalid",
        messageContains: "is invalid: data[%s][ssh-privatekey]: Required value"),
    APIFact(
        testDescription: "a service-account-token secret without its annotation is Invalid", method: .POST,
        path: secretsPath, body: typedSecret("kubernetes.io/service-account-token"), status: 422, reason: "Invalid",
        messageContains: "is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value"),
    APIFact(
        testDescription: "a dockercfg secret without .dockercfg is Invalid", method: .POST, path: secretsPath,
        body: typedSecret("kubernetes.io/dockercfg"), status: 422, reason: "Invalid",
        messageContains: "is invalid: data[.dockercfg]: Required value"),
    APIFact(
        testDescription: "a type of one's own is accepted as it is, without data", method: .POST, path: secretsPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr"},"type":"example.com/custom"}"#,
        status: 201, checks: [.value("type", "example.com/custom"), .absent("data")]),
    APIFact(
        testDescription: "stringData is merged into data and not stored", method: .POST, path: secretsPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr"},"data":{"k":"dg=="},"stringData":{"j":"v"}}"#,
        status: 201, checks: [.value("data/k", "dg=="), .value("data/j", "dg=="), .absent("stringData"), .value("type", "Opaque")]),
    APIFact(
        testDescription: "an immutable secret's data cannot change", role: .secretsEditor, existing: ["registry-aws-ecr"],
        method: .PATCH, path: factSecretPath, contentType: "application/merge-patch+json", body: #"{"data":{"k":"dzI="}}"#,
        status: 422, reason: "Invalid", messageContains: "is invalid: data: Forbidden: field is immutable when `immutable` is set",
        arrangeBody: immutableSecret),
    APIFact(
        testDescription: "an immutable secret cannot become mutable", role: .secretsEditor, existing: ["registry-aws-ecr"],
        method: .PATCH, path: factSecretPath, contentType: "application/merge-patch+json", body: #"{"immutable":false}"#,
        status: 422, reason: "Invalid", messageContains: "is invalid: immutable: Forbidden: field is immutable when `immutable` is set",
        arrangeBody: immutableSecret),
    APIFact(
        testDescription: "an immutable secret's labels can change", role: .secretsEditor, existing: ["registry-aws-ecr"],
        method: .PATCH, path: factSecretPath, contentType: "application/merge-patch+json",
        body: #"{"metadata":{"labels":{"a":"b"}}}"#, status: 200, arrangeBody: immutableSecret,
        checks: [.value("metadata/labels/a", "b"), .value("immutable", "true")]),
    APIFact(
        testDescription: "a label key that is not a qualified name is Invalid", method: .POST, path: secretsPath,
        body: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"registry-aws-ecr","labels":{"-bad":"x"}}}"#,
        status: 422, reason: "Invalid",
        messageContains: #"metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters"#),
]

/// What a list and a watch hold (by name: a real namespace also holds its ServiceAccount's token secret).
let listAndWatchFacts: [APIFact] = [
    APIFact(
        testDescription: "a LIST is a SecretList whose items carry no kind", existing: ["registry-aws-ecr"], method: .GET,
        path: secretsPath + "?" + nameSelector, status: 200,
        checks: [
            .value("kind", "SecretList"), .value("apiVersion", "v1"), .present("metadata/resourceVersion"),
            .value("items/0/metadata/name", "registry-aws-ecr"), .value("items/0/metadata/namespace", "{ns}"),
            .present("items/0/metadata/uid"), .present("items/0/metadata/resourceVersion"),
            .value("items/0/data/k", "dg=="), .absent("items/0/kind"), .absent("items/0/apiVersion"), .absent("items/1"),
        ]),
    APIFact(
        testDescription: "a LIST matching nothing has an empty items array", method: .GET,
        path: secretsPath + "?" + nameSelector, status: 200,
        checks: [.value("kind", "SecretList"), .present("items"), .absent("items/0")]),
    APIFact(
        testDescription: "a WATCH starts with ADDED for what exists, objects with kind", existing: ["registry-aws-ecr"],
        method: .GET, path: secretsPath + "?watch=1&timeoutSeconds=1&" + nameSelector, status: 200,
        checks: [
            .value("0/type", "ADDED"), .value("0/object/kind", "Secret"), .value("0/object/apiVersion", "v1"),
            .value("0/object/metadata/name", "registry-aws-ecr"), .value("0/object/data/k", "dg=="), .absent("1"),
        ]),
    APIFact(
        testDescription: "a WATCH from a resourceVersion replays MODIFIED then DELETED, with the last state",
        existing: ["registry-aws-ecr"], method: .GET,
        path: secretsPath + "?watch=1&timeoutSeconds=1&resourceVersion={rv}&" + nameSelector, status: 200,
        thenAsAdmin: [
            AdminStep(.PATCH, factSecretPath, contentType: "application/merge-patch+json", body: #"{"data":{"k":"dzI="}}"#),
            AdminStep(.DELETE, factSecretPath),
        ],
        checks: [
            .value("0/type", "MODIFIED"), .value("0/object/kind", "Secret"), .value("0/object/data/k", "dzI="),
            .value("1/type", "DELETED"), .value("1/object/kind", "Secret"), .value("1/object/metadata/name", "registry-aws-ecr"),
            .value("1/object/data/k", "dzI="), .absent("1/object/metadata/deletionTimestamp"), .absent("2"),
        ]),
    APIFact(
        testDescription: "a WATCH from resourceVersion 0 starts with ADDED for what exists", existing: ["registry-aws-ecr"],
        method: .GET, path: secretsPath + "?watch=1&timeoutSeconds=1&resourceVersion=0&" + nameSelector, status: 200,
        checks: [.value("0/type", "ADDED"), .value("0/object/metadata/name", "registry-aws-ecr"), .absent("1")]),
    APIFact(
        testDescription: "a WATCH whose label selector matches nothing sends no event", role: .secretsEditor,
        existing: ["registry-aws-ecr"], method: .GET, path: secretsPath + "?watch=1&timeoutSeconds=1&labelSelector=a%3Db",
        status: 200, checks: [.absent("0")]),
    APIFact(
        testDescription: "a GET has kind, apiVersion and the server's metadata", existing: ["registry-aws-ecr"], method: .GET,
        path: factSecretPath, status: 200,
        checks: [
            .value("kind", "Secret"), .value("apiVersion", "v1"), .present("metadata/uid"),
            .present("metadata/creationTimestamp"), .present("metadata/resourceVersion"), .value("type", "Opaque"),
        ]),
]

/// What server-side apply and the other writes record as field managers.
let fieldManagerFacts: [APIFact] = [
    APIFact(
        testDescription: "an apply records its manager, operation Apply and the fields it set", method: .PATCH,
        path: factSecretPath + applyQuery, contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 201,
        checks: [
            .value("metadata/managedFields/0/manager", "x"), .value("metadata/managedFields/0/operation", "Apply"),
            .value("metadata/managedFields/0/apiVersion", "v1"), .value("metadata/managedFields/0/fieldsType", "FieldsV1"),
            .present("metadata/managedFields/0/fieldsV1/f:data/f:k"), .present("metadata/managedFields/0/time"),
            .absent("metadata/managedFields/1"),
        ]),
    APIFact(
        testDescription: "a field its manager stops applying is removed", existing: ["registry-aws-ecr"], appliedBy: "x",
        method: .PATCH, path: factSecretPath + applyQuery, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr", data: ["j": "dg=="]), status: 200,
        checks: [.absent("data/k"), .value("data/j", "dg==")]),
    APIFact(
        testDescription: "another manager applying the same value shares the field, no conflict",
        existing: ["registry-aws-ecr"], appliedBy: "x", method: .PATCH, path: factSecretPath + "?fieldManager=y",
        contentType: applyContentType, body: secretJSON("registry-aws-ecr"), status: 200,
        checks: [.present("metadata/managedFields/1")]),
    APIFact(
        testDescription: "a merge patch is recorded as an Update by its fieldManager", role: .secretsEditor,
        existing: ["registry-aws-ecr"], appliedBy: "x", method: .PATCH, path: factSecretPath + "?fieldManager=y",
        contentType: "application/merge-patch+json", body: #"{"data":{"j":"dg=="}}"#, status: 200,
        checks: [
            .value("metadata/managedFields/0/manager", "x"), .value("metadata/managedFields/0/operation", "Apply"),
            .value("metadata/managedFields/1/manager", "y"), .value("metadata/managedFields/1/operation", "Update"),
            .present("metadata/managedFields/1/fieldsV1/f:data/f:j"),
        ]),
    APIFact(
        testDescription: "an apply with a fieldManager over 128 bytes is Invalid", method: .PATCH,
        path: factSecretPath + "?fieldManager=" + tooLongManager, contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 422, reason: "Invalid",
        messageContains: #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: must have at most 128 bytes"#),
    APIFact(
        testDescription: "a create with a fieldManager over 128 bytes is Invalid", method: .POST,
        path: secretsPath + "?fieldManager=" + tooLongManager, body: secretJSON("registry-aws-ecr"), status: 422,
        reason: "Invalid",
        messageContains: #"CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: must have at most 128 bytes"#),
    APIFact(
        testDescription: "a fieldManager of exactly 128 bytes is fine", method: .PATCH,
        path: factSecretPath + "?fieldManager=" + String(repeating: "m", count: 128), contentType: applyContentType,
        body: secretJSON("registry-aws-ecr"), status: 201),
]
