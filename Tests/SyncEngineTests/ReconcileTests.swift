import Foundation
import KubeClient
@testable import SyncEngine
import Testing

/// `Reconcile.plan` as a table: what a namespace holds and what is wanted, to what gets done.
@Suite struct ReconcileTests {
    static let login = RegistryLogin(
        credentials: [RegistryCredential(registry: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", username: "AWS", password: Sensitive("p"), expiresAt: Date().addingTimeInterval(43200), region: "us-east-1")],
        fetchedAt: Date())
    static let installation = Installation("kube-system/registry-aws-ecr")!
    static let desired = DesiredSecret(name: "registry-aws-ecr", installation: installation, login: login)
    static let current = desired.asObserved
    static let stale = ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: nil, instance: installation.label)
    static let original = ObservedSecret(type: DesiredSecret.type, isManaged: false, contentDigest: nil)
    static let foreign = ObservedSecret(type: "Opaque", isManaged: false, contentDigest: nil)
    /// Written by a version before installations had a label: current content, no instance label.
    static let unclaimed = ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: current.contentDigest)
    /// Another installation's, with the very same content.
    static let theirs = ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: current.contentDigest, instance: "team-x.registry-aws-ecr")

    struct Row: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var isTarget: Bool
        var observed: ObservedSecret?
        var hasLogin = true
        var prune = false
        var plan: SecretPlan
    }

    static let rows: [Row] = [
        Row(testDescription: "target without a secret: apply", isTarget: true, observed: nil, plan: .apply),
        Row(testDescription: "target with the current secret: nothing", isTarget: true, observed: current, plan: .upToDate),
        Row(testDescription: "target with a stale secret of ours: apply", isTarget: true, observed: stale, plan: .apply),
        Row(testDescription: "target with the original helper's secret: adopt", isTarget: true, observed: original, plan: .apply),
        Row(testDescription: "target with someone else's Opaque secret: leave it", isTarget: true, observed: foreign, plan: .leaveForeign(type: "Opaque")),
        Row(testDescription: "foreign stays foreign without a login", isTarget: true, observed: foreign, hasLogin: false, plan: .leaveForeign(type: "Opaque")),
        Row(testDescription: "target without a login: wait", isTarget: true, observed: nil, hasLogin: false, plan: .waitForLogin),
        Row(testDescription: "not a target, ours, prune on: prune", isTarget: false, observed: current, prune: true, plan: .prune),
        Row(testDescription: "not a target, ours, prune off: ignore", isTarget: false, observed: current, plan: .ignore),
        Row(testDescription: "not a target, the original's (not labelled ours): never pruned", isTarget: false, observed: original, prune: true, plan: .ignore),
        Row(testDescription: "not a target, foreign: ignore", isTarget: false, observed: foreign, prune: true, plan: .ignore),
        Row(testDescription: "not a target, nothing there: ignore", isTarget: false, observed: nil, prune: true, plan: .ignore),
        Row(testDescription: "target with an earlier version's secret (no instance label), same content: adopt (the write adds the label)", isTarget: true, observed: unclaimed, plan: .apply),
        Row(testDescription: "target with another installation's secret: leave it, even with the same content", isTarget: true, observed: theirs, plan: .leaveOtherInstallation("team-x.registry-aws-ecr")),
        Row(testDescription: "another installation's stays theirs without a login", isTarget: true, observed: theirs, hasLogin: false, plan: .leaveOtherInstallation("team-x.registry-aws-ecr")),
        Row(testDescription: "not a target, another installation's, prune on: never pruned", isTarget: false, observed: theirs, prune: true, plan: .ignore),
        Row(testDescription: "not a target, an earlier version's, prune on: not pruned (may be another installation's, not adopted yet)", isTarget: false, observed: unclaimed, prune: true, plan: .ignore),
    ]

    @Test(arguments: rows)
    func plan(_ row: Row) {
        let plan = Reconcile.plan(
            isTarget: row.isTarget, observed: row.observed, desired: row.hasLogin ? Self.desired : nil, installation: Self.installation, pruneUnselected: row.prune)
        #expect(plan == row.plan)
    }

    @Test func errorPolicyReadsTypesAndCodesNotText() {
        func error(_ code: Int, reason: String, retryAfter: Duration? = nil) -> KubeAPIError {
            KubeAPIError(statusCode: code, status: KubeStatus(code: code, reason: reason, message: "x"), verb: "apply", resource: "secrets", group: "", namespace: "ns", name: "s", retryAfter: retryAfter)
        }
        let throttled = ErrorPolicy.namespaceFailure(error(429, reason: "TooManyRequests", retryAfter: .seconds(7)), namespace: "ns", secretName: "s")
        #expect(throttled.action == .backoff(atLeast: .seconds(7)))
        #expect(throttled.outcome == .failed(reason: throttled.outcome.failureReason ?? "", retryable: true))
        #expect(ErrorPolicy.namespaceFailure(error(404, reason: "NotFound"), namespace: "ns", secretName: "s").action == .backoff(atLeast: .zero))
        #expect(ErrorPolicy.namespaceFailure(error(403, reason: "Forbidden"), namespace: "ns", secretName: "s").action == .backoff(atLeast: .zero))
        let invalid = ErrorPolicy.namespaceFailure(error(422, reason: "Invalid"), namespace: "ns", secretName: "s")
        #expect(invalid.action == .wait)
        if case .failed(_, let retryable) = invalid.outcome { #expect(!retryable) } else { Issue.record("\(invalid.outcome)") }
    }
}

extension NamespaceOutcome {
    var failureReason: String? {
        if case .failed(let reason, _) = self { return reason }
        return nil
    }
}
