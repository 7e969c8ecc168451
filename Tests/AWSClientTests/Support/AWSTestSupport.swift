import AWSClient
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The test run's environment (set by scripts/test.sh).
enum TestEnv {
    static let environment = ProcessInfo.processInfo.environment

    static func value(_ name: String) -> String? {
        guard let v = environment[name], !v.isEmpty else { return nil }
        return v
    }

    static var motoEndpoint: String? { value("MOTO_ENDPOINT") }
    static var python: String? { value("TEST_PYTHON") }
    static var hasMoto: Bool { motoEndpoint != nil && value("MOTO_FIXTURE") != nil }
    static var hasMotoAndPython: Bool { hasMoto && python != nil }
    static var hasTLSMoto: Bool { value("MOTO_TLS_ENDPOINT") != nil && value("MOTO_TLS_FIXTURE") != nil && value("MOTO_TLS_CA") != nil }

    static let motoReason: Comment = "MOTO_ENDPOINT/MOTO_FIXTURE are unset: run scripts/test.sh to start moto"
    static let motoPythonReason: Comment =
        "needs moto and the test venv (MOTO_ENDPOINT, MOTO_FIXTURE, TEST_PYTHON): run scripts/test.sh"
    static let pythonReason: Comment = "TEST_PYTHON is unset: run scripts/test.sh (it creates .venv with botocore)"
    static let tlsReason: Comment = "MOTO_TLS_ENDPOINT/MOTO_TLS_FIXTURE/MOTO_TLS_CA are unset: run scripts/test.sh"

