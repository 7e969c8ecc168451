import Foundation
import Testing
import TestSupport

/// Runs the built `aws-ecr-cred-helper` for the cases that only the executable sees (files in the config
/// folders), through TestSupport's `ChildProcess` (an exit awaited without holding a thread).
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

    static var path: String? { try? helperExecutable() }

    /// Runs the helper with exactly `environment` (nothing of the test run leaks in), waiting at most `timeout`.
    static func run(_ arguments: [String], environment: [String: String], timeout: Duration = .seconds(60)) async throws -> Result {
        let folder = try TemporaryFolder()
        let result = try await ChildProcess.run(try helperExecutable(), arguments, environment: environment, outputDirectory: folder.path, timeout: timeout)
        return Result(status: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr)
    }
}

/// The helper's `run` mode as a child process, stopped with SIGTERM.
final class HelperProcess: Sendable {
    private let process: ChildProcess

    static func start(_ arguments: [String], environment: [String: String], in folder: TemporaryFolder) throws -> HelperProcess {
        let executable = try #require(HelperBinary.path, "aws-ecr-cred-helper binary not found: run swift build --product aws-ecr-cred-helper")
        return HelperProcess(process: try ChildProcess(executable: executable, arguments: arguments, environment: environment, outputDirectory: folder.path))
    }

    private init(process: ChildProcess) { self.process = process }

    var isRunning: Bool { process.isRunning }
    var stdout: String { process.stdout }
    var stderr: String { process.stderr }

    /// SIGTERM, then a bounded wait for the exit (suspended, not blocking a thread).
    func stop() async { await process.stop(grace: .seconds(20)) }

    /// For `defer`: SIGTERM without waiting.
    func terminate() { process.terminate() }
}
