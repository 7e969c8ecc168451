import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// Sends signed AWS requests: HTTP clients (direct and through proxies), retries (standard mode, one retry
/// token bucket per transport), clock-skew correction, and error classification. Share one transport per
/// process; call `shutdown()` when done (the HTTP clients it created must be shut down).
public final class AWSHTTPTransport: Sendable {
    public let settings: AWSHTTPSettings
    public let retryPolicy: AWSRetryPolicy
    let logger: Logger

    private enum ClientSource: Sendable {
        case owned(TLSConfiguration?)
        case external(HTTPClient)
    }
    private let source: ClientSource
    private struct ClientKey: Hashable { var proxy: String? }
    private let clients = Mutex<[ClientKey: HTTPClient]>([:])
    private let isShutDown = Mutex(false)

    private let bucket: Mutex<RetryTokenBucket>
    private let skew = Mutex<Double>(0)

    let now: @Sendable () -> Date
    let random: @Sendable () -> Double
    let sleep: @Sendable (Duration) async throws -> Void

    /// Creates a transport that makes its own HTTP clients from `settings` (proxies, CA bundle, timeouts).
    /// Throws `AWSError` (`.invalidConfiguration`) when the CA bundle cannot be read.
    public convenience init(
        settings: AWSHTTPSettings = AWSHTTPSettings(),
        retryPolicy: AWSRetryPolicy = .standard,
        logger: Logger = Logger(label: "AWSClient")
    ) throws {
        try self.init(
            settings: settings, retryPolicy: retryPolicy, logger: logger, now: { Date() }, random: { Double.random(in: 0...1) },
            sleep: { try await Task.sleep(for: $0) })
    }

    /// Uses the caller's `HTTPClient` for every request (its proxy and TLS configuration apply; the caller shuts
    /// it down). `settings.requestTimeout` still bounds each attempt.
    public convenience init(
        httpClient: HTTPClient,
        settings: AWSHTTPSettings = AWSHTTPSettings(),
        retryPolicy: AWSRetryPolicy = .standard,
        logger: Logger = Logger(label: "AWSClient")
    ) {
        self.init(
            source: .external(httpClient), settings: settings, retryPolicy: retryPolicy, logger: logger, now: { Date() },
            random: { Double.random(in: 0...1) }, sleep: { try await Task.sleep(for: $0) })
    }

    /// For tests: inject the clock, the jitter source and the sleep.
    package convenience init(
        settings: AWSHTTPSettings,
        retryPolicy: AWSRetryPolicy,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        random: @escaping @Sendable () -> Double,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) throws {
        let tls = try Self.loadTLSConfiguration(settings)
        self.init(source: .owned(tls), settings: settings, retryPolicy: retryPolicy, logger: logger, now: now, random: random, sleep: sleep)
    }

    private init(
        source: ClientSource,
        settings: AWSHTTPSettings,
        retryPolicy: AWSRetryPolicy,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        random: @escaping @Sendable () -> Double,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.source = source
        self.settings = settings
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.bucket = Mutex(RetryTokenBucket(capacity: retryPolicy.retryQuota))
        self.now = now
        self.random = random
        self.sleep = sleep
    }

    static func loadTLSConfiguration(_ settings: AWSHTTPSettings) throws -> TLSConfiguration? {
        guard let path = settings.caBundlePath else {
            guard settings.lazySystemTrustRoots, let folder = hashedCertificateFolder(settings.systemCertificateFolder) else { return nil }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(folder)
            return tls
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw AWSError.invalidConfiguration("AWS_CA_BUNDLE=\(path): no such file; point it at a PEM file with the CA certificates to trust")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw AWSError.invalidConfiguration("AWS_CA_BUNDLE=\(path): cannot read PEM certificates (\(error)); it must contain -----BEGIN CERTIFICATE----- blocks")
        }
        guard !certificates.isEmpty else {
            throw AWSError.invalidConfiguration("AWS_CA_BUNDLE=\(path) contains no certificates; it must contain -----BEGIN CERTIFICATE----- blocks")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(certificates)
        return tls
    }

    /// The system's hashed root certificate folder (`c_rehash` / `update-ca-certificates` links named
    /// `<8 hex digits>.<n>`), if this machine has one; nil otherwise (the bundle file is used as usual).
    static func hashedCertificateFolder(_ folder: String) -> String? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        let hashed = entries.contains { name in
            let parts = name.split(separator: ".")
            return parts.count == 2 && parts[0].utf8.count == 8 && parts[0].allSatisfy(\.isHexDigit)
                && !parts[1].isEmpty && parts[1].allSatisfy(\.isNumber)
        }
        return hashed ? folder : nil
    }

