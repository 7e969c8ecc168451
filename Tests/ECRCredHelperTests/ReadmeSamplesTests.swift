import Foundation
import KubeTestServer
import Synchronization
import TestSupport
import Testing

@testable import ECRCredHelper

extension HelperBinaryTests {
    /// The README's samples come from the binary: each block between `<!-- sample: NAME -->` and
    /// `<!-- /sample -->` is what the binary prints for the case named here (timestamps aside, which change
    /// with every run). A mismatch fails with the binary's text; `UPDATE_README_SAMPLES=1` writes it into the
    /// README instead (`UPDATE_README_SAMPLES=1 scripts/test.sh --filter ReadmeSamples`).
    @Suite struct ReadmeSamplesTests {
        static let readme = TestEnvironment.repositoryRoot.appendingPathComponent("README.md").path
        static let updating = ProcessInfo.processInfo.environment["UPDATE_README_SAMPLES"] == "1"
        static let lock = Mutex(())

        /// The settings table, from the settings' declarations.
        @Test func settingsTable() throws {
            try Self.check("settings-table", HelpText.markdownTable())
        }

        @Test func configurationErrors() async throws {
            try await FirstHourTests.withSandbox { sandbox in
                try sandbox.write("config/NAMESPACES", "kube-system Team_A default\n")
                try sandbox.write("aws/AWS_DEFAULT_REGION", "Placeholder\n")
                try sandbox.write("aws/AWS_SECRET_ACCESS_KEY", "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n")
                let (result, _) = try await sandbox.run(["sync"] + sandbox.locations)
                #expect(result.exitCode == 1)
                // As the helper sees its files in a pod: /config and /config-aws.
                let text = result.stderr.replacing(sandbox.directory + "/aws", with: "/config-aws").replacing(sandbox.directory, with: "")
                try Self.check("config-errors", Self.console("aws-ecr-cred-helper sync", text))
            }
        }

        @Test func unreachableAPIServer() async throws {
            try await FirstHourTests.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["status"] + sandbox.locations)
                #expect(result.exitCode == 1)
                // The sandbox's server is a closed port; the sample shows a usual address.
                try Self.check("unreachable", Self.console("aws-ecr-cred-helper status", result.stderr.replacing("https://127.0.0.1:1", with: "https://127.0.0.1:6443")))
            }
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
        func syncAndStatus() async throws {
            try await HelperWorld.with(.standIn, namespaces: ["default", "kube-system", "team-a"]) { world in
                try world.writeOriginalConfig(namespaces: ["default", "kube-system", "team-a", "team-b"])
                let sync = try await world.run("sync")
                #expect(sync.exitCode == 2, "\(sync)")
                try Self.check("sync", Self.console("aws-ecr-cred-helper sync", sync.stdout + sync.stderr))

                // Simulated: moto's tokens carry a fixed expiry in 2015, which the helper does not write; a real
                // ECR token expires 12 hours after it was fetched, as set here.
                let expiry = Date().addingTimeInterval(12 * 3600)
                for namespace in ["default", "kube-system", "team-a"] {
                    var secret = try #require(await world.secret(namespace))
                    secret["metadata"]?["annotations"]?["aws-ecr-cred-helper/expires-at"] = .string(Self.rfc3339(expiry))
                    try await world.put("secrets", namespace: namespace, secret)
                }
                let status = try await world.run("status")
                #expect(status.exitCode == 2, "team-b has no secret: \(status)")
                try Self.check("status", Self.console("aws-ecr-cred-helper status", status.stdout + status.stderr))
                let json = try await world.run("status", ["-o", "json"])
                #expect(json.exitCode == 2, "team-b has no secret: \(json)")
                try Self.check("status-json", Self.console("aws-ecr-cred-helper status -o json", json.stdout + json.stderr))
            }
        }

        // MARK: - Support

        static func console(_ command: String, _ output: String) -> String {
            "```console\n$ \(command)\n" + output + (output.hasSuffix("\n") ? "" : "\n") + "```\n"
        }

        static func rfc3339(_ date: Date) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.string(from: date)
        }

        /// Timestamps differ between runs; everything else must match.
        static func normalized(_ text: String) -> String {
            text.replacing(#/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/#, with: "<time>")
        }

        static func check(_ name: String, _ actual: String) throws {
            try lock.withLock { _ in
                let readme = try String(contentsOfFile: readme, encoding: .utf8)
                let begin = "<!-- sample: \(name) -->\n", end = "<!-- /sample -->"
                guard let start = readme.range(of: begin), let stop = readme.range(of: end, range: start.upperBound..<readme.endIndex) else {
                    Issue.record("README.md has no sample block \(name)")
                    return
                }
                let current = String(readme[start.upperBound..<stop.lowerBound])
                if normalized(current) == normalized(actual) { return }
                if updating {
                    try (readme.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: actual)).write(toFile: Self.readme, atomically: true, encoding: .utf8)
                    return
                }
                Issue.record("README.md's sample \(name) is not what the binary prints; set UPDATE_README_SAMPLES=1 to write it. The binary:\n\(actual)")
            }
        }
    }
}
