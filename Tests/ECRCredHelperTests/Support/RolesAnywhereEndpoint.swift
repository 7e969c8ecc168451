import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport

/// scripts/aws/rolesanywhere_endpoint.py for one test: a throwaway PKI (the trust anchor's CA, leaf certificates and
/// keys) and CreateSession on loopback over TLS, answering with moto's credentials for the fixture's role (moto,
/// with signature checking on, then accepts them for GetAuthorizationToken). It exits when its stdin closes.
final class RolesAnywhereEndpoint: Sendable {
    static let trustAnchorARN = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/11111111-2222-3333-4444-555555555555"
    static let profileARN = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/66666666-7777-8888-9999-000000000000"

    private let process: Process
    private let stdin: Pipe
    let pkiDirectory: String
    private let folder: String
    /// `https://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_ROLESANYWHERE.
    let url: String
    private let controlURL: String

    init(motoFixturePath: String) async throws {
        let python = try require_(TestEnvironment.value("TEST_PYTHON"), "TEST_PYTHON is unset: run scripts/test.sh")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ra-endpoint-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let portFile = folder + "/port"
        let pki = folder + "/pki"
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/aws/rolesanywhere_endpoint.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--port-file", portFile, "--pki-dir", pki, "--moto-fixture", motoFixturePath]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let port = try await eventuallyValue("rolesanywhere_endpoint.py to report its port", timeout: .seconds(60)) {
            (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let tlsPort = try require_(
            (try? String(contentsOfFile: pki + "/tls-port", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
            "rolesanywhere_endpoint.py wrote no tls-port")
        self.process = process
        self.stdin = stdin
        self.pkiDirectory = pki
        self.folder = folder
        self.url = "https://127.0.0.1:\(tlsPort)"
        self.controlURL = "http://127.0.0.1:\(port)"
    }

    /// A file of the PKI (`rsa.crt`, `ec256.key`, `tls/ca.pem`, ...).
    func path(_ name: String) -> String { pkiDirectory + "/" + name }

    /// The endpoint's TLS CA, for AWS_CA_BUNDLE.
    var caBundle: String { path("tls/ca.pem") }

    struct Seen: Sendable {
        var serial: String?
        var ok: Bool
        var error: String?
    }

    func requests() async throws -> [Seen] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: controlURL + "/__ra/log")!)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (json?["requests"] as? [[String: Any]] ?? []).map { r in
            Seen(serial: r["serial"] as? String, ok: r["ok"] as? Bool ?? false, error: r["error"] as? String)
        }
    }

    /// Never waits: blocking a thread of the small cooperative pool stalls other tests.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
