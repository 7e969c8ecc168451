import KubeClient
import KubeTestServer
import Logging
import Synchronization
import TestSupport

/// A stand-in API server plus helpers to build clients against it; `run` tears everything down.
struct LiveCluster: Sendable {
    let server: KubeTestServer
    let logs: CapturedLogs

    @discardableResult
    static func run<T: Sendable>(
        users: [TestUser] = [],
        namespaces: [String] = ["default", "kube-system", "team-a", "team-b"],
        watchHistoryLimit: Int = 1000,
        bookmarkInterval: Duration = .seconds(10),
        _ body: (LiveCluster) async throws -> T
    ) async throws -> T {
        let server = try await KubeTestServer.start(
            KubeTestServerConfiguration(users: users, namespaces: namespaces, watchHistoryLimit: watchHistoryLimit, bookmarkInterval: bookmarkInterval)
        )
        let cluster = LiveCluster(server: server, logs: CapturedLogs())
        do {
            let result = try await body(cluster)
            try? await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    var logger: Logger { logs.logger(label: "kube") }

    func configuration(auth: KubeAuth? = nil) -> KubeConfiguration {
        KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: auth ?? .bearerToken(server.adminToken))
    }

    /// Runs `body` with a client, shutting the client down afterwards.
    @discardableResult
    func withClient<T: Sendable>(
        auth: KubeAuth? = nil, configuration: KubeConfiguration? = nil, _ body: (KubernetesClient) async throws -> T
    ) async throws -> T {
        let client = try KubernetesClient(configuration: configuration ?? self.configuration(auth: auth), logger: logger)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// Collects what an async sequence produces, in a background task, for `eventually` checks.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let started = Task { [self] in
            do {
                for try await item in sequence { append(item) }
            } catch {}
        }
        task.withLock { $0 = started }
    }

    private func append(_ item: Element) { items.withLock { $0.append(item) } }

    var all: [Element] { items.withLock { $0 } }

    func stop() { task.withLock { $0?.cancel() } }
}

/// Thread-safe counters of named happenings.
final class Counter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    func value(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }
}
