#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import CommonBasics

/// A small Kubernetes REST client: typed CRUD, server-side apply, merge patch and watch over
/// `KubeResource` types, on one pooled `HTTPClient`.
///
/// Retries: the client itself retries only once after a 401 when the token comes from a file (the file
/// is re-read first). It never retries 429/5xx or transport errors on its own; `KubeAPIError.isRetryable`,
/// `retryAfter` and `KubeTransportError.isRetryable` let callers (the reconciler, `Watcher`,
/// `LeaderElector`) apply their own backoff, so a benchmark measures exactly the requests it makes.
public final class KubernetesClient: Sendable {
    public let configuration: KubeConfiguration
    let http: HTTPClient
    let logger: Logger
    let server: String
    let requestTimeout: TimeAmount
    let tokenSource: BearerTokenSource?
    /// Runs the kubeconfig's exec credential plugin (nil for other kinds of auth).
    let execProvider: ExecCredentialProvider?
    /// The TLS configuration of every request; an exec plugin's client certificate is added per request.
    let baseTLS: TLSConfiguration
    let decoder: JSONDecoder
    let encoder: JSONEncoder

    /// Bodies larger than this are refused (a list of every Secret in a big cluster is a few MB).
    static let maxResponseBytes = 256 * 1024 * 1024

    public init(
        configuration: KubeConfiguration,
        logger: Logger,
        maxConcurrentConnections: Int = 64,
        requestTimeout: Duration = .seconds(30)
    ) throws {
        self.configuration = configuration
        self.logger = logger
        var server = configuration.server
        while server.hasSuffix("/") { server.removeLast() }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw KubeConfigurationError("API server address \"\(configuration.server)\" must start with https:// or http://")
        }
        self.server = server
        self.requestTimeout = Self.timeAmount(requestTimeout)

        switch configuration.auth {
        case .bearerToken(let token): tokenSource = BearerTokenSource(origin: .fixed(token))
        case .tokenFile(let path): tokenSource = BearerTokenSource(origin: .file(path), refreshInterval: configuration.tokenRefreshInterval)
        case .none, .clientCertificate, .exec: tokenSource = nil
        }
        if case .exec(let config) = configuration.auth {
            execProvider = ExecCredentialProvider(config: config)
        } else {
            execProvider = nil
        }

