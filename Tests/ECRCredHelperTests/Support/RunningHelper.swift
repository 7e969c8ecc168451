import Foundation
import KubeTestServer
import TestSupport

extension HelperWorld {
    /// Starts `run`, hands it to `body`, and makes sure it is gone afterwards (SIGKILL if still running).
    func running<T>(
        _ arguments: [String] = [], environment: [String: String] = [:], locations: Bool = true,
        _ body: (ChildProcess) async throws -> T
    ) async throws -> T {
        let process = try launch("run", arguments, environment: environment, locations: locations)
        defer { process.killNow() }
        return try await body(process)
    }

    /// Waits until every namespace holds a pull secret.
    func waitForSecrets(_ namespaces: [String], timeout: Duration = .seconds(20), process: ChildProcess? = nil) async throws {
        try await eventually("pull secrets in \(namespaces)", timeout: timeout, poll: .milliseconds(50)) {
            if let process, !process.isRunning {
                throw SpawnFailure(description: "the helper exited: \(process.poll().map { "\($0)" } ?? "")\n\(process.stderr.suffix(3000))")
            }
            for namespace in namespaces where await secret(namespace) == nil { return false }
            return true
        }
    }

    /// How many Lease requests `user` has made so far.
    func leaseRequests(_ user: String) async -> Int {
        await server.requests().filter { $0.resource == "leases" && $0.user == user }.count
    }

    /// The holder of the leader Lease, if any.
    func leaseHolder(namespace: String = "kube-system", name: String? = nil) async -> String? {
        guard let lease = try? await object("leases", namespace: namespace, name: name ?? leaseName),
              let holder = lease["spec"]?["holderIdentity"]?.stringValue,
              !holder.isEmpty else { return nil }
        return holder
    }
}

extension ChildProcess {
    /// Waits until standard error holds `text` (at least `count` times).
    func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(20)) async throws {
        try await eventually("\"\(text)\" in the helper's log", timeout: timeout, poll: .milliseconds(50)) {
            let log = self.stderr
            if log.components(separatedBy: text).count - 1 >= count { return true }
            if !self.isRunning {
                throw SpawnFailure(description: "the helper exited (\(self.poll().map { "\($0)" } ?? "")) before logging \"\(text)\":\n\(log.suffix(3000))")
            }
            return false
        }
    }
}
