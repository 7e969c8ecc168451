import KubeClient
@testable import SyncEngine
import Testing

/// The pure parts of "installations own their secrets" (issue 24): the instance's label value and its
/// default, whose a secret is, what cleanup does with it, the ServiceAccount claims, the summary line.
@Suite struct InstallationTests {
    struct LabelRow: Sendable, CustomTestStringConvertible {
        var testDescription: String { "\(text) -> \(label ?? "invalid")" }
        var text: String
        var label: String?
    }

    static let labelRows: [LabelRow] = [
        LabelRow(text: "platform", label: "platform"),
        LabelRow(text: "kube-system/aws-ecr-cred-helper", label: "kube-system.aws-ecr-cred-helper"),
        LabelRow(text: "Team_A.helper-1", label: "Team_A.helper-1"),
        LabelRow(text: String(repeating: "a", count: 63), label: String(repeating: "a", count: 63)),
        // Too long: a readable prefix and a hash of the whole, 63 characters at most.
        LabelRow(text: String(repeating: "a", count: 64), label: String(repeating: "a", count: 50) + "-ffe054fe7ae0"),
        // A '/' at the end would end the label with '.': trimmed, and hashed so it stays distinct from "ns".
        LabelRow(text: "ns/", label: "ns-223e481368ff"),
        LabelRow(text: "", label: nil),
        LabelRow(text: "two words", label: nil),
        LabelRow(text: "ümlaut", label: nil),
        LabelRow(text: "a=b", label: nil),
    ]

