import AWSClient
import Foundation
import Logging
import Testing
import TestSupport

/// scripts/aws/rolesanywhere_endpoint.py for one test: its throwaway PKI (certificates and keys of every kind,
/// the trust anchor's CA, the endpoint's TLS CA) and its CreateSession endpoint on loopback over TLS.
final class RolesAnywhereWorld: @unchecked Sendable {
    static let trustAnchorARN = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/11111111-2222-3333-4444-555555555555"
    static let profileARN = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/66666666-7777-8888-9999-000000000000"
    static let roleARN = "arn:aws:iam::123456789012:role/ecr-pull-role"

    let tool: ScriptServer
    let pkiDirectory: URL
    /// `https://127.0.0.1:<port>`: set as AWS_ENDPOINT_URL_ROLESANYWHERE.
    let endpointURL: String

    private init(tool: ScriptServer, pkiDirectory: URL, endpointURL: String) {
        self.tool = tool
        self.pkiDirectory = pkiDirectory
        self.endpointURL = endpointURL
    }

    /// Starts the endpoint; with `moto`, its answers are moto's AssumeRole credentials of the fixture's role.
    static func start(moto: Bool = false, roleARN: String? = RolesAnywhereWorld.roleARN) async throws -> RolesAnywhereWorld {
        let pki = try TestEnv.tempDirectory()
        var arguments = ["--pki-dir", pki.path]
        if moto { arguments += ["--moto-fixture", try #require(TestEnv.value("MOTO_FIXTURE"), "MOTO_FIXTURE is unset")] }
        if let roleARN { arguments += ["--role-arn", roleARN] }
        let tool = try await ScriptServer.start("rolesanywhere_endpoint.py", arguments, timeout: .seconds(60))
        let portText = try String(contentsOf: pki.appendingPathComponent("tls-port"), encoding: .utf8)
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)))
        return RolesAnywhereWorld(tool: tool, pkiDirectory: pki, endpointURL: "https://127.0.0.1:\(port)")
    }

    func stop() {
        tool.stop()
        try? FileManager.default.removeItem(at: pkiDirectory)
    }

    /// The path of a file of the PKI (`rsa.crt`, `ec256.key`, `tls/ca.pem`, ...).
    func path(_ name: String) -> String { pkiDirectory.appendingPathComponent(name).path }

    var caBundle: String { path("tls/ca.pem") }

    /// Endpoints sending Roles Anywhere here (and everything else to `others`, e.g. moto).
    func endpoints(others: String? = nil) throws -> AWSEndpoints {
        try AWSEndpoints(endpointURL: others, serviceEndpointURLs: [.rolesAnywhere: endpointURL])
    }

    func httpSettings() -> AWSHTTPSettings {
        AWSHTTPSettings(caBundlePath: caBundle, connectTimeout: .seconds(5), requestTimeout: .seconds(30))
    }

    func request(durationSeconds: Int? = nil, roleSessionName: String? = nil, roleARN: String = RolesAnywhereWorld.roleARN) throws
        -> RolesAnywhereSessionRequest
    {
        try RolesAnywhereSessionRequest(
            trustAnchorARN: Self.trustAnchorARN, profileARN: Self.profileARN, roleARN: roleARN, durationSeconds: durationSeconds,
            roleSessionName: roleSessionName)
    }

    func identity(_ certificate: String, _ key: String) throws -> RolesAnywhereIdentity {
        try RolesAnywhereIdentity.read(certificateFile: path(certificate), privateKeyFile: path(key))
    }

    struct Seen: Sendable {
        var serial: String?
        var ok: Bool
        var error: String?
        var signedHeaders: String?
        var body: String
    }

    /// Every CreateSession the endpoint answered, in order.
    func requests() async throws -> [Seen] {
        let json = try await tool.getJSON("/__ra/log")
        return (json["requests"] as? [[String: Any]] ?? []).map { r in
            Seen(
                serial: r["serial"] as? String, ok: r["ok"] as? Bool ?? false, error: r["error"] as? String,
                signedHeaders: r["signed_headers"] as? String, body: r["body"] as? String ?? "")
        }
    }
}

/// Runs a script of scripts/aws to its end with `input` on stdin (TestSupport's `ChildProcess`: the exit is
/// awaited, no thread is held while it runs).
func runPythonScript(_ script: String, input: Data) async throws -> (status: Int32, output: Data, errors: String) {
    let python = try #require(TestEnv.python, "TEST_PYTHON is unset")
    let dir = try TestEnv.tempDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let inFile = dir.appendingPathComponent("in")
    try input.write(to: inFile)
    let result = try await ChildProcess.run(
        python, [TestEnv.repoRoot.appendingPathComponent("scripts/aws/\(script)").path],
        environment: ProcessInfo.processInfo.environment, outputDirectory: dir.path, input: .file(inFile.path))
    return (result.exitCode ?? -1, Data(result.stdout.utf8), result.stderr)
}
