import Foundation
import Testing
@testable import SyncEngine

/// The metric catalogue (what `/metrics` declares) and the namespace bookkeeping behind
/// `target_namespaces{state}` and `oldest_secret_expiry_timestamp_seconds`.
@Suite struct MetricsTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func familiesFollowPrometheusNamingConventions() {
        let names = HelperMetrics.families.map(\.name)
        #expect(Set(names).count == names.count, "\(names)")
        for family in HelperMetrics.families {
            #expect(family.name.hasPrefix("aws_ecr_cred_helper_"))
            #expect(family.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(family.name)")
            #expect((family.kind == .counter) == family.name.hasSuffix("_total"), "\(family.name): _total on counters only")
            #expect(!family.help.isEmpty && !family.help.contains("\n"), "\(family.name)")
            if family.name.contains("timestamp") || family.name.contains("duration") {
                #expect(family.name.hasSuffix("_seconds"), "\(family.name): base unit in the name")
            }
            #expect((family.kind == .histogram) == !family.buckets.isEmpty, "\(family.name)")
            #expect(family.buckets == family.buckets.sorted())
        }
    }

    /// Bounded cardinality: no label takes a namespace's name unless the user opted in.
    @Test func onlyOptInFamiliesHaveANamespaceLabel() {
        for family in HelperMetrics.families {
            let perNamespace = family.labels.contains { $0.contains("namespace") }
            #expect(perNamespace == family.optIn, "\(family.name) \(family.labels)")
            #expect(!family.labels.contains("namespace"), "`namespace` would clash with the scrape target's own label")
        }
    }

    @Test func statesCountEveryTargetOnce() {
        var states = NamespaceStates()
        states.currentExpiry = t0.addingTimeInterval(43200)
        states.record(.written, namespace: "a")
        states.record(.unchanged, namespace: "b")
        states.record(.foreign(type: "Opaque"), namespace: "c")
        states.record(.failed(reason: "missing", retryable: true), namespace: "d")
        #expect(states.counts == [.fresh: 2, .foreign: 1, .failing: 1])
        #expect(states.oldestExpiry == t0.addingTimeInterval(43200))
        // The same namespace again: moved, not added.
        states.record(.written, namespace: "d")
        #expect(states.counts == [.fresh: 3, .foreign: 1, .failing: 0])
    }

    @Test func aFailingNamespaceKeepsTheExpiryOfWhatItHolds() {
        var states = NamespaceStates()
        states.currentExpiry = t0.addingTimeInterval(43200)
        states.record(.written, namespace: "a")
        states.record(.written, namespace: "b")
        // A new token; "a" takes it, the write into "b" fails: "b" still holds the old one.
        states.currentExpiry = t0.addingTimeInterval(21600 + 43200)
        states.record(.written, namespace: "a")
        states.record(.failed(reason: "forbidden", retryable: true), namespace: "b")
        #expect(states.oldestExpiry == t0.addingTimeInterval(43200))
        #expect(states.entries["b"] == .init(state: .failing, expiry: t0.addingTimeInterval(43200)))
        states.record(.written, namespace: "b")
        #expect(states.oldestExpiry == t0.addingTimeInterval(21600 + 43200))
        // Never written by this process and failing: counted, but no expiry is known.
        states.record(.failed(reason: "missing", retryable: true), namespace: "c")
        #expect(states.counts[.failing] == 1)
        #expect(states.oldestExpiry == t0.addingTimeInterval(21600 + 43200))
    }

    @Test func namespacesNotReportedBetweenTwoFullPassesAreForgotten() {
        var states = NamespaceStates()
        states.currentExpiry = t0
        for namespace in ["a", "b", "c"] { states.record(.written, namespace: namespace) }
        states.fullPassSucceeded()
        #expect(states.entries.count == 3)
        // "c" leaves the selection: the next full pass reports only a and b (a repair of "a" in between).
        states.record(.written, namespace: "a")
        states.record(.unchanged, namespace: "a")
        states.record(.unchanged, namespace: "b")
        states.fullPassSucceeded()
        #expect(Set(states.entries.keys) == ["a", "b"])
        #expect(states.counts == [.fresh: 2])
        states.forgetAll()
        #expect(states.entries.isEmpty && states.oldestExpiry == nil && states.counts.values.allSatisfy { $0 == 0 })
    }

    @Test func withoutAnExpiryThereIsNoOldestExpiry() {
        var states = NamespaceStates()
        states.currentExpiry = nil  // a token without a future expiresAt
        states.record(.written, namespace: "a")
        #expect(states.oldestExpiry == nil)
        #expect(states.counts[.fresh] == 1)
    }

    /// README's Operability section names every family the helper exports, and nothing else.
    @Test func readmeListsExactlyTheFamilies() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Operability").dropFirst().first?.components(separatedBy: "\n## ").first)
        var named = Set<String>()
        var rest = section[...]
        while let range = rest.range(of: "aws_ecr_cred_helper_") {
            let tail = rest[range.lowerBound...]
            let end = tail.firstIndex { !($0.isLowercase || $0.isNumber || $0 == "_") } ?? tail.endIndex
            named.insert(String(tail[..<end]))
            rest = tail[end...]
        }
        #expect(named == Set(HelperMetrics.families.map(\.name)), "README names \(named.sorted())")
    }
}