        var tls = TLSConfiguration.makeClientConfiguration()
        // On close, NIOSSL waits up to 5 s (its default) for the server's close_notify before it closes the
        // socket, and the HTTP client's shutdown waits for every connection: a server that does not answer
        // made `sync` sit 5 s after its last write (1 to 3 of 5 benchmark runs at N=5000). A connection is
        // closed only when the helper is done with it, and every response is length- or chunk-framed, so a
        // missing close_notify cannot truncate anything.
        tls.shutdownTimeout = .milliseconds(250)
        if let caPEM = configuration.caPEM {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMBytes(caPEM)
            } catch {
                throw KubeConfigurationError("the cluster CA certificate is not valid PEM (\(error))")
            }
            guard !roots.isEmpty else { throw KubeConfigurationError("the cluster CA certificate holds no certificate") }
            tls.trustRoots = .certificates(roots)
        }
        if configuration.insecureSkipTLSVerify {
            logger.warning("TLS verification of the Kubernetes API server is OFF (insecure-skip-tls-verify in the kubeconfig)", metadata: ["server": "\(server)"])
            tls.certificateVerification = .none
        }
        baseTLS = tls
        if case .clientCertificate(let certificatePEM, let keyPEM) = configuration.auth {
            tls = try Self.tls(base: tls, certificatePEM: certificatePEM, keyPEM: keyPEM, origin: "the")
        }

        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConcurrentConnections))
        )
        httpConfiguration.httpVersion = .automatic
        httpConfiguration.connectionPool.retryConnectionEstablishment = configuration.retriesFailedConnections
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration, backgroundActivityLogger: logger)
        decoder = JSONDecoder()
        encoder = Self.makeEncoder()
    }

    /// Every body this client sends is encoded here. Apply bodies go out as `application/apply-patch+yaml`,
    /// and the API server parses them with go-yaml, which rejects the `\/` escape that JSONEncoder writes by
    /// default for every `/` (legal JSON, but not YAML 1.1): a label key such as `app.kubernetes.io/name`
    /// made every apply fail with 400 "found unknown escape character". No body escapes slashes.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: - Typed verbs

    public func get<R: KubeResource>(_ type: R.Type, namespace: String?, name: String) async throws -> R {
        let target = RequestTarget(R.self, verb: "get", namespace: namespace, name: name)
        let body = try await send(.GET, path: ResourcePath.object(R.self, namespace: namespace, name: name), target: target)
        return try decode(R.self, body, target: target)
    }

    public func list<R: KubeResource>(
        _ type: R.Type, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil
    ) async throws -> KubeList<R> {
        var all = try await listPage(R.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
        while let token = all.metadata.continue, !token.isEmpty {
            let page = try await listPage(R.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, continueToken: token)
            all.items.append(contentsOf: page.items)
            all.metadata = page.metadata
        }
        return all
    }

    /// One page of a list: pass `limit`, then each answer's `metadata.continue` as `continueToken`.
    public func listPage<R: KubeResource>(
        _ type: R.Type, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
        limit: Int? = nil, continueToken: String? = nil
    ) async throws -> KubeList<R> {
        let target = RequestTarget(R.self, verb: "list", namespace: namespace, name: nil)
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        let body = try await send(.GET, path: ResourcePath.collection(R.self, namespace: namespace), query: query, target: target)
        return try decode(KubeList<R>.self, body, target: target)
    }

    public func create<R: KubeResource>(_ object: R) async throws -> R {
        let namespace = try Self.namespace(of: object, verb: "create")
        let target = RequestTarget(R.self, verb: "create", namespace: namespace, name: object.metadata.name)
        let body = try await send(
            .POST, path: ResourcePath.collection(R.self, namespace: namespace),
            body: try encode(TypedObject(object: object)), contentType: "application/json", target: target
        )
        return try decode(R.self, body, target: target)
    }

    /// Server-side apply: the server merges the fields this manager sets, and creates the object when it is
    /// missing (authorized as `create` with the object's name, so a role limited to one name still works).
    public func apply<R: KubeResource>(_ object: R, fieldManager: String, force: Bool = true) async throws -> R {
        let namespace = try Self.namespace(of: object, verb: "apply")
        guard let name = object.metadata.name, !name.isEmpty else {
            throw KubeUsageError("apply \(R.plural): metadata.name is required")
        }
        let target = RequestTarget(R.self, verb: "apply", namespace: namespace, name: name)
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        // JSON is YAML, so the apply-patch+yaml content type takes a JSON body.
        let body = try await send(
            .PATCH, path: ResourcePath.object(R.self, namespace: namespace, name: name), query: query,
            body: try encode(TypedObject(object: object)), contentType: "application/apply-patch+yaml", target: target
        )
        return try decode(R.self, body, target: target)
    }

    /// The body of a write, encoded once: a fan-out that sends the same object to many namespaces leaves
    /// `metadata.namespace` out (the server takes it from the URL) and reuses the bytes for every request.
    public func encodedBody<R: KubeResource>(_ object: R) throws -> EncodedBody<R> {
        EncodedBody(buffer: try encode(TypedObject(object: object)))
    }

    /// Server-side apply of an encoded body into `namespace`. Returns the resourceVersion the server gave
    /// the object (so a controller recognizes the watch's echo of its own write), without decoding the rest
    /// of the answer: a fan-out has no use for the object, and decoding it costs more CPU than the request.
    @discardableResult
    public func apply<R: KubeResource>(
        _ body: EncodedBody<R>, namespace: String?, name: String, fieldManager: String, force: Bool = true
    ) async throws -> String? {
        let target = RequestTarget(R.self, verb: "apply", namespace: namespace, name: name)
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        let answer = try await send(
            .PATCH, path: ResourcePath.object(R.self, namespace: namespace, name: name), query: query,
            body: body.buffer, contentType: "application/apply-patch+yaml", target: target
        )
        return Self.resourceVersion(in: answer)
    }

    /// The first `"resourceVersion":"N"` of an object's JSON: the object's own, since the server writes
    /// `metadata` before anything else and nothing inside `metadata` before it holds that key.
    static func resourceVersion(in buffer: ByteBuffer) -> String? {
        let key = Array(#""resourceVersion":""#.utf8)
        return buffer.withUnsafeReadableBytes { bytes -> String? in
            guard bytes.count >= key.count else { return nil }
            var index = 0
            outer: while index + key.count <= bytes.count {
                for offset in 0..<key.count where bytes[index + offset] != key[offset] {
                    index += 1
                    continue outer
                }
                var end = index + key.count
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                guard end < bytes.count else { return nil }
                return String(decoding: bytes[(index + key.count)..<end], as: UTF8.self)
            }
            return nil
        }
    }

    /// JSON merge patch (RFC 7386). Never creates: a missing object answers 404.
    public func mergePatch<R: KubeResource>(
        _ type: R.Type, namespace: String?, name: String, patch: some Encodable & Sendable
    ) async throws -> R {
        let target = RequestTarget(R.self, verb: "patch", namespace: namespace, name: name)
        let body = try await send(
            .PATCH, path: ResourcePath.object(R.self, namespace: namespace, name: name),
            body: try encode(patch), contentType: "application/merge-patch+json", target: target
        )
        return try decode(R.self, body, target: target)
    }

    /// PUT of the whole object. With `metadata.resourceVersion` set the write is conditional: a concurrent
    /// change answers 409 Conflict (`isConflict`).
    public func replace<R: KubeResource>(_ object: R) async throws -> R {
        let namespace = try Self.namespace(of: object, verb: "update")
        guard let name = object.metadata.name, !name.isEmpty else {
            throw KubeUsageError("update \(R.plural): metadata.name is required")
        }
        let target = RequestTarget(R.self, verb: "update", namespace: namespace, name: name)
        let body = try await send(
            .PUT, path: ResourcePath.object(R.self, namespace: namespace, name: name),
            body: try encode(TypedObject(object: object)), contentType: "application/json", target: target
        )
        return try decode(R.self, body, target: target)
    }

    public func delete<R: KubeResource>(_ type: R.Type, namespace: String?, name: String) async throws {
        let target = RequestTarget(R.self, verb: "delete", namespace: namespace, name: name)
        _ = try await send(.DELETE, path: ResourcePath.object(R.self, namespace: namespace, name: name), target: target)
    }

    /// POSTs `body` as JSON to an API path (e.g. `SelfSubjectAccessReview.path`) and decodes the answer.
    public func post<Body: Encodable & Sendable, Response: Decodable & Sendable>(path: String, body: Body) async throws -> Response {
        let resource = path.split(separator: "/").last.map(String.init) ?? path
        let target = RequestTarget(verb: "create", resource: resource, group: "", namespace: nil, name: nil)
        let answer = try await send(.POST, path: path, body: try encode(body), contentType: "application/json", target: target)
        return try decode(Response.self, answer, target: target)
    }

    /// Asks the server whether this client may perform `verb` on `resource` (a SelfSubjectAccessReview).
    public func canI(verb: String, resource: String, group: String = "", namespace: String?, name: String? = nil) async throws -> Bool {
        let review = SelfSubjectAccessReview(
            spec: .init(resourceAttributes: .init(namespace: namespace, verb: verb, group: group, resource: resource, name: name))
        )
        let answer: SelfSubjectAccessReview = try await post(path: SelfSubjectAccessReview.path, body: review)
        return answer.status?.allowed ?? false
    }

    /// One request that any client may make (`GET /version`): returns when the server answered at all.
    /// Throws `KubeTransportError` when it cannot be reached and `KubeAPIError` for a status other than 2xx
    /// (401: the credentials were not accepted).
    public func ping() async throws {
        let target = RequestTarget(verb: "get", resource: "version", group: "", namespace: nil, name: nil)
        _ = try await send(.GET, path: "/version", target: target)
    }

    // MARK: - Helpers

    /// `base` with a client certificate; `origin` completes "<origin> client certificate is not valid PEM".
    static func tls(base: TLSConfiguration, certificatePEM: [UInt8], keyPEM: [UInt8], origin: String) throws(KubeConfigurationError) -> TLSConfiguration {
        var tls = base
        do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
        } catch {
            throw KubeConfigurationError("\(origin) client certificate is not valid PEM (\(error))")
        }
        do {
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
        } catch {
            // Never render the key or the underlying error (which could quote it).
            throw KubeConfigurationError("\(origin) client key is not a valid PEM private key")
        }
        return tls
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }

    static func namespace<R: KubeResource>(of object: R, verb: String) throws -> String? {
        guard R.isNamespaced else { return nil }
        guard let namespace = object.metadata.namespace, !namespace.isEmpty else {
            throw KubeUsageError("\(verb) \(R.plural)/\(object.metadata.name ?? ""): metadata.namespace is required")
        }
        return namespace
    }

    func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try encoder.encode(value))
    }

    func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer, target: RequestTarget) throws -> T {
        do {
            return try buffer.withUnsafeReadableBytes { raw in
                try decoder.decode(T.self, from: Data(raw))
            }
        } catch {
            throw KubeDecodingError(verb: target.verb, resource: target.resource, type: "\(T.self)", underlying: "\(error)")
        }
    }
}

/// The server answered 2xx with a body this client could not decode.
public struct KubeDecodingError: Error, Sendable, CustomStringConvertible {
    public var verb: String
    public var resource: String
    public var type: String
    public var underlying: String
    public var description: String { "cannot decode the answer to \(verb) \(resource) as \(type): \(underlying)" }
}
