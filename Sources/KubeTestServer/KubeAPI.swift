#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The API server's behaviour, independent of the HTTP transport: authentication, RBAC, the REST verbs,
/// server-side apply, watches, discovery, injected faults and the request log.
final class KubeAPI: Sendable {
    let store: ObjectStore
    let users = UserDirectory()
    let faults = FaultBook()
    /// API Priority and Fairness for throttled users (off unless configured).
    let seats = SeatPool()
    let log: RequestLog
    let adminToken: String
    let bookmarkInterval: Duration
    let createsDefaultServiceAccounts: Bool
    let serverAddress: Mutex<String>

    init(configuration: KubeTestServerConfiguration, adminToken: String) {
        store = ObjectStore(historyLimit: configuration.watchHistoryLimit)
        log = RequestLog(limit: configuration.requestLogLimit)
        self.adminToken = adminToken
        bookmarkInterval = configuration.bookmarkInterval
        createsDefaultServiceAccounts = configuration.defaultServiceAccounts
        seats.configure(configuration.throttle)
        serverAddress = Mutex("\(configuration.host):\(configuration.port)")
        users.add(TestUser.admin(token: adminToken))
        for user in configuration.users { users.add(user) }
        for namespace in configuration.namespaces { createNamespace(namespace, labels: [:]) }
    }

    // MARK: Entry point

    /// Handles a request synchronously (on the connection's event loop). Only an injected delay needs to
    /// wait: then the answer is `.later`, and the caller waits and calls again with the faults already taken.
    func handle(_ request: HTTPRequestData, takenFaults: [Fault]? = nil, seated: Bool = false) -> Handling {
        let route = Route.parse(request.path)
        if case .admin(let segments) = route {
            return .reply(handleAdmin(segments, request))
        }
        let fired = takenFaults ?? faults.take(method: request.method, target: request.target)
        if takenFaults == nil {
            var delay = Duration.zero
            for case .delay(let duration) in fired { delay += duration }
            if delay > .zero { return .later(delay, fired) }
        }
        if !seated, case .resource = route, !Self.isWatch(request), seats.applies(to: authenticate(request)?.name) {
            return .seated(fired)
        }
        var record = RecordedRequest(
            method: request.method, path: request.path, query: request.query, verb: "", resource: "", namespace: nil,
            name: nil, user: nil, status: 0, contentType: request.header("Content-Type"),
            bodyEscapesSlash: RecordedRequest.escapesSlash(request.body))
        if case .resource(let resource) = route {
            record.resource = resource.kind.plural
            record.namespace = resource.namespace
            record.name = resource.name
            record.verb = verb(for: request, resource)
        }
        let reply = respond(request, route: route, faults: fired, record: &record)
        record.status = reply.statusCode
        log.append(record)
        return .reply(reply)
    }

    private func respond(
        _ request: HTTPRequestData, route: Route, faults: [Fault], record: inout RecordedRequest
    ) -> HTTPReply {
        record.user = authenticate(request)?.name
        for fault in faults {
            switch fault {
            case .delay: continue
            case .dropConnection: return .drop
            case .status(let code, let retryAfter): return .status(.injected(code, retryAfterSeconds: retryAfter))
            }
        }
        guard let user = authenticate(request) else { return .status(.unauthorized) }
        do throws(APIStatus) {
            switch route {
            case .version: return .json(200, Discovery.version)
            case .health: return .full(status: 200, headers: [("Content-Type", "text/plain")], body: Array("ok".utf8))
            case .apiVersions: return .json(200, Discovery.apiVersions(serverAddress: serverAddress.withLock { $0 }))
            case .apiGroups: return .json(200, Discovery.apiGroups)
            case .group(let name):
                guard let group = Discovery.group(name) else { throw APIStatus.pathNotFound() }
                return .json(200, group)
            case .resourceList(let group, let version):
                guard let list = Discovery.resourceList(group: group, version: version) else { throw APIStatus.pathNotFound() }
                return .json(200, list)
            case .resource(let resource):
                return try serve(request, resource, user: user, record: &record)
            case .admin, .notFound:
                throw APIStatus.pathNotFound()
            }
        } catch {
            return .status(error)
        }
    }

