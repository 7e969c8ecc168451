import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport

/// scripts/aws/fault_proxy.py in front of moto with `--sign-unsigned`: it forwards signed requests unchanged (so
/// moto checks their signatures) and signs the unsigned AssumeRoleWithWebIdentity calls with the fixture's keys
/// (moto with signature checking on cannot serve them unsigned). Its log shows what the helper sent; rules
/// answer chosen calls (ECR Public, which moto lacks) with canned bodies. It exits when its stdin closes.
final class SigningProxy: Sendable {
    private let process: Process
    private let stdin: Pipe
    let url: String

    struct Seen: Sendable {
        var action: String?
        var target: String?
        var service: String?
        var authorized: Bool
        var signedByProxy: Bool
        var webIdentityToken: String?
        var fault: String?
    }

    init(upstream: String, fixturePath: String) async throws {
        let python = try require_(TestEnvironment.value("TEST_PYTHON"), "TEST_PYTHON is unset: run scripts/test.sh")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signing-proxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let portFile = folder + "/port"
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/aws/fault_proxy.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--upstream", upstream, "--port-file", portFile, "--sign-unsigned", fixturePath]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let port = try await eventuallyValue("fault_proxy.py to report its port", timeout: .seconds(20)) {
            (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        self.process = process
        self.stdin = stdin
        self.url = "http://127.0.0.1:\(port)"
    }

    func addRules(_ rules: [[String: Any]]) async throws {
        var request = URLRequest(url: URL(string: url + "/__fault/rules")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["rules": rules])
        _ = try await URLSession.shared.data(for: request)
    }

    func requests() async throws -> [Seen] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + "/__fault/log")!)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (json?["requests"] as? [[String: Any]] ?? []).map { r in
            Seen(action: r["action"] as? String, target: r["target"] as? String, service: r["service"] as? String,
                 authorized: r["authorized"] as? Bool ?? false, signedByProxy: r["signed_by_proxy"] as? Bool ?? false,
                 webIdentityToken: r["web_identity_token"] as? String, fault: r["fault"] as? String)
        }
    }

    /// Never waits: blocking a thread of the small cooperative pool stalls other tests.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}

struct MissingTool: Error, CustomStringConvertible { let description: String }

/// `#require` for non-test code paths: throws instead of recording.
func require_<T>(_ value: T?, _ message: String) throws -> T {
    guard let value else { throw MissingTool(description: message) }
    return value
}
