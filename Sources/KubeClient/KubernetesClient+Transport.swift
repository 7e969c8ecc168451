#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import CommonBasics

extension KubernetesClient {
    /// Sends a request and returns the body of a 2xx answer; throws `KubeAPIError` for any other status.
    func send(
        _ method: HTTPMethod,
        path: String,
        query: [(String, String)] = [],
        body: ByteBuffer? = nil,
        contentType: String? = nil,
        target: RequestTarget
    ) async throws -> ByteBuffer {
        let deadline = NIODeadline.now() + requestTimeout
        let response = try await open(method, path: path, query: query, body: body, contentType: contentType, target: target, deadline: deadline)
        do {
            return try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch {
            throw KubeTransportError.classify(error, server: server, verb: target.verb, path: path)
        }
    }

    /// Sends a request and returns the response of a 2xx answer with its body not yet read (for watches);
    /// any other status is read and thrown as `KubeAPIError`.
    func open(
        _ method: HTTPMethod,
        path: String,
        query: [(String, String)] = [],
        body: ByteBuffer? = nil,
        contentType: String? = nil,
        target: RequestTarget,
        deadline: NIODeadline
    ) async throws -> HTTPClientResponse {
        let url = server + path + ResourcePath.query(query)
        let logPath = path + ResourcePath.query(query)
        var retriedAfterUnauthorized = false
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.reserveCapacity(4)
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: configuration.userAgent)
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if let tokenSource {
                let token = try tokenSource.token()
                if !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer " + token) }
            }
            var execCredentials: ExecCredentials?
            if let execProvider {
                let credentials = try await execProvider.credentials()
                execCredentials = credentials
                if let token = credentials.token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
                if let certificate = credentials.certificatePEM, let key = credentials.keyPEM {
                    // The connection pool keys connections by TLS configuration: a rotated certificate
                    // gets new connections, as client-go's connection tracker closes the old ones.
                    request.tlsConfiguration = try Self.tls(base: baseTLS, certificatePEM: certificate, keyPEM: key, origin: "the exec plugin's")
                }
            }
            if let body { request.body = .bytes(body) }

            let started = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: deadline, logger: logger)
            } catch {
                let failure = await refined(KubeTransportError.classify(error, server: server, verb: target.verb, path: logPath))
                logger.debug("kube request failed", metadata: ["verb": "\(target.verb)", "method": "\(method.rawValue)", "path": "\(logPath)", "error": "\(failure.kind.rawValue)"])
                throw failure
            }
            let status = Int(response.status.code)
            logger.debug(
                "kube request",
                metadata: [
                    "verb": "\(target.verb)", "method": "\(method.rawValue)", "path": "\(logPath)", "status": "\(status)",
                    "ms": "\(started.duration(to: .now).milliseconds)",
                ]
            )
            if (200..<300).contains(status) { return response }

            let errorBody = try? await response.body.collect(upTo: 1024 * 1024)
            if status == 401, !retriedAfterUnauthorized, let execProvider, let execCredentials,
               await execProvider.refresh(after: execCredentials) {
                // client-go runs the plugin again after a 401 (exec.go, maybeRefreshCreds); this client also
                // sends the request once more with the new credentials, as it does for a token file.
                retriedAfterUnauthorized = true
                logger.debug("kube request unauthorized; ran the exec plugin again and retrying once", metadata: ["path": "\(logPath)"])
                continue
            }
            if status == 401, !retriedAfterUnauthorized, let tokenSource, tokenSource.isFile {
                // A rotated projected token: read the file again and try once more.
                retriedAfterUnauthorized = true
                tokenSource.reload()
                logger.debug("kube request unauthorized; re-read the token file and retrying once", metadata: ["path": "\(logPath)"])
                continue
            }
            throw apiError(status: status, headers: response.headers, body: errorBody, target: target)
        }
    }

    func apiError(status: Int, headers: HTTPHeaders, body: ByteBuffer?, target: RequestTarget) -> KubeAPIError {
        var decoded: KubeStatus?
        if let body, body.readableBytes > 0 {
            decoded = body.withUnsafeReadableBytes { raw in try? decoder.decode(KubeStatus.self, from: Data(raw)) }
        }
        var retryAfter: Duration?
        if status == 429 || status >= 500 {
            if let header = headers.first(name: "Retry-After"), let seconds = Int(header.trimmingASCIIWhitespace()) {
                retryAfter = .seconds(seconds)
            } else if let seconds = decoded?.details?.retryAfterSeconds {
                retryAfter = .seconds(seconds)
            }
        }
        return KubeAPIError(
            statusCode: status, status: decoded, verb: target.verb, resource: target.resource, group: target.group,
            namespace: target.namespace, name: target.name, retryAfter: retryAfter
        )
    }

    /// Whole milliseconds, for logs (Watcher uses it).
    static func milliseconds(_ duration: Duration) -> Int64 { duration.milliseconds }
}
