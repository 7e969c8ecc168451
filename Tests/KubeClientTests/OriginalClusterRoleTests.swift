import Foundation
import KubeTestServer
import Testing
import Yams

/// The drop-in tests (DropInSyncTests and others, on both servers) give the helper
/// `PolicyRule.originalHelperRole()`: it must be the original helper's ClusterRole exactly as its manifest
/// ships it, not a transcription that drifted. Read from deploy/original (a copy of the original manifest;
/// scripts/deploy/check_manifests.py compares the two in CI) and from ../shared/seed, the original
/// project's README, when it is beside the checkout.
@Suite("The original ClusterRole, as shipped")
struct OriginalClusterRoleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func deployOriginalHoldsExactlyTheRulesTheTestsGrant() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/original/aws-ecr-cred-helper.yaml"), encoding: .utf8)
        #expect(try Self.clusterRoleRules(in: text) == PolicyRule.originalHelperRole())
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: OriginalClusterRoleTests.seedReadme.path), "../shared/seed/README.md is not beside the checkout"))
    func theSeedsManifestHoldsExactlyTheRulesTheTestsGrant() throws {
        let readme = try String(contentsOf: Self.seedReadme, encoding: .utf8)
        // The manifest is the README's first fenced block.
        let blocks = readme.components(separatedBy: "```")
        try #require(blocks.count >= 3, "no fenced block in \(Self.seedReadme.path)")
        #expect(try Self.clusterRoleRules(in: blocks[1]) == PolicyRule.originalHelperRole())
    }

    static var seedReadme: URL { root.deletingLastPathComponent().appendingPathComponent("shared/seed/README.md") }

    static func clusterRoleRules(in manifest: String) throws -> [PolicyRule] {
        for document in try Yams.load_all(yaml: manifest) {
            guard let object = document as? [String: Any], object["kind"] as? String == "ClusterRole" else { continue }
            let rules = object["rules"] as? [[String: Any]] ?? []
            return rules.map { rule in
                PolicyRule(
                    apiGroups: rule["apiGroups"] as? [String] ?? [], resources: rule["resources"] as? [String] ?? [],
                    verbs: rule["verbs"] as? [String] ?? [], resourceNames: rule["resourceNames"] as? [String] ?? [])
            }
        }
        Issue.record("no ClusterRole in the manifest")
        return []
    }
}
