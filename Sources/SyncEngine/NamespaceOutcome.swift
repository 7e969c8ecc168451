/// What happened to one namespace in a sync.
public enum NamespaceOutcome: Sendable, Hashable {
    /// The secret was created or updated.
    case written
    /// The secret already held the current token: nothing was sent.
    case unchanged
    /// A secret of that name but another type exists; it belongs to someone else and was left alone.
    case foreign(type: String)
    /// Our kind of secret, labelled with another installation (`aws-ecr-cred-helper/instance`): theirs, left alone.
    case otherInstallation(String)
    /// The write failed; `reason` is one line naming the cause and the fix.
    case failed(reason: String, retryable: Bool)

    public var isSuccess: Bool {
        switch self {
        case .written, .unchanged: true
        case .foreign, .otherInstallation, .failed: false
        }
    }

    public var label: String {
        switch self {
        case .written: "written"
        case .unchanged: "unchanged"
        case .foreign, .otherInstallation: "foreign"
        case .failed: "failed"
        }
    }
}

/// The result of one pass over the target namespaces.
public struct SyncReport: Sendable {
    public var outcomes: [String: NamespaceOutcome]
    public var login: RegistryLogin?

    public init(outcomes: [String: NamespaceOutcome] = [:], login: RegistryLogin? = nil) {
        self.outcomes = outcomes
        self.login = login
    }

    public var succeeded: [String] { outcomes.filter { $0.value.isSuccess }.keys.sorted() }
    public var failed: [String] { outcomes.filter { !$0.value.isSuccess }.keys.sorted() }
    public var written: Int { outcomes.values.filter { $0 == .written }.count }
    public var unchanged: Int { outcomes.values.filter { $0 == .unchanged }.count }
    public var allSucceeded: Bool { outcomes.values.allSatisfy(\.isSuccess) }

    /// One line per namespace that is not fine, for `sync`'s exit summary and logs.
    /// The problems in one bounded line for the pass summary: each distinct cause once, with how many
    /// namespaces have it and a few of their names, most common first; at most `causes` causes. A pass over
    /// thousands of failing namespaces thus logs one short line (each namespace's own line is `sync`'s job).
    public func problemSummary(causes: Int = 3, names: Int = 3) -> String {
        var byCause: [String: [String]] = [:]
        for (namespace, outcome) in outcomes {
            switch outcome {
            case .written, .unchanged: continue
            case let .foreign(type): byCause["a secret of that name with type \(type) exists and is not ours", default: []].append(namespace)
            case let .otherInstallation(other): byCause["the secret belongs to installation \(other)", default: []].append(namespace)
            case let .failed(reason, _): byCause[reason, default: []].append(namespace)
            }
        }
        let ranked = byCause.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
        var parts = ranked.prefix(causes).map { cause, namespaces in
            let sorted = namespaces.sorted()
            let shown = sorted.prefix(names).joined(separator: ", ") + (sorted.count > names ? ", …" : "")
            return "\(cause) (\(sorted.count) namespace\(sorted.count == 1 ? "" : "s"): \(shown))"
        }
        if ranked.count > causes { parts.append("\(ranked.count - causes) more causes") }
        return parts.joined(separator: "; ")
    }

    public var problemLines: [String] {
        outcomes.sorted { $0.key < $1.key }.compactMap { namespace, outcome in outcome.problem(in: namespace) }
    }
}

extension NamespaceOutcome {
    /// One line saying what is wrong in `namespace` and what to do; nil when nothing is.
    public func problem(in namespace: String) -> String? {
        switch self {
        case .written, .unchanged: nil
        case let .foreign(type):
            "\(namespace): a secret of that name with type \(type) already exists and is not ours; left alone (rename SECRET_NAME or delete that secret)"
        case let .otherInstallation(other):
            "\(namespace): the secret belongs to another installation of the helper (\(Installation.labelKey)=\(other)); left alone (serve this namespace from one installation only, or use another SECRET_NAME; if that is this installation run elsewhere, give it the same INSTANCE)"
        case let .failed(reason, _): "\(namespace): \(reason)"
        }
    }
}
