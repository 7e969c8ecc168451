import Foundation

/// The repository root (this file is Tests/TestSupport/Repository.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The built `aws-ecr-cred-helper` executable, for the tests that run it as users do. `swift test` builds every
/// product, so it sits in the bin folder next to the test bundle (`.build/<triple>/debug/...xctest`);
/// `ECR_CRED_HELPER_BINARY` overrides.
public func helperExecutable() throws -> String {
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["ECR_CRED_HELPER_BINARY"], !explicit.isEmpty { candidates.append(explicit) }
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
