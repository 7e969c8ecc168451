import Foundation
import KubeTestServer
import SyncEngine
import TestSupport
import Testing

/// The product's label-selector matching against the real API server's own: namespaces with assorted
/// labels, each selector listed by the server and matched locally; the two must choose the same names,
/// and the selectors the server refuses must not parse here either.
@Suite(.enabled(if: RealAPIServer.isAvailable, "\(RealAPIServer.missingReason)"))
struct LabelSelectorDifferentialTests {
    @Test func sameMatchesAsTheRealServer() async throws {
        let server = try #require(RealAPIServer.shared)
        let id = uniqueSuffix(5)
        let key = "sel-\(id)"
        let labels: [[String: String]] = [
            [key: "1", "tier": "web"], [key: "5", "tier": "db"], [key: "x"], ["tier": "web"], [key: "0", "env.example.com/t": "a"],
        ]
        var names: [String] = []
        for (index, set) in labels.enumerated() {
            let name = "sel-\(id)-\(index)"
            names.append(name)
            try await server.createNamespace(name, labels: set.merging(["sel-run": id]) { $1 })
        }
        let selectors = [
            "\(key)>2", "\(key)<2", "\(key)>0,tier=web", "\(key)", "!\(key)", "tier in (web,db)", "tier notin (web)",
            "\(key)!=x", "\(key)==5", "env.example.com/t=a", "tier=web,\(key) in (1, 5)",
        ]
        for selector in selectors {
            let parsed = try LabelSelector(parsing: selector)
            let local = Set(zip(names, labels).filter { parsed.matches($0.1.merging(["sel-run": id]) { $1 }) }.map(\.0))
            let listed = try await server.objects("namespaces", namespace: nil, labelSelector: "\(selector),sel-run=\(id)")
            let remote = Set(listed.compactMap { $0["metadata"]?["name"]?.stringValue })
            #expect(local == remote, "selector \(selector)")
        }
        for refused in ["\(key)>x", "\(key)>", "\(key)>=1", "\(key) in (", "a=b c"] {
            let answer = try await server.get("/api/v1/namespaces?labelSelector=" + (refused.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            #expect(answer.status == 400, "the server accepted \(refused)")
            #expect(throws: LabelSelector.ParseError.self, "\(refused)") { try LabelSelector(parsing: refused) }
        }
    }
}