    @Test(arguments: labelRows)
    func labelValue(_ row: LabelRow) {
        let installation = Installation(row.text)
        #expect(installation?.label == row.label)
        if let label = installation?.label { #expect(Installation.isLabelValue(label), "\(label)") }
    }

    @Test func labelValueOfALongNameIsStableAndDistinct() throws {
        let one = try #require(Installation(String(repeating: "x", count: 70) + "/one"))
        let two = try #require(Installation(String(repeating: "x", count: 70) + "/two"))
        #expect(one.label.utf8.count <= 63 && two.label.utf8.count <= 63)
        #expect(one != two)
        #expect(Installation(String(repeating: "x", count: 70) + "/one") == one)
    }

    @Test(arguments: [
        (String?.none, "registry-aws-ecr", "registry-aws-ecr"),
        ("", "registry-aws-ecr", "registry-aws-ecr"),
        ("kube-system", "registry-aws-ecr", "kube-system.registry-aws-ecr"),
        ("platform", "ecr.example.com", "platform.ecr.example.com"),
    ])
    func derivedDefault(_ podNamespace: String?, _ secretName: String, _ label: String) {
        #expect(Installation.derived(podNamespace: podNamespace, secretName: secretName).label == label)
    }

    static let us = Installation("us")!

    @Test(arguments: [
        (ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: nil, instance: "us"), SecretOwnership.ours),
        (ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: nil, instance: "them"), .otherInstallation("them")),
        (ObservedSecret(type: DesiredSecret.type, isManaged: true, contentDigest: nil), .unclaimed),
        (ObservedSecret(type: DesiredSecret.type, isManaged: false, contentDigest: nil), .original),
        (ObservedSecret(type: "Opaque", isManaged: true, contentDigest: nil, instance: "us"), .otherType("Opaque")),
        (ObservedSecret(type: nil, isManaged: false, contentDigest: nil), .otherType("Opaque")),
    ])
    func ownership(_ observed: ObservedSecret, _ expected: SecretOwnership) {
        #expect(SecretOwnership(observed, installation: Self.us) == expected)
    }

    struct CleanupRow: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var ownership: SecretOwnership
        var selected: Bool
        var allNamespaces = false
        var action: CleanupDecision.Action
    }

    static let cleanupRows: [CleanupRow] = [
        CleanupRow(testDescription: "ours, selected: remove", ownership: .ours, selected: true, action: .remove),
        CleanupRow(testDescription: "ours, not selected: left, counted", ownership: .ours, selected: false, action: .leaveOutsideSelection),
        CleanupRow(testDescription: "ours, not selected, --all-namespaces: remove", ownership: .ours, selected: false, allNamespaces: true, action: .remove),
        CleanupRow(testDescription: "an earlier version's, selected: adopted, removed", ownership: .unclaimed, selected: true, action: .remove),
        CleanupRow(testDescription: "an earlier version's, not selected: another installation's as far as we know", ownership: .unclaimed, selected: false, action: .leaveOtherInstallation(nil)),
        CleanupRow(testDescription: "an earlier version's, not selected, --all-namespaces: still left (ownership never widens)", ownership: .unclaimed, selected: false, allNamespaces: true, action: .leaveOtherInstallation(nil)),
        CleanupRow(testDescription: "another installation's, selected (overlap): kept, listed", ownership: .otherInstallation("them"), selected: true, action: .keepOtherInstallation("them")),
        CleanupRow(testDescription: "another installation's, not selected: left, counted", ownership: .otherInstallation("them"), selected: false, action: .leaveOtherInstallation("them")),
        CleanupRow(testDescription: "another installation's, --all-namespaces: left", ownership: .otherInstallation("them"), selected: false, allNamespaces: true, action: .leaveOtherInstallation("them")),
        CleanupRow(testDescription: "the original helper's, selected: kept (as before)", ownership: .original, selected: true, action: .keepUnmanaged),
        CleanupRow(testDescription: "someone's Opaque, selected: kept", ownership: .otherType("Opaque"), selected: true, action: .keepUnmanaged),
        CleanupRow(testDescription: "someone's Opaque, not selected: not mentioned", ownership: .otherType("Opaque"), selected: false, allNamespaces: true, action: .ignore),
    ]

    @Test(arguments: cleanupRows)
    func cleanupDecision(_ row: CleanupRow) {
        #expect(CleanupDecision.decide(ownership: row.ownership, selected: row.selected, allNamespaces: row.allNamespaces) == row.action)
    }

    @Test func summaryLine() {
        var report = CleanupReport()
        #expect(report.summary(dryRun: false) == "removed 0 secrets and 0 ServiceAccount entries in 0 namespaces")
        report.secrets = 1
        report.serviceAccountEntries = 1
        #expect(report.summary(dryRun: true) == "would remove 1 secret and 1 ServiceAccount entry in 1 namespace")
        report.secrets = 12
        report.serviceAccountEntries = 3
        report.otherInstallations = 4980
        #expect(report.summary(dryRun: false) == "removed 12 secrets and 3 ServiceAccount entries in 12 namespaces; left 4,980 secrets of other installations")
        report.ownOutside = 1
        report.failures = 2
        #expect(report.summary(dryRun: false) == "removed 12 secrets and 3 ServiceAccount entries in 12 namespaces; left 4,980 secrets of other installations; left 1 secret of this installation outside the selected namespaces (--all-namespaces removes them); 2 failed")
        #expect(CleanupReport.grouped(1_234_567) == "1,234,567" && CleanupReport.grouped(999) == "999" && CleanupReport.grouped(1000) == "1,000")
    }

    @Test func hintNamesTheOtherInstallationsOnlyWhenNothingWasOurs() {
        var report = CleanupReport()
        #expect(report.otherInstallationsHint(Self.us) == nil)
        report.byInstallation = ["a": 1, "b": 4980, "c": 2, "d": 2]
        report.otherInstallations = 4985
        #expect(report.otherInstallationsHint(Self.us) == "no secret of installation us was found; the helper's secrets here belong to installations b (4,980), c (2), d (2), 1 more: give --instance to clean up one of them")
        report.secrets = 1
        #expect(report.otherInstallationsHint(Self.us) == nil, "something was ours: no hint")
    }

    @Test func serviceAccountClaims() {
        var claims = ServiceAccountClaims(" b=registry-aws-ecr, a=registry-aws-ecr ,junk,=x,c=other")
        #expect(claims.annotation == "a=registry-aws-ecr,b=registry-aws-ecr,c=other")
        #expect(claims.contains(Installation("a")!, secretName: "registry-aws-ecr"))
        #expect(!claims.contains(Installation("a")!, secretName: "other"))
        claims.remove(Installation("a")!, secretName: "registry-aws-ecr")
        #expect(!claims.isUnclaimed(secretName: "registry-aws-ecr"), "b still claims it")
        claims.remove(Installation("b")!, secretName: "registry-aws-ecr")
        #expect(claims.isUnclaimed(secretName: "registry-aws-ecr"))
        claims.remove(Installation("c")!, secretName: "other")
        #expect(claims.annotation == nil, "no claim left: the annotation goes")
        #expect(ServiceAccountClaims(nil).isUnclaimed(secretName: "x"))
    }
}
