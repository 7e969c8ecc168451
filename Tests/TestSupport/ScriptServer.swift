import Foundation

/// A helper script of this repository (scripts/aws/*.py: the fault proxy, the CONNECT proxy, ...) started for one
/// test, with the test venv's Python (`TEST_PYTHON`). The script listens on a free loopback port, writes it to the
/// file named by `--port-file`, and exits when its standard input reaches end-of-file: `stop()`, or this test
/// process dying, ends it, so nothing outlives the test. One launcher for every such script.
public final class ScriptServer: Sendable {
    public let process: ChildProcess
    public let port: Int
    /// The script's own folder: the port file and its output (`process.stdout`, `process.stderr`).
    public let directory: String

    public var url: String { "http://127.0.0.1:\(port)" }

    /// The venv's Python, from `TEST_PYTHON` (scripts/test.sh sets it).
    public static var python: String? {
        ProcessInfo.processInfo.environment["TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    private init(process: ChildProcess, port: Int, directory: String) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    /// Starts `scripts/aws/<script>` with `arguments` (plus `--port-file`), waiting at most `timeout` for its port.
    public static func start(_ script: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws -> ScriptServer {
        guard let python else { throw Failure(description: "TEST_PYTHON is unset: run scripts/test.sh (it creates .venv)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(script)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/port"
        let path = repositoryRoot.appendingPathComponent("scripts/aws/\(script)").path
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        let process = try ChildProcess(
            executable: python, arguments: [path, "--port-file", portFile] + arguments,
            environment: environment, outputDirectory: directory, input: .pipe)
        do {
            let port = try await eventuallyValue("\(script) to report its port", timeout: timeout, poll: .milliseconds(20)) { () -> Int? in
                if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                   let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return port
                }
                if let ended = process.poll() {
                    throw Failure(description: "\(script) ended (\(ended)) before reporting its port: \(process.output.suffix(2000))")
                }
                return nil
            }
            return ScriptServer(process: process, port: port, directory: directory)
        } catch {
            process.killNow()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Ends the script (end-of-file on its input, then SIGTERM) without waiting: its reaper collects it.
    public func stop() {
        process.closeInput()
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
