#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import SyncEngine

/// `/healthz`, `/readyz` and `/metrics` on HTTP_PORT: three GETs answered straight from SwiftNIO's HTTP/1.1
/// codec. A web framework for them cost several MB of the binary (Hummingbird and its router, see
/// docs/benchmarks.md), for nothing these endpoints use.
enum HTTPEndpoints {
    /// Liveness fails when the controller's worker has been busy with one batch for this long: a pass over
    /// thousands of namespaces takes seconds, even a throttled one minutes; this is a stuck process.
    static let stalledAfter: Duration = .seconds(900)

    static func application(port: Int, status: any HealthReporting, registry: PrometheusCollectorRegistry, logger: Logger) -> some Service {
        Server(port: port, status: status, registry: registry, logger: logger)
    }

    /// What a path answers: status, content type, body.
    static func answer(_ path: String, status: any HealthReporting, registry: PrometheusCollectorRegistry) async -> (HTTPResponseStatus, String, [UInt8]) {
        let text = "text/plain; charset=utf-8"
        switch path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path {
        case "/healthz":
            let (alive, reason) = await status.alive(limit: stalledAfter)
            return (alive ? .ok : .serviceUnavailable, text, Array((reason + "\n").utf8))
        case "/readyz":
            let (ready, reason) = await status.ready()
            return (ready ? .ok : .serviceUnavailable, text, Array((reason + "\n").utf8))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
        default:
            return (.notFound, text, Array("not found: /healthz, /readyz and /metrics are served here\n".utf8))
        }
    }

    struct Server: Service {
        let port: Int
        let status: any HealthReporting
        let registry: PrometheusCollectorRegistry
        let logger: Logger

        func run() async throws {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "0.0.0.0", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
            // Graceful shutdown closes the listener; the connections in flight finish their request.
            try await withGracefulShutdownHandler {
                try await listener.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in connections {
                            group.addTask {
                                // Kept-alive connections (Prometheus, the kubelet) would hold the shutdown
                                // open: close each, after the answer it is writing.
                                await withGracefulShutdownHandler {
                                    await serve(connection)
                                } onGracefulShutdown: {
                                    connection.channel.close(mode: .input, promise: nil)
                                }
                            }
                        }
                    }
                }
            } onGracefulShutdown: {
                listener.channel.close(promise: nil)
            }
        }

        /// Requests of one connection, answered in order; keep-alive as the client asks.
        private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
            do {
                try await connection.executeThenClose { inbound, outbound in
                    var head: HTTPRequestHead?
                    for try await part in inbound {
                        switch part {
                        case .head(let requestHead): head = requestHead
                        case .body: continue
                        case .end:
                            guard let request = head else { continue }
                            head = nil
                            let (code, contentType, body) = request.method == .GET
                                ? await HTTPEndpoints.answer(request.uri, status: status, registry: registry)
                                : (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET\n".utf8))
                            var headers = HTTPHeaders()
                            headers.add(name: "Content-Type", value: contentType)
                            headers.add(name: "Content-Length", value: String(body.count))
                            headers.add(name: "Server", value: "aws-ecr-cred-helper")
                            if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
                            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: code, headers: headers)))
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                            try await outbound.write(.end(nil))
                            if !request.isKeepAlive { return }
                        }
                    }
                }
            } catch {
                logger.debug("metrics/probe connection ended: \(error)")
            }
        }
    }
}
