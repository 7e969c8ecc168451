/// A cluster's own namespace selection, from annotations on its kubeconfig Secret:
///
/// | annotation | replaces |
/// |---|---|
/// | `aws-ecr-cred-helper/namespaces` | `NAMESPACES` |
/// | `aws-ecr-cred-helper/exclude-namespaces` | `EXCLUDE_NAMESPACES` |
/// | `aws-ecr-cred-helper/namespace-selector` | `NAMESPACE_SELECTOR` |
///
/// When any of them is present the three together replace the fleet's selection for that cluster (an
/// absent one is empty), so a cluster's selection reads whole from its Secret. Values follow the settings'
/// syntax and rules.
public struct NamespaceOverride: Sendable, Hashable {
    public static let namespacesAnnotation = "aws-ecr-cred-helper/namespaces"
    public static let excludeAnnotation = "aws-ecr-cred-helper/exclude-namespaces"
    public static let selectorAnnotation = "aws-ecr-cred-helper/namespace-selector"

    public var namespaces: String?
    public var excludeNamespaces: String?
    public var namespaceSelector: String?

    public init(namespaces: String? = nil, excludeNamespaces: String? = nil, namespaceSelector: String? = nil) {
        self.namespaces = namespaces
        self.excludeNamespaces = excludeNamespaces
        self.namespaceSelector = namespaceSelector
    }

    public init(annotations: [String: String]?) {
        self.init(
            namespaces: annotations?[Self.namespacesAnnotation],
            excludeNamespaces: annotations?[Self.excludeAnnotation],
            namespaceSelector: annotations?[Self.selectorAnnotation])
    }

    public var isEmpty: Bool { namespaces == nil && excludeNamespaces == nil && namespaceSelector == nil }

    /// The selection these values describe, or every problem with them (one line each, naming the
    /// annotation).
    public func selection() -> Result<NamespaceSelection, ConfigurationError> {
        var problems: [String] = []
        var include: [Glob] = []
        for name in Self.items(namespaces) {
            if KubernetesNames.isLabel(name) || (name.contains(where: { $0 == "*" || $0 == "?" }) && KubernetesNames.isNamespacePattern(name)) {
                if !include.contains(Glob(name)) { include.append(Glob(name)) }
            } else {
                problems.append("annotation \(Self.namespacesAnnotation): \"\(name)\" is not a valid namespace name or pattern")
            }
        }
        var exclude: [Glob] = []
        for name in Self.items(excludeNamespaces) {
            if KubernetesNames.isNamespacePattern(name) { exclude.append(Glob(name)) } else {
                problems.append("annotation \(Self.excludeAnnotation): \"\(name)\" is not a valid namespace name or pattern")
            }
        }
        var selector: LabelSelector?
        if let text = namespaceSelector, !text.allSatisfy(\.isWhitespace) {
            do { selector = try LabelSelector(parsing: text) } catch {
                problems.append("annotation \(Self.selectorAnnotation): \(error.description)")
            }
        }
        if problems.isEmpty, include.isEmpty, selector == nil {
            problems.append("annotation \(Self.namespacesAnnotation) is empty and there is no \(Self.selectorAnnotation): list the cluster's target namespaces, or remove the annotations to use the fleet's")
        }
        guard problems.isEmpty else { return .failure(ConfigurationError(problems: problems)) }
        return .success(NamespaceSelection(include: include, exclude: exclude, labelSelector: selector))
    }

    /// Space-, comma- or newline-separated items, as the settings read lists.
    static func items(_ text: String?) -> [String] {
        guard let text else { return [] }
        return text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" || $0 == "\r" }).map(String.init)
    }
}

/// The fleet's settings with one cluster's namespace selection in place of the fleet's.
public struct OverriddenSettingsSource: SettingsSource {
    public let base: any SettingsSource
    public let override: NamespaceOverride

    public init(base: any SettingsSource, override: NamespaceOverride) {
        self.base = base
        self.override = override
    }

    public func load() throws(ConfigurationError) -> HelperSettings {
        guard !override.isEmpty else { return try base.load() }
        var problems: [String] = []
        var selection: NamespaceSelection?
        switch override.selection() {
        case .success(let value): selection = value
        case .failure(let error): problems = error.problems
        }
        var settings: HelperSettings
        do {
            settings = try base.load()
        } catch {
            // The fleet's selection stays required: it is the default of every cluster without annotations.
            throw ConfigurationError(problems: error.problems + problems)
        }
        guard let selection, problems.isEmpty else { throw ConfigurationError(problems: problems) }
        settings.namespaces = selection
        return settings
    }

    public func fingerprint() -> String { base.fingerprint() }
}
