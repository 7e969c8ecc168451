import Foundation
import KubeClient
import KubeTestServer
import Logging
import Synchronization

/// Watches the managed secrets from the outside for the whole of a test and records every version that is
/// not a valid pull secret, and every deletion the test did not make: the "never blanked" property.
///
/// Two independent eyes: a watch as the admin user (sees every version the server emits; it resumes after
/// drops and restarts like any client) and a poll of the server's store every few milliseconds (sees the
/// state even while no watch is open, e.g. across a server restart).
final class SecretObserver: Sendable {
    private struct State {
        /// Distinct problems, in the order first seen (the store poll sees a bad version many times).
        var violations: [String] = []
        var seen = Set<String>()
        var versionsSeen = 0
        var allowedDeletions = Set<String>()
    }

    let registries: [String]
    private let state = Mutex(State())
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(registries: [String]) {
        self.registries = registries
    }

    var violations: [String] { state.withLock { $0.violations } }
    var versionsSeen: Int { state.withLock { $0.versionsSeen } }

    /// The test is about to delete the secret in `namespace` itself: not a violation.
    func allowDeletion(in namespace: String) { _ = state.withLock { $0.allowedDeletions.insert(namespace) } }

    func start(server: KubeTestServer, admin: KubernetesClient, secretName: String = "registry-aws-ecr") {
        var logger = Logger(label: "observer")
        logger.logLevel = .critical
        let watcher = Watcher(
            client: admin, type: Secret.self, namespace: nil, fieldSelector: "metadata.name=\(secretName)", logger: logger,
            backoff: ExponentialBackoff(initial: .milliseconds(50), maximum: .milliseconds(500))
        )
        let watching = Task { [self] in
            for await event in watcher.events() {
                switch event {
                case let .restarted(secrets), let .initPage(secrets): for secret in secrets { check(secret, via: "list") }
                case .initStarted, .initDone: break
                case let .applied(secret): check(secret, via: "watch")
                case let .deleted(secret): deleted(secret.metadata.namespace ?? "?", via: "watch")
                }
            }
        }
        let polling = Task { [self] in
            var present = Set<String>()
            while !Task.isCancelled {
                var now = Set<String>()
                for object in await server.objects("secrets", namespace: nil) {
                    guard let secret = try? object.decode(Secret.self), secret.metadata.name == secretName else { continue }
                    now.insert(secret.metadata.namespace ?? "?")
                    check(secret, via: "store")
                }
                for gone in present.subtracting(now) { deleted(gone, via: "store") }
                present = now
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        tasks.withLock { $0 += [watching, polling] }
    }

    func stop() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    private func check(_ secret: Secret, via: String) {
        let problem = PullSecretCheck.problem(secret, registries: registries)
        state.withLock { state in
            state.versionsSeen += 1
            if let problem, state.seen.insert(problem).inserted { state.violations.append("\(via): \(problem)") }
        }
    }

    private func deleted(_ namespace: String, via: String) {
        state.withLock { state in
            let problem = "secret deleted in \(namespace)"
            if !state.allowedDeletions.contains(namespace), state.seen.insert(problem).inserted { state.violations.append("\(via): \(problem)") }
        }
    }

    deinit { stop() }
}
