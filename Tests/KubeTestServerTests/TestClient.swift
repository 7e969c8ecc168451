import AsyncHTTPClient
import KubeTestServer
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import TestSupport

/// An HTTPS client that trusts only the stand-in's CA, as a real client trusts its cluster's CA.
struct TestClient: Sendable {
    let http: HTTPClient
    let server: KubeTestServer

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var json: JSONValue? { try? JSONValue(parsing: text) }
        var reason: String? { json?["reason"]?.stringValue }
        var message: String? { json?["message"]?.stringValue }
    }

    init(_ server: KubeTestServer) throws {
        var configuration = HTTPClient.Configuration()
        if !server.caPEM.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.caPEM.utf8)))
            configuration.tlsConfiguration = tls
        }
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.server = server
    }

    func shutdown() async throws {
        try await http.shutdown()
    }

    func request(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil,
        contentType: String = "application/json"
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        return request
    }

    func send(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil,
        contentType: String = "application/json"
    ) async throws -> Answer {
        let response = try await http.execute(
            request(method, path, token: token, body: body, contentType: contentType), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    /// Only the status line and headers (for streams a test does not read).
    func head(_ method: HTTPMethod, _ path: String, token: String?) async throws -> Answer {
        let response = try await http.execute(request(method, path, token: token), timeout: .seconds(30))
        var text = ""
        if response.status != .ok {
            text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        }
        return Answer(status: Int(response.status.code), headers: response.headers, text: text)
    }

    /// Opens a watch and collects its events in the background.
    func watch(_ path: String, token: String) async throws -> WatchReader {
        let response = try await http.execute(request(.GET, path, token: token), timeout: .seconds(120))
        return WatchReader(response: response)
    }
}

/// Reads a watch stream line by line into `events`.
final class WatchReader: Sendable {
    let status: Int
    private final class Box: Sendable {
        let state = Mutex<(events: [JSONValue], finished: Bool)>(([], false))
    }

    private let box = Box()
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(response: HTTPClientResponse) {
        status = Int(response.status.code)
        let box = self.box
        let reader = Task {
            var pending: [UInt8] = []
            do {
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        if let event = try? JSONValue(parsing: line) { box.state.withLock { $0.events.append(event) } }
                    }
                }
            } catch {}
            box.state.withLock { $0.finished = true }
        }
        task.withLock { $0 = reader }
    }

    var events: [JSONValue] { box.state.withLock { $0.events } }
    var finished: Bool { box.state.withLock { $0.finished } }
    var types: [String] { events.compactMap { $0["type"]?.stringValue } }

    /// Event objects' names, in order, for events of `type`.
    func names(_ type: String) -> [String] {
        events.filter { $0["type"]?.stringValue == type }.compactMap { $0["object"]?["metadata"]?["name"]?.stringValue }
    }

    func cancel() {
        task.withLock { $0?.cancel() }
    }
}

/// A started server plus a client, stopped together.
func withServer(
    _ configuration: KubeTestServerConfiguration = .init(),
    _ body: (KubeTestServer, TestClient) async throws -> Void
) async throws {
    let server = try await KubeTestServer.start(configuration)
    let client = try TestClient(server)
    do {
        try await body(server, client)
    } catch {
        try? await client.shutdown()
        try? await server.stop()
        throw error
    }
    try await client.shutdown()
    try await server.stop()
}

func secretJSON(_ name: String, namespace: String? = nil, data: [String: String] = ["k": "dg=="], type: String? = nil)
    -> String
{
    var object: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name)]]
    if let namespace { object["metadata"]?["namespace"] = .string(namespace) }
    object["data"] = .object(data.mapValues { .string($0) })
    if let type { object["type"] = .string(type) }
    return object.jsonString
}

let applyContentType = "application/apply-patch+yaml"
let helperToken = "helper-token"