    /// The repository root (this file is Tests/AWSClientTests/Support/AWSTestSupport.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ variable: String = "MOTO_FIXTURE") throws -> MotoFixture {
        let path = try #require(value(variable), "\(variable) is unset")
        return try JSONDecoder().decode(MotoFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A fresh directory under the system temporary directory; the caller removes it.
    static func tempDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aws-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

struct MotoFixture: Decodable, Sendable {
    struct Keys: Decodable, Sendable {
        var accessKeyId: String
        var secretAccessKey: String
        var credentials: AWSCredentials { AWSCredentials(accessKeyID: accessKeyId, secretAccessKey: secretAccessKey) }
        var provider: StaticCredentialProvider { StaticCredentialProvider(credentials) }
    }
    var endpoint: String
    var region: String
    var account: String
    var allowed: Keys
    var denied: Keys
    var roleArn: String
}

/// Creates a transport, runs `body`, and always shuts the transport down.
func withTransport<T>(
    settings: AWSHTTPSettings = AWSHTTPSettings(connectTimeout: .seconds(5), requestTimeout: .seconds(20)),
    retryPolicy: AWSRetryPolicy = .standard,
    logger: Logger = Logger(label: "test"),
    _ body: (AWSHTTPTransport) async throws -> T
) async throws -> T {
    let transport = try AWSHTTPTransport(settings: settings, retryPolicy: retryPolicy, logger: logger)
    do {
        let result = try await body(transport)
        try await transport.shutdown()
        return result
    } catch {
        try? await transport.shutdown()
        throw error
    }
}

/// Endpoints that send every service to `url` (moto, or a proxy in front of it).
func endpoints(_ url: String) throws -> AWSEndpoints {
    try AWSEndpoints(endpointURL: url)
}

/// Runs `body` and returns the AWSError it throws (fails the test if it throws something else or nothing).
func expectAWSError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> AWSError? {
    do {
        try await body()
        Issue.record("expected an AWSError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as AWSError {
        return e
    } catch {
        Issue.record("expected an AWSError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A Python helper from scripts/aws started for one test: it listens on a free loopback port, reports the port in a
/// file, and exits when we close its stdin (or when this test process dies).
final class PythonTool: @unchecked Sendable {
    let process: Process
    let stdin: Pipe
    let port: Int
    let logFile: URL
    let directory: URL
    private let lock = NSLock()
    private var stopped = false

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, stdin: Pipe, port: Int, logFile: URL, directory: URL) {
        self.process = process
        self.stdin = stdin
        self.port = port
        self.logFile = logFile
        self.directory = directory
    }

    static func start(_ script: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws -> PythonTool {
        let python = try #require(TestEnv.python, "TEST_PYTHON is unset")
        let dir = try TestEnv.tempDirectory()
        let portFile = dir.appendingPathComponent("port")
        let logFile = dir.appendingPathComponent("tool.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        let scriptPath = TestEnv.repoRoot.appendingPathComponent("scripts/aws/\(script)").path
        process.arguments = [scriptPath, "--port-file", portFile.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = "1"
        process.environment = env
        let stdin = Pipe()
        process.standardInput = stdin
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return PythonTool(process: process, stdin: stdin, port: port, logFile: logFile, directory: dir)
            }
            if !process.isRunning {
                let output = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(at: dir)
                throw ToolError(message: "\(script) exited with \(process.terminationStatus): \(output.suffix(2000))")
            }
            if ContinuousClock.now > deadline {
                process.terminate()
                process.waitUntilExit()
                try? FileManager.default.removeItem(at: dir)
                throw ToolError(message: "\(script) did not report its port within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct ToolError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    // MARK: HTTP helpers for the tools' control endpoints

    func getJSON(_ path: String) async throws -> [String: Any] {
        let request = HTTPClientRequest(url: baseURL + path)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
    }

    func postJSON(_ path: String, _ body: [String: Any]) async throws {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        if response.status.code != 200 { throw ToolError(message: "\(path) answered HTTP \(response.status.code)") }
    }
}

/// A fault-injecting reverse proxy (scripts/aws/fault_proxy.py) in front of `upstream`.
final class FaultProxy: @unchecked Sendable {
    let tool: PythonTool
    var url: String { tool.baseURL }

    init(upstream: String, signUnsignedWith fixturePath: String? = nil) async throws {
        var args = ["--upstream", upstream]
        if let fixturePath { args += ["--sign-unsigned", fixturePath] }
        tool = try await PythonTool.start("fault_proxy.py", args)
    }

    struct Seen: Sendable {
        var target: String?
        var action: String?
        var service: String?
        var authorized: Bool
        var signedByProxy: Bool
        var amzDate: String?
        var securityToken: Bool
        var status: Int?
        var fault: String?
        var webIdentityToken: String?
    }

    func addRules(_ rules: [[String: Any]]) async throws {
        try await tool.postJSON("/__fault/rules", ["rules": rules])
    }

    func setClockOffset(_ seconds: Double) async throws {
        try await tool.postJSON("/__fault/clock", ["offset": seconds])
    }

    func requests() async throws -> [Seen] {
        let json = try await tool.getJSON("/__fault/log")
        let list = json["requests"] as? [[String: Any]] ?? []
        return list.map { r in
            Seen(
                target: r["target"] as? String, action: r["action"] as? String, service: r["service"] as? String,
                authorized: r["authorized"] as? Bool ?? false, signedByProxy: r["signed_by_proxy"] as? Bool ?? false,
                amzDate: r["x_amz_date"] as? String, securityToken: r["security_token"] as? Bool ?? false,
                status: r["status"] as? Int, fault: r["fault"] as? String, webIdentityToken: r["web_identity_token"] as? String)
        }
    }

    func stop() { tool.stop() }
}

/// A forward proxy (scripts/aws/connect_proxy.py).
final class ForwardProxy: @unchecked Sendable {
    let tool: PythonTool
    var port: Int { tool.port }

    init(auth: String? = nil) async throws {
        tool = try await PythonTool.start("connect_proxy.py", auth.map { ["--auth", $0] } ?? [])
    }

    func connects() async throws -> [String] {
        try await tool.getJSON("/__proxy/log")["connects"] as? [String] ?? []
    }

    func authFailures() async throws -> Int {
        try await tool.getJSON("/__proxy/log")["auth_failures"] as? Int ?? 0
    }

    func stop() { tool.stop() }
}

extension AWSCredentials {
    static let example = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
}
