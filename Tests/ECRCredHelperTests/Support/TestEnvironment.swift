import Foundation
import TestSupport
import Testing

/// The test run's environment: moto (started by scripts/test.sh) and the built binary.
enum TestEnvironment {
    static let environment = ProcessInfo.processInfo.environment

    static func value(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    static var motoEndpoint: String? { value("MOTO_ENDPOINT") }
    static var hasMoto: Bool { motoEndpoint != nil && value("MOTO_FIXTURE") != nil }
    static let motoReason: Comment = "MOTO_ENDPOINT/MOTO_FIXTURE are unset: run scripts/test.sh (it starts moto with IAM signature checking)"

    /// The IAM fixture scripts/moto_fixture.py wrote.
    static func moto() throws -> MotoFixture {
        let path = try #require(value("MOTO_FIXTURE"), "MOTO_FIXTURE is unset")
        return try JSONDecoder().decode(MotoFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The repository root (this file is Tests/ECRCredHelperTests/Support/TestEnvironment.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `aws-ecr-cred-helper` executable SwiftPM built next to this test bundle (the test target depends
    /// on the executable target, so `swift test` builds it). `ECR_CRED_HELPER_BINARY` overrides.
    static func helperBinary() throws -> String {
        var candidates: [String] = []
        if let explicit = value("ECR_CRED_HELPER_BINARY") { candidates.append(explicit) }
        // The bundle (`.build/<triple>/debug/aws-ecr-cred-helperPackageTests.xctest`) lives in the bin folder.
        for path in [CommandLine.arguments.first, Bundle.main.executablePath].compactMap({ $0 }) {
            var url = URL(fileURLWithPath: path).standardizedFileURL
            for _ in 0..<4 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("aws-ecr-cred-helper").path)
            }
        }
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug/aws-ecr-cred-helper").path)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        throw SpawnFailure(description: "aws-ecr-cred-helper binary not found (looked at \(candidates.joined(separator: ", "))); run `swift build --product aws-ecr-cred-helper`")
    }
}

struct MotoFixture: Decodable, Sendable {
    struct Keys: Decodable, Sendable {
        var accessKeyId: String
        var secretAccessKey: String
    }

    var endpoint: String
    var region: String
    var account: String
    var allowed: Keys
    var denied: Keys
    var roleArn: String
}
