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

    /// Closes every connection and waits until they are closed.
    func closeAll() async {
        let all = channels.withLock { Array($0.values) }
        for channel in all { channel.close(promise: nil) }
        for channel in all { try? await channel.closeFuture.get() }
    }
}

/// A bound listening socket serving HTTP/1.1 (optionally over TLS) to `KubeAPI`.
struct HTTPListener: Sendable {
    let serverChannel: any Channel
    let port: Int
    let connections: ConnectionRegistry

    static func bind(host: String, port: Int, tls: NIOSSLContext?, api: KubeAPI) async throws -> HTTPListener {
        let connections = ConnectionRegistry()
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 512)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    // No pipelining assistance: it stops reading during a response, so a watch would not notice
                    // its client leaving. The handler queues requests itself.
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try pipeline.addHandler(HTTPRequestHandler(api: api, connections: connections))
                }
            }
            .bind(host: host, port: port).get()
        let boundPort = serverChannel.localAddress?.port ?? port
        return HTTPListener(serverChannel: serverChannel, port: boundPort, connections: connections)
    }

    /// Stops accepting and cuts every open connection.
    func close() async {
        try? await serverChannel.close()
        await connections.closeAll()
    }
}

/// Serves the requests of one connection in order. Requests are handled synchronously on the event loop
/// (the store is lock-based), so a plain request costs no thread hop; a delayed request and a watch run in
/// a task and write back through the channel.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: KubeAPI
    private let connections: ConnectionRegistry
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var queue: [(HTTPRequestHead, [UInt8])] = []
    /// A delayed answer or a watch is in progress: later requests wait in `queue`.
    private var busy = false
    private var closed = false

    init(api: KubeAPI, connections: ConnectionRegistry) {
        self.api = api
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connections.add(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        connections.remove(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.removeAll(keepingCapacity: true)
            // curl sends large bodies only after a 100 Continue.
            if requestHead.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                let interim = HTTPResponseHead(version: requestHead.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
            }
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let requestHead = head else { return }
            head = nil
            queue.append((requestHead, body))
            body = []
            processQueue(context: context)
        }
    }

    private func processQueue(context: ChannelHandlerContext) {
        while !busy, !closed, !queue.isEmpty {
            let (requestHead, requestBody) = queue.removeFirst()
            let request = Self.request(requestHead, body: requestBody)
            dispatch(api.handle(request), head: requestHead, request: request, context: context)
        }
    }

    private func dispatch(_ handling: Handling, head: HTTPRequestHead, request: HTTPRequestData, context: ChannelHandlerContext) {
        switch handling {
        case .reply(.full(let status, let headers, let responseBody)):
            let keepAlive = head.isKeepAlive
            var responseHeaders = HTTPHeaders(headers)
            responseHeaders.add(name: "Content-Length", value: String(responseBody.count))
            responseHeaders.add(name: "Cache-Control", value: "no-cache, private")
            if !keepAlive { responseHeaders.add(name: "Connection", value: "close") }
            let responseHead = HTTPResponseHead(
                version: head.version, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: responseBody)))), promise: nil)
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                closed = true
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        case .reply(.drop):
            closed = true
            queue.removeAll()
            context.close(promise: nil)
        case .reply(.watch(let session)):
            busy = true
            startWatch(session, head: head, context: context)
        case .seated(let faults):
            awaitSeat(faults, head: head, request: request, context: context)
        case .later(let delay, let faults):
            busy = true
            let api = self.api
            let eventLoop = context.eventLoop
            let boundHandler = NIOLoopBound(self, eventLoop: eventLoop)
            let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
            Task {
                try? await Task.sleep(for: delay)
                let handling = api.handle(request, takenFaults: faults)
                eventLoop.execute {
                    boundHandler.value.delayEnded(handling, head: head, request: request, context: boundContext.value)
                }
            }
        }
    }

    /// A throttled request: a seat (or a 429 as kube-apiserver sends it), the service time, the answer.
    private func awaitSeat(_ faults: [Fault], head: HTTPRequestHead, request: HTTPRequestData, context: ChannelHandlerContext) {
        busy = true
        let api = self.api
        let eventLoop = context.eventLoop
        let boundHandler = NIOLoopBound(self, eventLoop: eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
        Task {
            let handling: Handling
            if await api.seats.acquire() {
                try? await Task.sleep(for: api.seats.configuration?.serviceTime ?? .zero)
                handling = api.handle(request, takenFaults: faults, seated: true)
                api.seats.release()
            } else {
                handling = .reply(ThrottleConfiguration.rejection)
                api.recordRejection(request)
            }
            eventLoop.execute {
                boundHandler.value.delayEnded(handling, head: head, request: request, context: boundContext.value)
            }
        }
    }

    private func delayEnded(_ handling: Handling, head: HTTPRequestHead, request: HTTPRequestData, context: ChannelHandlerContext) {
        busy = false
        guard !closed else { return }
        dispatch(handling, head: head, request: request, context: context)
        processQueue(context: context)
    }

    private func startWatch(_ session: WatchSession, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Cache-Control", value: "no-cache, private")
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        let channel = context.channel
        let continuation = session.continuation
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        let api = self.api
        let eventLoop = context.eventLoop
        let boundHandler = NIOLoopBound(self, eventLoop: eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
        let keepAlive = head.isKeepAlive
        Task {
            let completed = await WatchWriter.pump(session, channel: channel, api: api)
            if let id = session.id { api.store.endWatch(id) }
            eventLoop.execute {
                boundHandler.value.watchEnded(completed: completed, keepAlive: keepAlive, context: boundContext.value)
            }
        }
    }

    private func watchEnded(completed: Bool, keepAlive: Bool, context: ChannelHandlerContext) {
        guard !closed else { return }
        guard completed else {
            closed = true
            context.close(promise: nil)
            return
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            busy = false
            processQueue(context: context)
        } else {
            closed = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    static func request(_ head: HTTPRequestHead, body: [UInt8]) -> HTTPRequestData {
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
}

/// Streams a watch's events to its connection.
enum WatchWriter {
    /// Writes the watch's events until its stream ends; false when it must end by cutting the connection
    /// (client gone, write failed, or an abort was asked for).
    static func pump(_ session: WatchSession, channel: any Channel, api: KubeAPI) async -> Bool {
        let continuation = session.continuation
        let kind = session.kind
        let store = api.store
        return await withTaskGroup(of: Void.self, returning: Bool.self) { group in
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
            var completed = true
            for await item in session.stream {
                let bytes: [UInt8]
                switch item {
                case .line(let line): bytes = line
                case .bookmark(let revision): bytes = bookmark(kind, revision: revision)
                case .abort: bytes = []
                }
                if bytes.isEmpty {
                    completed = false
                    break
                }
                let part = HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: bytes)))
                do {
                    try await channel.writeAndFlush(part).get()
                } catch {
                    completed = false
                    break
                }
            }
            group.cancelAll()
            return completed && channel.isActive
        }
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
