import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// scripts/aws/fault_proxy.py in front of `upstream` (moto), started for one test: it forwards requests unchanged
/// (so signatures still verify) except those matching a rule, which are throttled, failed, mangled or dropped;
/// with `signUnsignedWith` it signs the unsigned AssumeRoleWithWebIdentity calls with that fixture's keys (moto
/// with signature checking on cannot serve them unsigned). Its log shows what the client sent.
public final class FaultProxy: Sendable {
    public let server: ScriptServer
    public var url: String { server.url }

    public init(upstream: String, signUnsignedWith fixturePath: String? = nil) async throws {
        var arguments = ["--upstream", upstream]
        if let fixturePath { arguments += ["--sign-unsigned", fixturePath] }
        server = try await ScriptServer.start("fault_proxy.py", arguments)
    }

    /// One request as the proxy saw it.
    public struct Seen: Sendable {
        public var target: String?
        public var action: String?
        public var service: String?
        public var authorized: Bool
        public var signedByProxy: Bool
        public var amzDate: String?
        public var securityToken: Bool
        public var status: Int?
        public var fault: String?
        public var webIdentityToken: String?
    }

    /// Rules as fault_proxy.py takes them: `{"match": {"target": ...}, "times": N, "status": S, "body": ..., "drop": true}`.
    public func addRules(_ rules: [[String: Any]]) async throws {
        try await server.postJSON("/__fault/rules", ["rules": rules])
    }

    public func setClockOffset(_ seconds: Double) async throws {
        try await server.postJSON("/__fault/clock", ["offset": seconds])
    }

    public func requests() async throws -> [Seen] {
        let json = try await server.getJSON("/__fault/log")
        let list = json["requests"] as? [[String: Any]] ?? []
        return list.map { r in
            Seen(
                target: r["target"] as? String, action: r["action"] as? String, service: r["service"] as? String,
                authorized: r["authorized"] as? Bool ?? false, signedByProxy: r["signed_by_proxy"] as? Bool ?? false,
                amzDate: r["x_amz_date"] as? String, securityToken: r["security_token"] as? Bool ?? false,
                status: r["status"] as? Int, fault: r["fault"] as? String, webIdentityToken: r["web_identity_token"] as? String)
        }
    }

    /// Never waits (the script's reaper collects it).
    public func stop() { server.stop() }
}

/// A forward proxy (scripts/aws/connect_proxy.py).
public final class ForwardProxy: Sendable {
    public let server: ScriptServer
    public var port: Int { server.port }

    public init(auth: String? = nil) async throws {
        server = try await ScriptServer.start("connect_proxy.py", auth.map { ["--auth", $0] } ?? [])
    }

    public func connects() async throws -> [String] {
        try await server.getJSON("/__proxy/log")["connects"] as? [String] ?? []
    }

    public func authFailures() async throws -> Int {
        try await server.getJSON("/__proxy/log")["auth_failures"] as? Int ?? 0
    }

    public func stop() { server.stop() }
}

extension ScriptServer {
    /// GET of a control endpoint's JSON object.
    public func getJSON(_ path: String) async throws -> [String: Any] {
        let request = HTTPClientRequest(url: url + path)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
    }

    /// POST of a JSON object to a control endpoint, which must answer 200.
    public func postJSON(_ path: String, _ body: [String: Any]) async throws {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        if response.status.code != 200 { throw Failure(description: "\(path) answered HTTP \(response.status.code)") }
    }
}
