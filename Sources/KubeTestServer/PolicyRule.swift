/// One rule of a ClusterRole, with the RBAC matching rules of the real authorizer: `*` matches every group,
/// resource or verb, and an empty `resourceNames` matches every name (including requests without a name).
public struct PolicyRule: Sendable, Codable, Hashable {
    public var apiGroups: [String]
    public var resources: [String]
    public var verbs: [String]
    public var resourceNames: [String]
    /// nil: the rule holds everywhere (a ClusterRole bound by a ClusterRoleBinding). Otherwise it holds only
    /// for requests inside these namespaces (the same rules in a Role bound by RoleBindings there).
    public var namespaces: [String]?

    public init(apiGroups: [String] = [""], resources: [String], verbs: [String], resourceNames: [String] = []) {
        self.apiGroups = apiGroups
        self.resources = resources
        self.verbs = verbs
        self.resourceNames = resourceNames
        self.namespaces = nil
    }

    public init(
        apiGroups: [String] = [""], resources: [String], verbs: [String], resourceNames: [String] = [],
        namespaces: [String]?
    ) {
        self.init(apiGroups: apiGroups, resources: resources, verbs: verbs, resourceNames: resourceNames)
        self.namespaces = namespaces
    }

    enum CodingKeys: String, CodingKey { case apiGroups, resources, verbs, resourceNames, namespaces }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiGroups = try container.decodeIfPresent([String].self, forKey: .apiGroups) ?? [""]
        resources = try container.decodeIfPresent([String].self, forKey: .resources) ?? []
        verbs = try container.decodeIfPresent([String].self, forKey: .verbs) ?? []
        resourceNames = try container.decodeIfPresent([String].self, forKey: .resourceNames) ?? []
        namespaces = try container.decodeIfPresent([String].self, forKey: .namespaces)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiGroups, forKey: .apiGroups)
        try container.encode(resources, forKey: .resources)
        try container.encode(verbs, forKey: .verbs)
        if !resourceNames.isEmpty { try container.encode(resourceNames, forKey: .resourceNames) }
        try container.encodeIfPresent(namespaces, forKey: .namespaces)
    }

    /// Whether this rule allows `verb` on `resource` (e.g. "secrets" or "pods/log") in `group`, for the
    /// object `name` (nil when the request names no object) in `namespace` (nil: cluster scope).
    public func allows(verb: String, group: String, resource: String, name: String?, namespace: String? = nil) -> Bool {
        if let namespaces {
            guard let namespace, namespaces.contains(namespace) else { return false }
        }
        guard apiGroups.contains("*") || apiGroups.contains(group) else { return false }
        guard resources.contains("*") || resources.contains(resource) else { return false }
        guard verbs.contains("*") || verbs.contains(verb) else { return false }
        if resourceNames.isEmpty { return true }
        guard let name else { return false }
        return resourceNames.contains(name)
    }

    /// Every verb on every resource.
    public static let everything = PolicyRule(apiGroups: ["*"], resources: ["*"], verbs: ["*"])

    /// The original helper's ClusterRole: get/patch/watch/list on its one secret (by name), create on secrets.
    public static func originalHelperRole(secretName: String = "registry-aws-ecr") -> [PolicyRule] {
        [
            PolicyRule(resources: ["secrets"], verbs: ["get", "patch", "watch", "list"], resourceNames: [secretName]),
            PolicyRule(resources: ["secrets"], verbs: ["create"]),
        ]
    }
}

extension Array where Element == PolicyRule {
    func allows(verb: String, group: String, resource: String, name: String?, namespace: String?) -> Bool {
        contains { $0.allows(verb: verb, group: group, resource: resource, name: name, namespace: namespace) }
    }
}

/// A caller: bearer `token` authenticates as `name`, who may do what `rules` allow (cluster-wide, as with a
/// ClusterRoleBinding).
public struct TestUser: Sendable, Codable, Hashable {
    public var name: String
    public var token: String
    public var rules: [PolicyRule]

    public init(name: String, token: String, rules: [PolicyRule]) {
        self.name = name
        self.token = token
        self.rules = rules
    }

    /// A user allowed everything.
    public static func admin(name: String = "admin", token: String) -> TestUser {
        TestUser(name: name, token: token, rules: [.everything])
    }
}
