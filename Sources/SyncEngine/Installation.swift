import Crypto

/// Which installation of the helper this process is: several may run in one cluster with the same secret
/// name (a team's own, a platform's, a fleet hub's). Each labels the secrets it writes with its instance,
/// so that none overwrites, prunes or cleans up another's (issue 24: a cleanup removed 5,000 secrets of
/// another installation).
///
/// The label is our own key, not `app.kubernetes.io/instance`: Helm charts set that one on what they render
/// and Argo CD tracks applications by it by default, so a secret carrying it would look like part of a
/// release or an application named like the installation, and be pruned by it.
public struct Installation: Sendable, Hashable, CustomStringConvertible {
    /// The label on every secret this installation writes; its value is `label`.
    public static let labelKey = DesiredSecret.annotationPrefix + "instance"
    /// On a ServiceAccount: which installations added which `imagePullSecrets` entry (`instance=secret`,
    /// comma-separated). Entries cannot carry labels; this says which ones cleanup may take away.
    public static let serviceAccountAnnotation = DesiredSecret.annotationPrefix + "instances"

    /// The label value: at most 63 characters of letters, digits, '-', '_' and '.', starting and ending
    /// with a letter or digit.
    public let label: String

    public var description: String { label }

    init(label: String) { self.label = label }

    /// INSTANCE as the user wrote it: `/` (as in `namespace/release`) becomes `.`, which no namespace name
    /// contains; longer than a label value may be, it is shortened and a hash of the whole keeps it unique.
    /// Nil when it holds characters no label value may hold.
    public init?(_ text: String) {
        let mapped = String(text.map { $0 == "/" ? "." : $0 })
        guard !mapped.isEmpty, mapped.utf8.allSatisfy(Self.isLabelByte) else { return nil }
        if Self.isLabelValue(mapped) {
            label = mapped
            return
        }
        // Too long, or a '.', '-' or '_' at an end: keep a readable prefix, and a hash of the whole text.
        let hex = SHA256.hash(data: Array(text.utf8)).prefix(6).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
        var prefix = Substring(mapped.prefix(50))
        while let last = prefix.last, !Self.isAlphanumeric(last) { prefix = prefix.dropLast() }
        while let first = prefix.first, !Self.isAlphanumeric(first) { prefix = prefix.dropFirst() }
        label = prefix.isEmpty ? hex : "\(prefix)-\(hex)"
    }

    /// Without INSTANCE: in a pod that knows its namespace (POD_NAMESPACE from the downward API, set by
    /// the hardened manifest and the chart), `<namespace>.<secret name>`; elsewhere (a workstation, the
    /// original manifest, which sets no POD_NAMESPACE) the secret name alone. Both stay the same across
    /// restarts, rollouts and CronJob runs; a name derived from POD_NAME would not (a Job's pods carry a
    /// per-run suffix), and would make each run see the last run's secrets as another installation's.
    public static func derived(podNamespace: String?, secretName: String) -> Installation {
        if let podNamespace, !podNamespace.isEmpty, let installation = Installation("\(podNamespace)/\(secretName)") {
            return installation
        }
        return Installation(secretName) ?? Installation(label: "aws-ecr-cred-helper")
    }

    static func isLabelValue(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, text.utf8.count <= 63 else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last) && text.utf8.allSatisfy(isLabelByte)
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }
}

/// Whose a secret of our name is, as far as this installation is concerned.
public enum SecretOwnership: Sendable, Hashable {
    /// Labelled with this installation.
    case ours
    /// Our type and managed-by label but no instance label: written by a version before installations
    /// had one. The installation that serves its namespace adopts it (its next write adds the label).
    case unclaimed
    /// Our type without our managed-by label: the original shell helper's; adopted like `unclaimed`.
    case original
    /// Labelled with another installation: never overwritten, pruned or cleaned up.
    case otherInstallation(String)
    /// Another type: someone else's secret.
    case otherType(String)

    public init(_ observed: ObservedSecret, installation: Installation) {
        if observed.type != DesiredSecret.type {
            self = .otherType(observed.type ?? "Opaque")
        } else if let instance = observed.instance {
            self = instance == installation.label ? .ours : .otherInstallation(instance)
        } else {
            self = observed.isManaged ? .unclaimed : .original
        }
    }
}
