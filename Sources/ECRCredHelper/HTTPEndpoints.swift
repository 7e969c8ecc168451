#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import Logging
import Prometheus
import SyncEngine

/// `/healthz`, `/readyz` and `/metrics` on HTTP_PORT.
enum HTTPEndpoints {
    /// Liveness fails when the controller's worker has been busy with one batch for this long: a pass over
    /// thousands of namespaces takes seconds, even a throttled one minutes; this is a stuck process.
    static let stalledAfter: Duration = .seconds(900)

    static func application(port: Int, status: HelperStatus, registry: PrometheusCollectorRegistry, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            let (alive, reason) = await status.liveness(limit: stalledAfter)
            return text(alive ? .ok : .serviceUnavailable, reason + "\n")
        }
        router.get("readyz") { _, _ -> Response in
            let (ready, reason) = await status.readiness()
            return text(ready ? .ok : .serviceUnavailable, reason + "\n")
        }
        router.get("metrics") { _, _ -> Response in
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: buffer)
            )
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("0.0.0.0", port: port), serverName: "aws-ecr-cred-helper"),
            logger: quiet
        )
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
