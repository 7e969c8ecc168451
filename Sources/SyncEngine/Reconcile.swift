/// What one namespace needs, decided from what is known, with no I/O: the controller's executor carries
/// the plan out. Tested as a table of snapshots to plans.
public enum SecretPlan: Sendable, Hashable {
    /// A target whose secret already says what the desired secret says: nothing to send.
    case upToDate
    /// A target whose secret is missing or stale: one server-side apply.
    case apply
    /// A target holding a secret of our name and another type: someone else's; left alone and reported.
    case leaveForeign(type: String)
    /// A target holding our kind of secret labelled with another installation: theirs; left alone and reported.
    case leaveOtherInstallation(String)
    /// A target, but there is no valid login to write (none fetched yet, or expired).
    case waitForLogin
    /// Not a target any more, holding this installation's secret, and PRUNE_UNSELECTED is on: delete it.
    case prune
    /// Not a target: nothing to do.
    case ignore
}

public enum Reconcile {
    /// - Parameters:
    ///   - isTarget: whether the settings select the namespace now;
    ///   - observed: the projection of our secret's name in the namespace, nil when there is none;
    ///   - desired: the secret to hold, nil without a valid login;
    ///   - installation: this installation: a secret labelled with another is never written or pruned.
    ///
    /// Only a secret labelled with this installation is pruned: one without the label (an earlier version's)
    /// in a namespace this installation does not serve may be another installation's, not yet adopted.
    public static func plan(
        isTarget: Bool, observed: ObservedSecret?, desired: DesiredSecret?, installation: Installation, pruneUnselected: Bool
    ) -> SecretPlan {
        let ownership = observed.map { SecretOwnership($0, installation: installation) }
        guard isTarget else {
            return pruneUnselected && observed?.isManaged == true && ownership == .ours ? .prune : .ignore
        }
        switch ownership {
        case .otherType(let type): return .leaveForeign(type: type)
        case .otherInstallation(let other): return .leaveOtherInstallation(other)
        case .ours, .unclaimed, .original, nil: break
        }
        guard let desired else { return .waitForLogin }
        if let observed, desired.isSatisfied(by: observed) { return .upToDate }
        return .apply
    }
}