    /// Shuts down the HTTP clients this transport created (not a caller-provided one).
    public func shutdown() async throws {
        let owned: [HTTPClient] = clients.withLock { c in
            let all = Array(c.values)
            c.removeAll()
            return all
        }
        isShutDown.withLock { $0 = true }
        var firstError: (any Error)?
        for client in owned {
            do { try await client.shutdown() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// The offset (seconds) added to the local clock when signing, learned from AWS after a clock-skew error.
    public var clockOffset: Double { skew.withLock { $0 } }

    /// Sets the clock offset (e.g. restored from an earlier run); normally learned automatically.
    public func setClockOffset(_ seconds: Double) { skew.withLock { $0 = seconds } }

    /// Tokens left in the retry bucket (for tests and metrics).
    public var retryTokensAvailable: Int { bucket.withLock { $0.available } }

    /// The current time as AWS sees it (local clock plus the learned offset).
    public var correctedNow: Date { now().addingTimeInterval(clockOffset) }

    // MARK: - Clients

    func client(for url: String) throws -> HTTPClient {
        switch source {
        case .external(let client):
            return client
        case .owned(let tls):
            if isShutDown.withLock({ $0 }) {
                throw AWSError.invalidConfiguration("the AWS HTTP transport was shut down")
            }
            let parts = try SigV4Signer.splitURL(url)
            let (host, port) = Self.hostAndPort(parts.hostHeader, scheme: parts.scheme)
            let proxy = settings.proxy(scheme: parts.scheme, host: host, port: port)
            let key = ClientKey(proxy: proxy.map { "\($0.kind)|\($0.host)|\($0.port)|\($0.username ?? "")|\($0.password ?? "")" })
            return clients.withLock { clients in
                if let existing = clients[key] { return existing }
                var configuration = HTTPClient.Configuration(
                    tlsConfiguration: tls,
                    redirectConfiguration: .disallow,
                    timeout: .init(connect: .nanoseconds(Int64(settings.connectTimeout.seconds * 1e9))),
                    proxy: proxy.map(Self.ahcProxy),
                    decompression: .disabled
                )
                configuration.httpVersion = .automatic
                // Our retry policy retries failed connections (with backoff and the retry quota); AHC's own
                // retrying would hold a refused or TLS-failing connection until the connect timeout.
                configuration.connectionPool.retryConnectionEstablishment = false
                let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
                clients[key] = client
                return client
            }
        }
    }

    static func ahcProxy(_ p: AWSHTTPSettings.Proxy) -> HTTPClient.Configuration.Proxy {
        switch p.kind {
        case .socks5:
            return .socksServer(host: p.host, port: p.port)
        case .http:
            let auth: HTTPClient.Authorization? = p.username.map { .basic(username: $0, password: p.password ?? "") }
            return .server(host: p.host, port: p.port, authorization: auth)
        }
    }

    static func hostAndPort(_ hostHeader: String, scheme: String) -> (String, Int?) {
        if hostHeader.hasPrefix("["), let close = hostHeader.firstIndex(of: "]") {
            let host = String(hostHeader[...close])
            let rest = hostHeader[hostHeader.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = hostHeader.lastIndex(of: ":") {
            return (String(hostHeader[..<colon]), Int(hostHeader[hostHeader.index(after: colon)...]))
        }
        return (hostHeader, scheme == "https" ? 443 : 80)
    }

    // MARK: - Sending

    struct Request: Sendable {
        /// `ecr:GetAuthorizationToken` (for messages and logs).
        var operation: String
        var endpoint: AWSEndpoint
        var method: String = "POST"
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// False for STS calls that must not be signed (AssumeRoleWithWebIdentity).
        var signed: Bool = true
        /// Values to scrub from any error message (e.g. a web identity token).
        var sensitive: [String] = []
        /// Path and query after the endpoint's URL (`/sessions?profileArn=...`); JSON 1.1 and query calls use `/`.
        var pathAndQuery: String = "/"
        /// Sign with this certificate and key instead of credentials (IAM Roles Anywhere's CreateSession).
        var x509: RolesAnywhereIdentity? = nil
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var requestID: String?
        var attempts: Int

        func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.0.lowercased() == lower }?.1
        }
    }

    /// Sends `request` with retries; returns a 2xx response or throws `AWSError`.
    func send(
        _ request: Request,
        credentials provider: (any AWSCredentialProvider)?,
        logger callerLogger: Logger? = nil
    ) async throws -> Response {
        var logger = callerLogger ?? self.logger
        logger[metadataKey: "aws.operation"] = "\(request.operation)"
        logger[metadataKey: "aws.region"] = "\(request.endpoint.signingRegion)"

        var attempt = 0
        var lastRetryCost: Int?
        var skewCorrected = false
        var credentialsRefreshed = false
        var retriesMade = 0

        while true {
            attempt += 1
            try Task.checkCancellation()
            var credentials: AWSCredentials?
            if request.signed {
                guard let provider else { throw AWSError.invalidConfiguration("no AWS credentials configured for \(request.operation)") }
                credentials = try await provider.credentials()
            }
            let keyID = credentials?.redactedKeyID
            var secrets = request.sensitive
            if let credentials {
                secrets.append(credentials.secretAccessKey)
                if let token = credentials.sessionToken { secrets.append(token) }
            }

            let outcome: Result<Response, AWSError>
            let started = ContinuousClock.now
            do {
                let response = try await sendOnce(request, credentials: credentials, logger: logger, attempt: attempt)
                if (200..<300).contains(response.status) {
                    bucket.withLock { $0.succeeded(lastRetryCost: lastRetryCost, increment: retryPolicy.noRetryIncrement) }
                    logger.debug(
                        "AWS call succeeded",
                        metadata: [
                            "http.status": "\(response.status)", "aws.requestID": "\(response.requestID ?? "-")",
                            "attempt": "\(attempt)", "duration_ms": "\(Self.milliseconds(since: started))",
                        ])
                    var ok = response
                    ok.attempts = attempt
                    return ok
                }
                outcome = .failure(errorFromResponse(response, request: request, keyID: keyID))
            } catch let error as AWSError {
                outcome = .failure(error)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                outcome = .failure(transportError(error, request: request, keyID: keyID))
            }
            guard case .failure(var error) = outcome else { continue }
            error.attempts = attempt
            error.scrub(secrets)
            logger.debug(
                "AWS call failed",
                metadata: [
                    "error.kind": "\(error.kind.rawValue)", "error.code": "\(error.code ?? "-")",
                    "http.status": "\(error.statusCode.map(String.init) ?? "-")", "aws.requestID": "\(error.requestID ?? "-")",
                    "attempt": "\(attempt)",
                ])

            // Clock skew: learn AWS's time and retry once, outside the retry budget.
            if error.kind == .clockSkew, !skewCorrected, let serverNow = error.serverTime {
                skewCorrected = true
                let offset = serverNow.timeIntervalSince(now())
                skew.withLock { $0 = offset }
                logger.warning(
                    "local clock differs from AWS's; correcting request times",
                    metadata: [
                        "skew_seconds": "\(Int(offset.rounded()))", "aws.code": "\(error.code ?? "-")",
                        "hint": "synchronize the system clock (NTP)",
                    ])
                attempt -= 1
                continue
            }
            if error.kind == .clockSkew, let serverNow = error.serverTime {
                let ahead = now().timeIntervalSince(serverNow)
                error.hint = "the local clock is \(Int(abs(ahead).rounded())) s \(ahead >= 0 ? "ahead of" : "behind") AWS's"
            }
            // Expired temporary credentials from a cache: drop them and try once more with fresh ones.
            if error.kind == .expiredToken, !credentialsRefreshed, let cache = provider as? any AWSRenewableCredentialProvider {
                credentialsRefreshed = true
                cache.invalidate()
                logger.notice("AWS reported expired credentials; refreshing them and retrying once")
                attempt -= 1
                continue
            }
            guard error.isRetryable, attempt < retryPolicy.maxAttempts else { throw error }
            let cost = error.kind == .timeout ? retryPolicy.timeoutRetryCost : retryPolicy.retryCost
            guard bucket.withLock({ $0.acquire(cost) }) else {
                logger.notice("not retrying AWS call: retry quota exhausted", metadata: ["error.kind": "\(error.kind.rawValue)"])
                throw error
            }
            lastRetryCost = cost
            retriesMade += 1
            let delay = retryPolicy.backoff(retry: retriesMade, random: random())
            logger.info(
                "retrying AWS call",
                metadata: [
                    "error.kind": "\(error.kind.rawValue)", "error.code": "\(error.code ?? "-")", "attempt": "\(attempt)",
                    "delay_ms": "\(Int(delay.seconds * 1000))",
                ])
            try await sleep(delay)
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let d = ContinuousClock.now - start
        return Int(d.seconds * 1000)
    }

    private func sendOnce(_ request: Request, credentials: AWSCredentials?, logger: Logger, attempt: Int) async throws -> Response {
        let url = request.endpoint.url + request.pathAndQuery
        var headers = request.headers
        if !headers.contains(where: { $0.name.lowercased() == "user-agent" }) {
            headers.append((name: "User-Agent", value: AWSClientInfo.userAgent))
        }
        var sent: [(name: String, value: String)]
        if let identity = request.x509 {
            let signer = SigV4X509Signer(region: request.endpoint.signingRegion, service: request.endpoint.signingName, identity: identity)
            let signed = try signer.sign(method: request.method, url: url, headers: headers, body: request.body, date: correctedNow)
            sent = signed.headers
            logger.trace(
                "signed AWS request with a certificate",
                metadata: [
                    "aws.certificateSerial": "\(identity.serialNumber)", "aws.signingAlgorithm": "\(identity.signingAlgorithm)",
                    "aws.credentialScope": "\(signed.credentialScope)", "aws.signedHeaders": "\(signed.signedHeaders)",
                    "x-amz-date": "\(signed.amzDate)",
                ])
        } else if let credentials {
            let signer = SigV4Signer(region: request.endpoint.signingRegion, service: request.endpoint.signingName)
            let signed = try signer.sign(
                method: request.method, url: url, headers: headers, body: request.body, date: correctedNow,
                credentials: credentials)
            sent = signed.headers
            logger.trace(
                "signed AWS request",
                metadata: [
                    "aws.accessKeyID": "\(credentials.redactedKeyID)", "aws.credentialScope": "\(signed.credentialScope)",
                    "aws.signedHeaders": "\(signed.signedHeaders)", "x-amz-date": "\(signed.amzDate)",
                    "temporary": "\(credentials.isTemporary)",
                ])
        } else {
            sent = headers
        }
        logger.debug(
            "sending AWS request",
            metadata: ["url": "\(url)", "attempt": "\(attempt)", "body_bytes": "\(request.body.count)"])

        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = HTTPMethod(rawValue: request.method)
        var httpHeaders = HTTPHeaders()
        for h in sent { httpHeaders.add(name: h.name, value: h.value) }
        httpRequest.headers = httpHeaders
        httpRequest.body = .bytes(ByteBuffer(bytes: request.body))

        let client = try client(for: url)
        let timeout = TimeAmount.nanoseconds(Int64(settings.requestTimeout.seconds * 1e9))
        let response = try await client.execute(httpRequest, timeout: timeout, logger: nil)
        let body = try await response.body.collect(upTo: 4 << 20)
        let responseHeaders = response.headers.map { ($0.name, $0.value) }
        let requestID =
            response.headers.first(name: "x-amzn-RequestId") ?? response.headers.first(name: "x-amz-request-id")
        return Response(
            status: Int(response.status.code), headers: responseHeaders, body: Array(buffer: body), requestID: requestID,
            attempts: attempt)
    }

    func errorFromResponse(_ response: Response, request: Request, keyID: String?) -> AWSError {
        let parsed = AWSErrorClassifier.parse(headers: response.headers, body: response.body)
        let kind = AWSErrorClassifier.kind(code: parsed.code, message: parsed.message, status: response.status)
        var message = parsed.message ?? ""
        if parsed.code == nil, parsed.message == nil, !response.body.isEmpty {
            message = "response body: " + AWSErrorClassifier.excerpt(response.body)
        }
        var error = AWSError(
            kind: kind, code: parsed.code, statusCode: response.status, message: message,
            requestID: parsed.requestID ?? response.requestID, operation: request.operation,
            region: request.endpoint.signingRegion, endpoint: request.endpoint.url, keyID: keyID)
        if kind == .clockSkew {
            error.serverTime =
                response.header("Date").flatMap(UTCTime.parseHTTPDate)
                ?? AWSErrorClassifier.serverTime(fromSkewMessage: parsed.message)
        }
        return error
    }

    /// The socket errors a user can act on, in plain words, from the error's type and errno (NIO's own
    /// text for a refusal reads "connection reset (error set): Connection refused) (errno: 111)").
    static func plainSocketError(_ error: any Error) -> String? {
        switch error {
        case let error as NIOConnectionError:
            // Happy eyeballs tried every address; the first failure speaks for them all.
            if let first = error.connectionErrors.first { return plainSocketError(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the name \(error.host) does not resolve (DNS)" }
            return nil
        case let error as SocketAddressError.UnknownHost:
            return "the name \(error.host) does not resolve (DNS)"
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused: nothing accepts connections at that address and port"
            case EHOSTUNREACH: return "no route to host"
            case ENETUNREACH: return "network is unreachable"
            default: return nil
            }
        default:
            return nil
        }
    }

    func transportError(_ error: any Error, request: Request, keyID: String?) -> AWSError {
        var text = String(describing: error)
        var kind = AWSError.Kind.network
        func seconds(_ d: Duration) -> String {
            let s = d.seconds
            return s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
        }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                kind = .timeout
                text = "no complete response within the request timeout of \(seconds(settings.requestTimeout))"
            case .connectTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout, .getConnectionFromPoolTimeout:
                kind = .timeout
                text = "could not connect within \(seconds(settings.connectTimeout)) (\(e))"
            case .proxyAuthenticationRequired:
                text = "the proxy rejected our credentials (407 Proxy Authentication Required)"
            case .invalidProxyResponse:
                text = "the proxy refused the CONNECT tunnel"
            default:
                kind = .network
            }
        } else if let plain = Self.plainSocketError(error) {
            text = plain
        } else if let e = error as? ChannelError, case .connectTimeout = e {
            kind = .timeout
            text = "could not connect within \(seconds(settings.connectTimeout))"
        } else if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname || e == .serverHostnameImpossibleToMatch {
            kind = .tls
            text = "the server's certificate does not match its host name (\(String(describing: e).prefix(200)))"
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            // NIOSSL says which check failed (e.g. CERTIFICATE_VERIFY_FAILED) only in its text, shown as is.
            kind = .tls
            text = "the TLS handshake failed (\(String(describing: error).prefix(300))); the server's certificate is not trusted or does not fit"
        }
        var result = AWSError(
            kind: kind, message: AWSError.oneLine(text), operation: request.operation, region: request.endpoint.signingRegion,
            endpoint: request.endpoint.url, keyID: keyID)
        if case .owned = source, let parts = try? SigV4Signer.splitURL(request.endpoint.rootURL) {
            let (host, port) = Self.hostAndPort(parts.hostHeader, scheme: parts.scheme)
            if let proxy = settings.proxy(scheme: parts.scheme, host: host, port: port) {
                result.hint = "through proxy \(proxy) from \(proxy.source)"
            }
        }
        return result
    }
}

public enum AWSClientInfo {
    public static let userAgent = "aws-ecr-cred-helper (swift; AWSClient)"
}
