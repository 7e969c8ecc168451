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
        let folder = try TemporaryFolder()
        let process = try HelperProcess.start(arguments, environment: environment, in: folder)
        do {
            try await eventually("aws-ecr-cred-helper \(arguments.first ?? "") to exit", timeout: timeout, poll: .milliseconds(20)) { !process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        return Result(status: process.status, stdout: process.stdout, stderr: process.stderr)
    }
}

/// The helper's `run` mode as a child process, stopped with SIGTERM.
final class HelperProcess: Sendable {
    private let process: Process
    private let out: String
    private let err: String

    static func start(_ arguments: [String], environment: [String: String], in folder: TemporaryFolder) throws -> HelperProcess {
        let executable = try #require(HelperBinary.path, "aws-ecr-cred-helper binary not found: run swift build --product aws-ecr-cred-helper")
        let tag = UUID().uuidString.prefix(8)
        let out = folder.path + "/run-\(tag).out", err = folder.path + "/run-\(tag).err"
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
        return HelperProcess(process: process, out: out, err: err)
    }

    private init(process: Process, out: String, err: String) {
        self.process = process
        self.out = out
        self.err = err
    }

    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.terminationStatus }
    var stdout: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

    /// SIGTERM, then a bounded, non-blocking wait for the exit (blocking a thread of the small cooperative
    /// pool would stall every other test).
    func stop() async {
        if process.isRunning { process.terminate() }
        try? await eventually("the helper to exit after SIGTERM", timeout: .seconds(20), poll: .milliseconds(20)) { !self.process.isRunning }
    }

    /// For `defer`: SIGTERM without waiting.
    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
