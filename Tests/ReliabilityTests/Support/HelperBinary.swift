import Foundation
import Testing
import TestSupport

/// Runs the built `aws-ecr-cred-helper` for the cases that only the executable sees (files in the config
/// folders). `swift test` builds every product, so the binary sits next to the test bundle.
enum HelperBinary {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The lines a user reads: stderr without log lines (which start with a timestamp).
        var errorLines: [String] {
            stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !($0.first?.isNumber ?? false) }
        }
    }

    static var path: String? {
        if let explicit = ProcessInfo.processInfo.environment["ECR_CRED_HELPER_BINARY"] { return explicit }
        var candidates: [String] = []
        if let first = CommandLine.arguments.first {
            var url = URL(fileURLWithPath: first)
            while url.pathComponents.count > 1 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("aws-ecr-cred-helper").path)
                if url.lastPathComponent == "debug" { break }
            }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/aws-ecr-cred-helper").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs the helper with exactly `environment` (nothing of the test run leaks in), waiting at most `timeout`.
    static func run(_ arguments: [String], environment: [String: String], timeout: Duration = .seconds(60)) async throws -> Result {
        let executable = try #require(path, "aws-ecr-cred-helper binary not found: run swift build --product aws-ecr-cred-helper")
        let folder = try TemporaryFolder()
        let out = folder.path + "/stdout", err = folder.path + "/stderr"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        do {
            try await eventually("aws-ecr-cred-helper \(arguments.first ?? "") to exit", timeout: timeout, poll: .milliseconds(20)) { !process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }
}
