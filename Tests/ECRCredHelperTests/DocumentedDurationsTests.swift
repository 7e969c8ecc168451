import Foundation
import Testing
import TestSupport

@testable import ECRCredHelper

/// Durations the README and docs state that the code defines: each stated sentence must name the code's value,
/// so that changing one without the other fails here (docs/deploy.md once said 2 minutes for a 15-minute limit).
@Suite struct DocumentedDurationsTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// "15 minutes" for 900 s; minutes only when whole.
    static func words(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds % 60 == 0 ? "\(seconds / 60) minutes" : "\(seconds) seconds"
    }

    @Test func livenessStallLimit() throws {
        let limit = Self.words(HTTPEndpoints.stalledAfter)
        let readme = try Self.text("README.md")
        let deploy = try Self.text("docs/deploy.md")
        #expect(readme.contains("fails when one batch of work has run\n  for \(limit)"), "README's /healthz line should say \(limit)")
        #expect(deploy.contains("liveness `GET /healthz` fails when the worker is stuck (one batch of work running for \(limit))"),
                "docs/deploy.md's probes line should say \(limit)")
    }
}
