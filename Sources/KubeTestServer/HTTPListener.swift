import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The open connections, so a stop or restart can cut them all like a dying API server does.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: any Channel) { _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }

    func closeAll() {
        let all = channels.withLock { Array($0.values) }
        for channel in all { channel.close(promise: nil) }
    }
}

typealias HTTPConnection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// A bound listening socket serving HTTP/1.1 (optionally over TLS) to `KubeAPI`.
struct HTTPListener: Sendable {
    let serverChannel: any Channel
    let port: Int
    let acceptLoop: Task<Void, Never>
    let connections: ConnectionRegistry

    static func bind(host: String, port: Int, tls: NIOSSLContext?, api: KubeAPI) async throws -> HTTPListener {
        let connections = ConnectionRegistry()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 512)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    // No pipelining assistance: it stops reading during a response, so a watch would not notice its client leaving.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true)
                    return try HTTPConnection(wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        let acceptLoop = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await serve(connection, api: api, connections: connections) }
                        }
                    }
                } catch {
                    // The listening socket was closed (stop/restart): nothing to report.
                }
            }
        }
        return HTTPListener(serverChannel: server.channel, port: boundPort, acceptLoop: acceptLoop, connections: connections)
    }

    /// Stops accepting, cuts every open connection and waits until they are all gone.
    func close() async {
        try? await serverChannel.close()
        connections.closeAll()
        await acceptLoop.value
    }

    private static func serve(_ connection: HTTPConnection, api: KubeAPI, connections: ConnectionRegistry) async {
        let channel = connection.channel
        connections.add(channel)
        defer { connections.remove(channel) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.removeAll(keepingCapacity: true)
                    case .body(let buffer):
                        body.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let keepAlive = requestHead.isKeepAlive
                        let reply = await api.handle(Self.request(requestHead, body: body))
                        switch reply {
                        case .drop:
                            return
                        case .full(let status, let headers, let responseBody):
                            var responseHeaders = HTTPHeaders(headers)
                            responseHeaders.add(name: "Content-Length", value: String(responseBody.count))
                            responseHeaders.add(name: "Cache-Control", value: "no-cache, private")
                            if !keepAlive { responseHeaders.add(name: "Connection", value: "close") }
                            let responseHead = HTTPResponseHead(
                                version: requestHead.version, status: HTTPResponseStatus(statusCode: status),
                                headers: responseHeaders)
                            try await outbound.write(
                                contentsOf: [
                                    .head(responseHead),
                                    .body(.byteBuffer(channel.allocator.buffer(bytes: responseBody))),
                                    .end(nil),
                                ])
                        case .watch(let session):
                            let clientStillThere = try await Self.stream(
                                session, version: requestHead.version, outbound: outbound, channel: channel, api: api)
                            if !clientStillThere { return }
                        }
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            // A client that goes away mid-request is normal for a test server.
        }
    }

    private static func request(_ head: HTTPRequestHead, body: [UInt8]) -> HTTPRequestData {
        let uri = head.uri
        let path: String
        let query: String
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = String(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = ""
        }
        return HTTPRequestData(
            method: head.method.rawValue, path: QueryParameters.decodePath(path), query: query,
            headers: head.headers.map { ($0.name, $0.value) }, body: body)
    }

    /// Writes a watch stream until it ends; returns false when the client went away.
    private static func stream(
        _ session: WatchSession, version: HTTPVersion, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel, api: KubeAPI
    ) async throws -> Bool {
        let continuation = session.continuation
        let closed = Mutex(false)
        channel.closeFuture.whenComplete { _ in
            closed.withLock { $0 = true }
            continuation.finish()
        }
        defer {
            if let id = session.id { api.store.endWatch(id) }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Cache-Control", value: "no-cache, private")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
        let kind = session.kind
        let store = api.store
        let failed = await withTaskGroup(of: Void.self, returning: Bool.self) { group in
            if let interval = session.bookmarkInterval, let id = session.id {
                group.addTask {
                    while true {
                        do { try await Task.sleep(for: interval) } catch { return }
                        store.requestBookmark(id)
                    }
                }
            }
            if let timeout = session.timeout {
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return }
                    continuation.finish()
                }
            }
            var failed = false
            for await item in session.stream {
                let bytes: [UInt8]
                switch item {
                case .line(let line): bytes = line
                case .bookmark(let revision): bytes = Self.bookmark(kind, revision: revision)
                case .abort: bytes = []
                }
                if bytes.isEmpty {
                    failed = true
                    break
                }
                do {
                    try await outbound.write(.body(.byteBuffer(channel.allocator.buffer(bytes: bytes))))
                } catch {
                    failed = true
                    break
                }
            }
            group.cancelAll()
            return failed
        }
        if failed || closed.withLock({ $0 }) { return false }
        try await outbound.write(.end(nil))
        return true
    }

    private static func bookmark(_ kind: ResourceKind, revision: UInt64) -> [UInt8] {
        var line: [UInt8] = Array(#"{"type":"BOOKMARK","object":{"apiVersion":""#.utf8)
        line.append(contentsOf: kind.apiVersion.utf8)
        line.append(contentsOf: #"","kind":""#.utf8)
        line.append(contentsOf: kind.kind.utf8)
        line.append(contentsOf: #"","metadata":{"resourceVersion":""#.utf8)
        line.append(contentsOf: String(revision).utf8)
        line.append(contentsOf: "\"}}}\n".utf8)
        return line
    }
}

extension QueryParameters {
    /// Percent-decodes a path (without turning `+` into a space).
    static func decodePath(_ path: String) -> String {
        guard path.contains("%") else { return path }
        return decode(path.replacing("+", with: "%2B"))
    }
}
