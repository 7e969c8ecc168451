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

    private let server: ScriptServer
    let pkiDirectory: String
    /// `https://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_ROLESANYWHERE.
    let url: String
    private var controlURL: String { server.url }

    init(motoFixturePath: String) async throws {
        let pki = FileManager.default.temporaryDirectory.appendingPathComponent("ra-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        server = try await ScriptServer.start(
            "rolesanywhere_endpoint.py", ["--pki-dir", pki, "--moto-fixture", motoFixturePath], timeout: .seconds(60))
        guard let tlsPort = (try? String(contentsOfFile: pki + "/tls-port", encoding: .utf8)).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            server.stop()
            throw ScriptServer.Failure(description: "rolesanywhere_endpoint.py wrote no tls-port")
        }
        self.pkiDirectory = pki
        self.url = "https://127.0.0.1:\(tlsPort)"
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

    /// Never waits (the script's reaper collects it).
    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: pkiDirectory)
    }
}
