#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

extension KubernetesClient {
    /// Opens a watch. Errors before the stream starts (403, 410 Gone for an expired resourceVersion, an
    /// unreachable server) are thrown here; later ones end the stream. The stream ends when the server
    /// closes the watch (its `timeoutSeconds`, or a restart); cancel the consuming task to stop early.
    public func watch<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        resourceVersion: String?,
        timeoutSeconds: Int? = nil,
        allowBookmarks: Bool = true
    ) async throws -> AsyncThrowingStream<WatchEvent<R>, any Error> {
        let target = RequestTarget(R.self, verb: "watch", namespace: namespace, name: nil)
        var query: [(String, String)] = [("watch", "true")]
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion, !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        if allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        let path = ResourcePath.collection(R.self, namespace: namespace)
        // The server ends the watch after timeoutSeconds; the deadline only guards against a silent peer.
        let deadline: NIODeadline = timeoutSeconds.map { .now() + .seconds(Int64($0) + 30) } ?? .distantFuture
        let response = try await open(.GET, path: path, query: query, target: target, deadline: deadline)

        let (stream, continuation) = AsyncThrowingStream<WatchEvent<R>, any Error>.makeStream()
        let decoder = self.decoder
        let server = self.server
        let logger = self.logger
        let task = Task {
            var splitter = LineSplitter()
            do {
                for try await chunk in response.body {
                    splitter.append(chunk)
                    while let line = splitter.nextLine() {
                        if let event = try Self.decodeWatchLine(R.self, line, decoder: decoder) {
                            continuation.yield(event)
                        }
                    }
                }
                if let rest = splitter.remainder(), let event = try Self.decodeWatchLine(R.self, rest, decoder: decoder) {
                    continuation.yield(event)
                }
                logger.trace("kube watch ended", metadata: ["path": "\(path)"])
                continuation.finish()
            } catch let error as KubeDecodingError {
                continuation.finish(throwing: error)
            } catch {
                if Task.isCancelled {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: KubeTransportError.classify(error, server: server, verb: "watch", path: path))
                }
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    static func decodeWatchLine<R: KubeResource>(_ type: R.Type, _ line: ArraySlice<UInt8>, decoder: JSONDecoder) throws -> WatchEvent<R>? {
        do {
            return try line.withUnsafeBytes { raw in try decoder.decode(WatchLine<R>.self, from: Data(raw)) }.event
        } catch {
            throw KubeDecodingError(verb: "watch", resource: R.plural, type: "watch event", underlying: "\(error)")
        }
    }
}

/// Splits a byte stream into newline-terminated lines (watch events are one JSON object per line).
struct LineSplitter {
    private var buffer: [UInt8] = []
    private var start = 0

    mutating func append(_ chunk: ByteBuffer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: chunk.readableBytesView)
    }

    /// The next complete, non-blank line without its terminator.
    mutating func nextLine() -> ArraySlice<UInt8>? {
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[start..<newline]
            start = newline + 1
            if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) {
                return line
            }
        }
        return nil
    }

    /// What is left after the stream ended, when it holds more than blanks.
    mutating func remainder() -> ArraySlice<UInt8>? {
        let rest = buffer[start...]
        start = buffer.count
        return rest.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\t") }) ? rest : nil
    }
}
