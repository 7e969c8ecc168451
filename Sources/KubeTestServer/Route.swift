/// Where a request path points.
enum Route: Sendable {
    case version
    case health
    case apiVersions
    case apiGroups
    case group(String)
    case resourceList(group: String, version: String)
    case resource(ResourceRoute)
    case admin([String])
    case notFound
}

/// A request for a resource (or a collection of one), with what RBAC needs to know.
struct ResourceRoute: Sendable {
    var kind: ResourceKind
    /// nil: a cluster-scoped object, or every namespace for a list/watch.
    var namespace: String?
    var name: String?
    var subresource: String?
    /// The legacy `/api/v1/watch/...` form.
    var watchPath: Bool

    var rbacResource: String { subresource.map { "\(kind.plural)/\($0)" } ?? kind.plural }
}

extension Route {
    static func parse(_ path: String) -> Route {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = segments.first else { return .notFound }
        switch first {
        case "version": return segments.count == 1 ? .version : .notFound
        case "healthz", "readyz", "livez": return .health
        case "_test": return .admin(Array(segments.dropFirst()))
        case "api":
            if segments.count == 1 { return .apiVersions }
            guard segments[1] == "v1" else { return .notFound }
            if segments.count == 2 { return .resourceList(group: "", version: "v1") }
            return resource(group: "", version: "v1", Array(segments.dropFirst(2)))
        case "apis":
            if segments.count == 1 { return .apiGroups }
            if segments.count == 2 { return .group(segments[1]) }
            if segments.count == 3 { return .resourceList(group: segments[1], version: segments[2]) }
            return resource(group: segments[1], version: segments[2], Array(segments.dropFirst(3)))
        default: return .notFound
        }
    }

    private static func resource(group: String, version: String, _ rest: [String]) -> Route {
        var rest = rest
        var watchPath = false
        if rest.first == "watch" {
            watchPath = true
            rest.removeFirst()
        }
        func make(_ plural: String, namespace: String?, name: String?, subresource: String?) -> Route {
            guard let kind = ResourceKind.find(group: group, version: version, plural: plural) else { return .notFound }
            if namespace != nil, !kind.namespaced { return .notFound }
            return .resource(
                ResourceRoute(kind: kind, namespace: namespace, name: name, subresource: subresource, watchPath: watchPath))
        }
        switch rest.count {
        case 1: return make(rest[0], namespace: nil, name: nil, subresource: nil)
        case 2 where rest[0] != "namespaces" || group != "":
            return make(rest[0], namespace: nil, name: rest[1], subresource: nil)
        case 2: return make("namespaces", namespace: nil, name: rest[1], subresource: nil)
        case 3 where rest[0] == "namespaces" && group == "" && ["status", "finalize"].contains(rest[2]):
            return make("namespaces", namespace: nil, name: rest[1], subresource: rest[2])
        case 3 where rest[0] == "namespaces": return make(rest[2], namespace: rest[1], name: nil, subresource: nil)
        case 3: return make(rest[0], namespace: nil, name: rest[1], subresource: rest[2])
        case 4 where rest[0] == "namespaces": return make(rest[2], namespace: rest[1], name: rest[3], subresource: nil)
        case 5 where rest[0] == "namespaces":
            return make(rest[2], namespace: rest[1], name: rest[3], subresource: rest[4])
        default: return .notFound
        }
    }
}

/// Query parameters, percent-decoded the way Go's `url.ParseQuery` does (`+` is a space).
struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ query: String) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(String(parts[0]))
            let value = parts.count > 1 ? Self.decode(String(parts[1])) : ""
            if values[key] == nil { values[key] = value }
        }
    }

    subscript(key: String) -> String? { values[key] }

    func flag(_ key: String) -> Bool {
        guard let value = values[key] else { return false }
        return value == "1" || value.lowercased() == "true"
    }

    static func decode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
