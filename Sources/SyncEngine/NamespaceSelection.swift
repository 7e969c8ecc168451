/// Which namespaces receive the pull secret: an explicit list (the original helper's only mode, which needs
/// no access to namespaces), glob patterns, exclusions, and a label selector. Patterns and selectors need
/// list/watch on namespaces.
public struct NamespaceSelection: Sendable, Hashable {
    /// Names and patterns from NAMESPACES, in the user's order, without duplicates.
    public var include: [Glob]
    /// Patterns from EXCLUDE_NAMESPACES.
    public var exclude: [Glob]
    /// NAMESPACE_SELECTOR, passed to the API server as `labelSelector` and evaluated locally on watch events.
    public var labelSelector: LabelSelector?

    public init(include: [Glob], exclude: [Glob] = [], labelSelector: LabelSelector? = nil) {
        self.include = include
        self.exclude = exclude
        self.labelSelector = labelSelector
    }

    /// True when the selection is a plain list of names: then the helper never lists namespaces.
    public var isExplicitList: Bool { labelSelector == nil && include.allSatisfy(\.isLiteral) }

    /// The namespaces named literally (the whole selection when `isExplicitList`), minus exclusions.
    public var explicitNames: [String] {
        include.filter(\.isLiteral).map(\.pattern).filter { name in !exclude.contains { $0.matches(name) } }
    }

    /// The selection by name alone: no label selector. The stores keep only the namespaces it may include.
    public var names: NamespaceSelection { NamespaceSelection(include: include, exclude: exclude) }

    /// Whether a namespace of this name can be selected, whatever its labels. The stores keep only these, so
    /// what the helper holds follows its targets, not the size of the cluster.
    public func mayInclude(name: String) -> Bool {
        if exclude.contains(where: { $0.matches(name) }) { return false }
        return include.isEmpty || include.contains { $0.matches(name) }
    }

    /// Whether a namespace with this name and these labels is selected.
    public func selects(name: String, labels: [String: String]) -> Bool {
        guard mayInclude(name: name) else { return false }
        if let labelSelector, !labelSelector.matches(labels) { return false }
        // A selector alone (no NAMESPACES) selects every namespace it matches; nothing at all selects none.
        return !include.isEmpty || labelSelector != nil
    }
}
