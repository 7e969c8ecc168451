/// A resource type the stand-in serves, with what discovery reports about it.
struct ResourceKind: Sendable, Hashable {
    var group: String
    var version: String
    var plural: String
    var singular: String
    var kind: String
    var namespaced: Bool
    var shortNames: [String]
    var verbs: [String]

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `resource` or `resource.group`, as Status details and messages name it.
    var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }
    var listKind: String { kind + "List" }

    static let standardVerbs = ["create", "delete", "get", "list", "patch", "update", "watch"]

    static let namespaces = ResourceKind(
        group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false,
        shortNames: ["ns"], verbs: standardVerbs)
    static let secrets = ResourceKind(
        group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true,
        shortNames: [], verbs: standardVerbs + ["deletecollection"])
    static let serviceAccounts = ResourceKind(
        group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount",
        namespaced: true, shortNames: ["sa"], verbs: standardVerbs + ["deletecollection"])
    static let events = ResourceKind(
        group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true,
        shortNames: ["ev"], verbs: standardVerbs + ["deletecollection"])
    static let configMaps = ResourceKind(
        group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true,
        shortNames: ["cm"], verbs: standardVerbs + ["deletecollection"])
    static let leases = ResourceKind(
        group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease",
        namespaced: true, shortNames: [], verbs: standardVerbs + ["deletecollection"])
    static let selfSubjectAccessReviews = ResourceKind(
        group: "authorization.k8s.io", version: "v1", plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview", namespaced: false, shortNames: [],
        verbs: ["create"])

    /// Kinds whose objects are stored (SelfSubjectAccessReview is answered, never stored).
    static let stored: [ResourceKind] = [namespaces, secrets, serviceAccounts, events, configMaps, leases]
    static let all: [ResourceKind] = stored + [selfSubjectAccessReviews]

    static func find(group: String, version: String, plural: String) -> ResourceKind? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    static func stored(plural: String) -> ResourceKind? {
        stored.first { $0.plural == plural }
    }
}
