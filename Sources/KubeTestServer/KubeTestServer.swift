#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOSSL
import Synchronization

/// A fast stand-in Kubernetes API server for tests, the demo and benchmarks: HTTPS with its own CA,
/// bearer tokens with RBAC-style rules, secrets/namespaces/serviceaccounts/events/leases with server-side
/// apply, watches with resume and bookmarks, discovery, and faults on demand. See README.md in this folder.
public final class KubeTestServer: Sendable {
    let api: KubeAPI
    private let configuration: KubeTestServerConfiguration
    private let tlsContext: NIOSSLContext?
    private let listener: Mutex<HTTPListener?>

    public let port: Int
    /// `https://127.0.0.1:PORT` (or `http://` without TLS).
    public let url: String
    /// The CA certificate (PEM) that signed the serving certificate; empty without TLS.
    public let caPEM: String
    /// The serving certificate chain and key (PEM); empty without TLS.
    public let certificatePEM: String
    public let keyPEM: String

    /// The token of a user allowed everything (always present).
    public var adminToken: String { api.adminToken }

    private init(
        api: KubeAPI, configuration: KubeTestServerConfiguration, tlsContext: NIOSSLContext?, listener: HTTPListener,
        caPEM: String, certificatePEM: String, keyPEM: String
    ) {
        self.api = api
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.listener = Mutex(listener)
        self.port = listener.port
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        self.url = "\(configuration.tls ? "https" : "http")://\(host):\(listener.port)"
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    deinit {
        listener.withLock { $0?.serverChannel.close(promise: nil) }
    }

    public static func start(_ configuration: KubeTestServerConfiguration = .init()) async throws -> KubeTestServer {
        var configuration = configuration
        let adminToken = configuration.adminToken ?? "admin-" + UUID().uuidString.lowercased()
        configuration.adminToken = adminToken
        var caPEM = ""
        var certificatePEM = ""
        var keyPEM = ""
        var tlsContext: NIOSSLContext?
        if configuration.tls {
            if let givenCertificate = configuration.certificatePEM, let givenKey = configuration.keyPEM {
                certificatePEM = givenCertificate
                keyPEM = givenKey
                caPEM = configuration.caPEM ?? givenCertificate
            } else {
                let identity = try ServingIdentity.generate(extraHosts: [configuration.host])
                caPEM = identity.caPEM
                certificatePEM = identity.certificateChainPEM
                keyPEM = identity.keyPEM
            }
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.applicationProtocols = ["http/1.1"]
            tlsContext = try NIOSSLContext(configuration: tls)
        }
        let api = KubeAPI(configuration: configuration, adminToken: adminToken)
        let listener = try await HTTPListener.bind(
            host: configuration.host, port: configuration.port, tls: tlsContext, api: api)
        configuration.port = listener.port
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        api.serverAddress.withLock { $0 = "\(host):\(listener.port)" }
        return KubeTestServer(
            api: api, configuration: configuration, tlsContext: tlsContext, listener: listener, caPEM: caPEM,
            certificatePEM: certificatePEM, keyPEM: keyPEM)
    }

    // MARK: Lifecycle

    /// Stops listening and cuts every connection (open watches end). State is kept for `restart()`.
    public func stop() async throws {
        let current = listener.withLock { listener in
            defer { listener = nil }
            return listener
        }
        await current?.close()
    }

    /// Stops, then listens again on the same port with the same CA, users and objects, like an API server
    /// that restarted.
    public func restart() async throws {
        try await stop()
        var lastError: (any Error)?
        // Up to 5 s: the old socket may linger, and a client reconnecting meanwhile can briefly hold the port.
        for _ in 0..<250 {
            do {
                let fresh = try await HTTPListener.bind(host: configuration.host, port: port, tls: tlsContext, api: api)
                listener.withLock { $0 = fresh }
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw lastError ?? CancellationError()
    }

    public var isRunning: Bool { listener.withLock { $0 != nil } }

    // MARK: Users

    public func addUser(_ user: TestUser) async {
        api.users.add(user)
    }

    /// From now on this token gets 401 Unauthorized (an expired or rotated token).
    public func removeToken(_ token: String) async {
        api.users.removeToken(token)
    }

    // MARK: State, bypassing HTTP and RBAC

    public func createNamespace(_ name: String, labels: [String: String] = [:]) async {
        api.createNamespace(name, labels: labels)
    }

    /// Creates `count` namespaces named `prefix0`, `prefix1`, ... (for benchmarks).
    public func createNamespaces(count: Int, prefix: String, labels: [String: String] = [:]) async {
        for index in 0..<max(0, count) { api.createNamespace("\(prefix)\(index)", labels: labels) }
    }

    /// Deletes the namespace and everything in it, at once.
    public func deleteNamespace(_ name: String) async {
        _ = try? api.store.write(.namespaces, namespace: "", name: name) { _, _ in .delete }
    }

    public func object(_ resource: String, namespace: String?, name: String) async -> JSONValue? {
        guard let kind = ResourceKind.stored(plural: resource) else { return nil }
        return api.store.get(kind, namespace: kind.namespaced ? namespace ?? "" : "", name: name)?.object
    }

    /// Objects of `resource` in `namespace` (nil: every namespace), sorted by namespace and name.
    public func objects(_ resource: String, namespace: String?) async -> [JSONValue] {
        guard let kind = ResourceKind.stored(plural: resource) else { return [] }
        return api.store.list(kind, namespace: namespace).items.map(\.object)
    }

    /// The current resourceVersion of the whole store.
    public var resourceVersion: String { get async { String(api.store.currentRevision) } }

    /// Creates or replaces an object (its `metadata.name` names it), with a new resourceVersion and a watch event.
    public func put(_ resource: String, namespace: String?, _ object: JSONValue) async throws {
        guard let kind = ResourceKind.stored(plural: resource) else {
            throw KubeTestServerError.unknownResource(resource)
        }
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw KubeTestServerError.missingName
        }
        let scope = kind.namespaced ? namespace ?? object["metadata"]?["namespace"]?.stringValue ?? "default" : ""
        do {
            _ = try api.store.write(kind, namespace: scope, name: name) { current, _ throws(APIStatus) in
                var body = object
                body["metadata"]?["managedFields"] = nil
                let normalized = try Normalizer.normalize(body, kind: kind, name: name, namespace: scope, existing: nil, strict: false)
                var ownership = current?.ownership ?? FieldOwnership()
                ownership.update(from: current?.object, to: normalized, manager: "kube-test-server")
                return .put(normalized, ownership)
            }
        } catch {
            throw KubeTestServerError.rejected(code: error.code, reason: error.reason, message: error.message)
        }
    }

    public func delete(_ resource: String, namespace: String?, name: String) async {
        guard let kind = ResourceKind.stored(plural: resource) else { return }
        _ = try? api.store.write(kind, namespace: kind.namespaced ? namespace ?? "" : "", name: name) { _, _ in .delete }
    }

    // MARK: Faults and observation

    public func inject(_ rule: FaultRule) async {
        api.faults.add(rule)
    }

    public func clearFaults() async {
        api.faults.clear()
    }

    /// Throttles users as API Priority and Fairness does (nil: off).
    public func throttle(_ configuration: ThrottleConfiguration?) async {
        api.seats.configure(configuration)
    }

    /// Throttled requests answered 429 so far.
    public var throttleRejections: Int { api.seats.rejected }

    /// Ends every open watch stream now: each response ends cleanly (as on a server-side watch timeout), or
    /// with `dropConnections` its connection is cut mid-response (as when an API server dies).
    public func closeWatches(dropConnections: Bool = false) async {
        api.store.endAllWatches(abort: dropConnections)
    }

    public var openWatchCount: Int { get async { api.store.openWatchCount } }

    public func requests() async -> [RecordedRequest] {
        api.log.all
    }

    public func resetRequests() async {
        api.log.reset()
    }
}

public enum KubeTestServerError: Error, CustomStringConvertible, Sendable {
    case unknownResource(String)
    case missingName
    case rejected(code: Int, reason: String, message: String)

    public var description: String {
        switch self {
        case .unknownResource(let resource): "kube-test-server does not serve resource \(resource)"
        case .missingName: "the object has no metadata.name"
        case .rejected(let code, let reason, let message): "rejected with \(code) \(reason): \(message)"
        }
    }
}
