import SyncEngine
import Testing

/// The pass summary `run` logs: bounded whatever the number of failing namespaces.
@Suite struct SyncReportTests {
    @Test func summaryNamesEachCauseOnceWithACountAndAFewNames() {
        var outcomes: [String: NamespaceOutcome] = ["ok": .written, "same": .unchanged, "theirs": .foreign(type: "Opaque")]
        for index in 0..<2000 { outcomes["gone-\(index)"] = .failed(reason: "namespace not found", retryable: false) }
        outcomes["locked"] = .failed(reason: "forbidden: add patch on secrets", retryable: false)
        outcomes["busy"] = .failed(reason: "timed out", retryable: true)
        let summary = SyncReport(outcomes: outcomes).problemSummary()
        #expect(summary.hasPrefix("namespace not found (2000 namespaces: gone-0, gone-1, gone-10, …); "))
        #expect(summary.hasSuffix("; 1 more causes"))
        #expect(summary.utf8.count < 400)
        #expect(SyncReport(outcomes: ["a": .written]).problemSummary().isEmpty)
    }
}