    /// A throttled request that got no seat: in the request log with its 429, like any answer.
    func recordRejection(_ request: HTTPRequestData) {
        var record = RecordedRequest(
            method: request.method, path: request.path, query: request.query, verb: "", resource: "", namespace: nil,
            name: nil, user: authenticate(request)?.name, status: 429, contentType: request.header("Content-Type"))
        if case .resource(let resource) = Route.parse(request.path) {
            record.resource = resource.kind.plural
            record.namespace = resource.namespace
            record.name = resource.name
            record.verb = verb(for: request, resource)
        }
        log.append(record)
    }

    static func isWatch(_ request: HTTPRequestData) -> Bool {
        QueryParameters(request.query).flag("watch") || request.path.contains("/watch/")
    }

    private func authenticate(_ request: HTTPRequestData) -> TestUser? {
        guard let header = request.header("Authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return users.user(forToken: String(parts[1]).trimmingSpaces)
    }

    private func verb(for request: HTTPRequestData, _ route: ResourceRoute) -> String {
        switch request.method {
        case "GET", "HEAD":
            if route.name != nil { return route.watchPath ? "watch" : "get" }
            return route.watchPath || QueryParameters(request.query).flag("watch") ? "watch" : "list"
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return route.name == nil ? "deletecollection" : "delete"
        default: return request.method.lowercased()
        }
    }

    // MARK: Resources

    private func serve(
        _ request: HTTPRequestData, _ route: ResourceRoute, user: TestUser, record: inout RecordedRequest
    ) throws(APIStatus) -> HTTPReply {
        let query = QueryParameters(request.query)
        let verb = record.verb
        let kind = route.kind
        if kind.namespaced, route.namespace == nil, route.name != nil { throw APIStatus.pathNotFound() }
        if route.subresource != nil { throw APIStatus.pathNotFound() }

        let selects = verb == "list" || verb == "watch" || verb == "deletecollection"
        // RBAC takes a list's object name from the field selector, but only when both selectors parse (the
        // real server decodes the list options as a whole): a bad label selector makes a name-limited
        // role's list Forbidden, and only an unlimited role gets to hear that the selector is bad.
        let parsedFields = selects ? query["fieldSelector"].map { try? FieldSelector(parsing: $0) } : nil
        let labelsParse = !selects || query["labelSelector"].map { (try? LabelSelector(parsing: $0)) != nil } ?? true
        let pinned = labelsParse ? (parsedFields ?? FieldSelector.everything)?.pinnedName : nil
        let rbacName = route.name ?? ((verb == "list" || verb == "watch") ? pinned : nil)
        if kind == .selfSubjectAccessReviews {
            guard verb == "create" else { throw APIStatus.methodNotAllowed(request.method) }
            return try selfSubjectAccessReview(request, user: user)
        }
        guard user.rules.allows(
            verb: verb, group: kind.group, resource: route.rbacResource, name: rbacName, namespace: route.namespace)
        else {
            throw APIStatus.forbidden(kind, verb: verb, user: user.name, namespace: route.namespace, name: rbacName)
        }
        try checkOptions(query, verb: verb)
        var labels = LabelSelector.everything
        var fields = FieldSelector.everything
        if selects {
            if let text = query["labelSelector"] { labels = try LabelSelector(parsing: text) }
            if let text = query["fieldSelector"] { fields = try FieldSelector(parsing: text) }
        }
        let namespace = kind.namespaced ? route.namespace ?? "" : ""
        switch verb {
        case "get":
            guard let stored = store.get(kind, namespace: namespace, name: route.name ?? "") else {
                throw APIStatus.notFound(kind, name: route.name ?? "")
            }
            return .json(200, stored.encoded.bytes)
        case "list":
            let (items, revision) = store.list(kind, namespace: route.namespace, labels: labels, fields: fields)
            let page = try ListPage.page(
                items, revision: revision, namespaced: kind.namespaced, limit: query["limit"], continueToken: query["continue"])
            return .json(200, Self.encodeList(kind, items: page.items, revision: page.revision, continueToken: page.continueToken))
        case "watch":
            return try watch(kind, route: route, query: query, labels: labels, fields: fields)
        case "create":
            guard route.name == nil else { throw APIStatus.methodNotAllowed(request.method) }
            return try create(kind, namespace: namespace, request: request, query: query)
        case "update" where route.name == nil, "patch" where route.name == nil:
            throw APIStatus.methodNotAllowed(request.method)
        case "update":
            return try replace(kind, namespace: namespace, name: route.name ?? "", request: request, query: query)
        case "patch":
            return try patch(kind, namespace: namespace, name: route.name ?? "", request: request, query: query, user: user)
        case "delete":
            return try delete(kind, namespace: namespace, name: route.name ?? "")
        case "deletecollection":
            guard kind != .namespaces else { throw APIStatus.methodNotAllowed(request.method) }
            let (items, _) = store.list(kind, namespace: route.namespace, labels: labels, fields: fields)
            var deleted: [StoredObject] = []
            for item in items {
                let itemNamespace = item.object["metadata"]?["namespace"]?.stringValue ?? ""
                if let outcome = try? store.write(kind, namespace: itemNamespace, name: item.name, { _, _ in .delete }) {
                    deleted.append(outcome.stored)
                }
            }
            return .json(200, Self.encodeList(kind, items: deleted, revision: store.currentRevision))
        default:
            throw APIStatus.methodNotAllowed(request.method)
        }
    }

    static func encodeList(_ kind: ResourceKind, items: [StoredObject], revision: UInt64, continueToken: String? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.reduce(128) { $0 + $1.encoded.bytes.count })
        bytes.append(contentsOf: #"{"apiVersion":""#.utf8)
        bytes.append(contentsOf: kind.apiVersion.utf8)
        bytes.append(contentsOf: #"","items":["#.utf8)
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            item.encoded.appendItem(to: &bytes)
        }
        bytes.append(contentsOf: #"],"kind":""#.utf8)
        bytes.append(contentsOf: kind.listKind.utf8)
        bytes.append(contentsOf: #"","metadata":{"#.utf8)
        if let continueToken {
            // The token holds namespace and object names only: nothing to escape in JSON.
            bytes.append(contentsOf: #""continue":""#.utf8)
            bytes.append(contentsOf: continueToken.utf8)
            bytes.append(contentsOf: #"","#.utf8)
        }
        bytes.append(contentsOf: #""resourceVersion":""#.utf8)
        bytes.append(contentsOf: String(revision).utf8)
        bytes.append(contentsOf: #""}}"#.utf8)
        return bytes
    }

    private func watch(
        _ kind: ResourceKind, route: ResourceRoute, query: QueryParameters, labels: LabelSelector, fields: FieldSelector
    ) throws(APIStatus) -> HTTPReply {
        var namespace = route.namespace
        if namespace == nil, kind.namespaced, let pinned = fields.pinnedNamespace { namespace = pinned }
        var fields = fields
        if let name = route.name {
            fields.requirements.append(.init(path: ["metadata", "name"], value: name, negated: false))
        }
        let filter = WatchFilter(kind: kind, namespace: namespace, labels: labels, fields: fields)
        var timeout: Duration?
        if let text = query["timeoutSeconds"], let seconds = Int(text), seconds > 0 { timeout = .seconds(seconds) }
        let bookmarks = query.flag("allowWatchBookmarks") ? bookmarkInterval : nil
        switch store.startWatch(filter, resourceVersion: query["resourceVersion"]) {
        case .started(let id, let stream, let continuation):
            return .watch(
                WatchSession(
                    id: id, stream: stream, continuation: continuation, kind: kind, bookmarkInterval: bookmarks,
                    timeout: timeout))
        case .expired(let status) where status.code == 410:
            // The real server answers 200 and sends the error as the stream's only event.
            let (stream, continuation) = AsyncStream.makeStream(of: WatchItem.self)
            var line: [UInt8] = Array(#"{"type":"ERROR","object":"#.utf8)
            line.append(contentsOf: status.json.jsonBytes)
            line.append(contentsOf: "}\n".utf8)
            continuation.yield(.line(line))
            continuation.finish()
            return .watch(
                WatchSession(id: nil, stream: stream, continuation: continuation, kind: kind, bookmarkInterval: nil, timeout: nil))
        case .expired(let status):
            throw status
        }
    }

    // MARK: Writes

    private func parseBody(_ request: HTTPRequestData) throws(APIStatus) -> JSONValue {
        let body: JSONValue
        do {
            body = try JSONValue(parsing: request.body)
        } catch {
            throw APIStatus.badRequest("the body of the request could not be decoded: \(error)")
        }
        guard case .object = body else { throw APIStatus.badRequest("the body of the request must be a JSON object") }
        return body
    }

    /// The query options the real server decodes and validates after authorization, before the handler:
    /// a `resourceVersion` must be a number (else a 500 without reason, as v1.19 answers), a
    /// `fieldManager` at most 128 bytes.
    private func checkOptions(_ query: QueryParameters, verb: String) throws(APIStatus) {
        if ["get", "list", "watch"].contains(verb), let version = query["resourceVersion"], !version.isEmpty, UInt64(version) == nil {
            throw APIStatus.internalError(
                "resourceVersion: Invalid value: \"\(version)\": strconv.ParseUint: parsing \"\(version)\": invalid syntax")
        }
        let options = ["create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"]
        if let type = options[verb], let manager = query["fieldManager"], manager.utf8.count > 128 {
            throw APIStatus.invalid(
                optionsKind: type, errors: [
                    APIStatus.FieldError(field: "fieldManager", reason: "FieldValueTooLong", message: "Too long: must have at most 128 bytes")
                ])
        }
    }

    /// A body of another kind than the URL's: the real decoder cannot convert it.
    private func checkKind(_ body: JSONValue, _ kind: ResourceKind) throws(APIStatus) {
        guard let given = body["kind"]?.stringValue, !given.isEmpty, given != kind.kind else { return }
        let version = body["apiVersion"]?.stringValue ?? kind.apiVersion
        let internalGroup = kind.group.isEmpty ? "core" : String(kind.group.split(separator: ".").first ?? "")
        throw APIStatus.badRequest(
            "\(given) in version \"\(version)\" cannot be handled as a \(kind.kind): converting (\(version).\(given)) to (\(internalGroup).\(kind.kind)): unknown conversion")
    }

    /// The field manager of a non-apply write: `fieldManager`, else the user agent up to its first `/`.
    private func updateManager(_ request: HTTPRequestData, _ query: QueryParameters) -> String {
        if let manager = query["fieldManager"], !manager.isEmpty { return manager }
        let agent = request.header("User-Agent") ?? ""
        let prefix = agent.split(separator: "/").first.map(String.init) ?? ""
        return prefix.isEmpty ? "unknown" : prefix
    }

    private func checkNamespace(_ body: JSONValue, _ kind: ResourceKind, namespace: String) throws(APIStatus) {
        guard kind.namespaced, let given = body["metadata"]?["namespace"]?.stringValue, !given.isEmpty else { return }
        if given != namespace {
            throw APIStatus.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
    }

    private func create(
        _ kind: ResourceKind, namespace: String, request: HTTPRequestData, query: QueryParameters
    ) throws(APIStatus) -> HTTPReply {
        var body = try parseBody(request)
        try checkKind(body, kind)
        try checkNamespace(body, kind, namespace: namespace)
        var name = body["metadata"]?["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = body["metadata"]?["generateName"]?.stringValue, !prefix.isEmpty {
            name = prefix + Self.randomSuffix()
            body["metadata"]?["name"] = .string(name)
        }
        guard !name.isEmpty else {
            throw APIStatus(
                code: 422, reason: "Invalid", message: "\(kind.kind) \"\" is invalid: metadata.name: Required value: name or generateName is required",
                details: ["kind": .string(kind.kind)])
        }
        body["metadata"]?["managedFields"] = nil
        let manager = updateManager(request, query)
        let outcome = try store.write(kind, namespace: namespace, name: name) { current, namespaceExists throws(APIStatus) in
            guard namespaceExists else { throw APIStatus.notFound(.namespaces, name: namespace) }
            guard current == nil else { throw APIStatus.alreadyExists(kind, name: name) }
            let object = try Normalizer.normalize(body, kind: kind, name: name, namespace: namespace, existing: nil)
            var ownership = FieldOwnership()
            ownership.update(from: nil, to: object, manager: manager)
            return .put(object, ownership)
        }
        if kind == .namespaces { namespaceCreated(name) }
        return .json(201, outcome.stored.encoded.bytes)
    }

    private func replace(
        _ kind: ResourceKind, namespace: String, name: String, request: HTTPRequestData, query: QueryParameters
    ) throws(APIStatus) -> HTTPReply {
        var body = try parseBody(request)
        try checkKind(body, kind)
        try checkNamespace(body, kind, namespace: namespace)
        if let given = body["metadata"]?["name"]?.stringValue, given != name {
            throw APIStatus.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        body["metadata"]?["managedFields"] = nil
        let manager = updateManager(request, query)
        let outcome = try store.write(kind, namespace: namespace, name: name) { current, _ throws(APIStatus) in
            guard let current else { throw APIStatus.notFound(kind, name: name) }
            if let expected = body["metadata"]?["resourceVersion"]?.stringValue, !expected.isEmpty,
                expected != String(current.revision)
            {
                throw APIStatus.conflict(kind, name: name)
            }
            let object = try Normalizer.normalize(body, kind: kind, name: name, namespace: namespace, existing: current.object)
            var ownership = current.ownership
            ownership.update(from: current.object, to: object, manager: manager)
            return .put(object, ownership)
        }
        return .json(200, outcome.stored.encoded.bytes)
    }

    private func patch(
        _ kind: ResourceKind, namespace: String, name: String, request: HTTPRequestData, query: QueryParameters,
        user: TestUser
    ) throws(APIStatus) -> HTTPReply {
        let contentType = (request.header("Content-Type") ?? "").split(separator: ";").first.map {
            String($0).trimmingSpaces.lowercased()
        } ?? ""
        switch contentType {
        case "application/apply-patch+yaml", "application/apply-patch+json":
            return try apply(kind, namespace: namespace, name: name, request: request, query: query, user: user)
        case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json":
            let body: JSONValue
            do {
                body = try JSONValue(parsing: request.body)
            } catch {
                // v1.19's merge patch path fails inside the patcher: a 500 without reason.
                if contentType == "application/merge-patch+json" { throw APIStatus.internalError("Invalid JSON Patch") }
                throw APIStatus.badRequest("the body of the request could not be decoded: \(error)")
            }
            let manager = updateManager(request, query)
            let isJSONPatch = contentType == "application/json-patch+json"
            let outcome = try store.write(kind, namespace: namespace, name: name) { current, _ throws(APIStatus) in
                guard let current else { throw APIStatus.notFound(kind, name: name) }
                var patched: JSONValue
                if isJSONPatch {
                    patched = try JSONPatch.apply(body, to: current.object)
                } else {
                    if let expected = body["metadata"]?["resourceVersion"]?.stringValue, expected != String(current.revision) {
                        throw APIStatus.conflict(kind, name: name)
                    }
                    patched = MergePatch.apply(body, to: current.object)
                }
                if let given = patched["metadata"]?["name"]?.stringValue, given != name {
                    throw APIStatus.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
                }
                patched["metadata"]?["managedFields"] = nil
                let object = try Normalizer.normalize(patched, kind: kind, name: name, namespace: namespace, existing: current.object)
                var ownership = current.ownership
                ownership.update(from: current.object, to: object, manager: manager)
                return .put(object, ownership)
            }
            return .json(200, outcome.stored.encoded.bytes)
        default:
            throw APIStatus.unsupportedMediaType(contentType)
        }
    }

    private func apply(
        _ kind: ResourceKind, namespace: String, name: String, request: HTTPRequestData, query: QueryParameters,
        user: TestUser
    ) throws(APIStatus) -> HTTPReply {
        guard let manager = query["fieldManager"], !manager.isEmpty else {
            throw APIStatus(
                code: 422, reason: "Invalid",
                message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        }
        let force = query.flag("force")
        var body = try ApplyBody.parse(request.body)
        try ApplyBody.checkType(body, kind)
        if let given = body["metadata"]?["name"]?.stringValue, given != name {
            throw APIStatus.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        try checkNamespace(body, kind, namespace: namespace)
        if let fields = body["metadata"]?["managedFields"], fields != .null, fields != .array([]) {
            throw APIStatus.badRequest("metadata.managedFields must be nil")
        }
        body["metadata"]?["resourceVersion"] = nil
        body["metadata"]?["managedFields"] = nil
        let outcome = try store.write(kind, namespace: namespace, name: name) { current, namespaceExists throws(APIStatus) in
            guard namespaceExists else { throw APIStatus.notFound(.namespaces, name: namespace) }
            if current == nil,
                !user.rules.allows(
                    verb: "create", group: kind.group, resource: kind.plural, name: name,
                    namespace: kind.namespaced ? namespace : nil)
            {
                throw APIStatus.applyCreateForbidden(kind, name: name)
            }
            var ownership = current?.ownership ?? FieldOwnership()
            let merged: JSONValue
            switch ownership.apply(body, over: current?.object, manager: manager, force: force) {
            case .success(let object): merged = object
            case .failure(let conflicts): throw conflicts.status(kind, name: name)
            }
            let object = try Normalizer.normalize(merged, kind: kind, name: name, namespace: namespace, existing: current?.object)
            return .put(object, ownership)
        }
        if outcome.created, kind == .namespaces { namespaceCreated(name) }
        return .json(outcome.created ? 201 : 200, outcome.stored.encoded.bytes)
    }

    private func delete(_ kind: ResourceKind, namespace: String, name: String) throws(APIStatus) -> HTTPReply {
        let outcome = try store.write(kind, namespace: namespace, name: name) { _, _ in .delete }
        if kind == .namespaces {
            var object = outcome.stored.object
            object["status"] = ["phase": "Terminating"]
            object["metadata"]?["deletionTimestamp"] = .string(Timestamp.now())
            return .json(200, object)
        }
        var details = APIStatus.details(kind, name: name)
        details["uid"] = outcome.stored.object["metadata"]?["uid"]
        return .json(200, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details])
    }

    private func selfSubjectAccessReview(_ request: HTTPRequestData, user: TestUser) throws(APIStatus) -> HTTPReply {
        var body = try parseBody(request)
        let allowed: Bool
        if let attributes = body["spec"]?["resourceAttributes"] {
            let resource = attributes["resource"]?.stringValue ?? ""
            let subresource = attributes["subresource"]?.stringValue ?? ""
            let name = attributes["name"]?.stringValue ?? ""
            let namespace = attributes["namespace"]?.stringValue ?? ""
            allowed = user.rules.allows(
                verb: attributes["verb"]?.stringValue ?? "", group: attributes["group"]?.stringValue ?? "",
                resource: subresource.isEmpty ? resource : "\(resource)/\(subresource)", name: name.isEmpty ? nil : name,
                namespace: namespace.isEmpty ? nil : namespace)
        } else {
            allowed = false
        }
        body["apiVersion"] = .string(ResourceKind.selfSubjectAccessReviews.apiVersion)
        body["kind"] = "SelfSubjectAccessReview"
        if body["metadata"] == nil { body["metadata"] = ["creationTimestamp": .null] }
        var status: JSONValue = ["allowed": .bool(allowed)]
        if allowed { status["reason"] = "allowed by the stand-in's RBAC rules" }
        body["status"] = status
        return .json(201, body)
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    // MARK: Direct state access

    func createNamespace(_ name: String, labels: [String: String]) {
        let labelObject = JSONValue.object(labels.mapValues { .string($0) })
        let body: JSONValue = ["metadata": ["name": .string(name), "labels": labelObject]]
        let outcome = try? store.write(.namespaces, namespace: "", name: name) { current, _ throws(APIStatus) in
            let object = try Normalizer.normalize(body, kind: .namespaces, name: name, namespace: "", existing: current?.object)
            return .put(object, current?.ownership ?? FieldOwnership())
        }
        if outcome?.created == true { namespaceCreated(name) }
    }

    /// What a cluster's controller manager does for a new namespace, when asked to behave like one.
    func namespaceCreated(_ name: String) {
        guard createsDefaultServiceAccounts, store.get(.serviceAccounts, namespace: name, name: "default") == nil else {
            return
        }
        _ = try? store.write(.serviceAccounts, namespace: name, name: "default") { current, _ throws(APIStatus) in
            guard current == nil else { throw APIStatus.alreadyExists(.serviceAccounts, name: "default") }
            return .put(["metadata": ["name": "default"]], FieldOwnership())
        }
    }
}
