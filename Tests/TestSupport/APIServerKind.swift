/// Which Kubernetes API server a test runs against. Tests that touch Kubernetes take this as an argument,
/// so each case runs on both: the stand-in (always) and the real kube-apiserver (when the test run
/// started one, see RealAPIServer). The stand-in has to agree with the real server case by case.
public enum APIServerKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case standIn = "stand-in"
    case real = "kube-apiserver"

    public var description: String { rawValue }

    /// The stand-in always; the real server when this test run has one.
    public static var enabled: [APIServerKind] { RealAPIServer.isAvailable ? [.standIn, .real] : [.standIn] }

    /// The real server only, when this test run has one (for behaviour only a real server shows).
    public static var realOnly: [APIServerKind] { RealAPIServer.isAvailable ? [.real] : [] }
}
