import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport

/// scripts/aws/fault_proxy.py in front of moto, started for one test: it forwards requests unchanged (so
/// signatures still verify) except those matching a rule, which are throttled, failed, mangled or dropped.
/// It exits when its stdin closes, so a crashed test leaves nothing behind.
final class AWSFaultProxy: Sendable {
    private let process: Process
    private let stdin: Pipe
    let url: String

    static var python: String? { ProcessInfo.processInfo.environment["TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } }

    init(upstream: String) async throws {
        guard let python = Self.python else { throw ProxyError(message: "TEST_PYTHON is unset: run scripts/test.sh") }
        let folder = try TemporaryFolder()
        let portFile = folder.path + "/port"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/aws/fault_proxy.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--upstream", upstream, "--port-file", portFile]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let port = try await eventuallyValue("fault_proxy.py to report its port", timeout: .seconds(20)) {
            (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        _ = folder
        self.process = process
        self.stdin = stdin
        self.url = "http://127.0.0.1:\(port)"
    }

    struct ProxyError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Rules as fault_proxy.py takes them: `{"match": {"target": ...}, "times": N, "status": S, "body": ..., "drop": true}`.
    func add(_ rules: [[String: Any]]) async throws {
        _ = try await post("/__fault/rules", body: try JSONSerialization.data(withJSONObject: ["rules": rules]))
    }

    /// The faults the proxy applied so far (nil for forwarded requests), and the statuses it answered.
    func log() async throws -> [(fault: String?, status: Int?)] {
        let data = try await get("/__fault/log")
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let requests = json?["requests"] as? [[String: Any]] ?? []
        return requests.map { ($0["fault"] as? String, $0["status"] as? Int) }
    }

    /// Never waits: blocking a thread of the small cooperative pool stalls every other test.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    private func get(_ path: String) async throws -> Data {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + path)!)
        return data
    }

    private func post(_ path: String, body: Data) async throws -> Data {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            throw ProxyError(message: "\(path) answered HTTP \(http.statusCode)")
        }
        return data
    }
}
