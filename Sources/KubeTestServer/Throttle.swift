import Synchronization

/// API Priority and Fairness as a busy cluster applies it to one client: a fixed number of seats for the
/// throttled users' requests, each held for `serviceTime` (what a real request costs the server), and the
/// excess either rejected at once or queued until a seat frees or `queueTimeout` passes. A rejected or
/// timed-out request gets what kube-apiserver v1.19 sends: HTTP 429, `Retry-After: 1`, and a plain-text
/// body (not a Status object). Watches and the admin user are never throttled, as APF exempts them.
public struct ThrottleConfiguration: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable {
        case reject
        case queue
    }

    public var seats: Int
    public var mode: Mode
    public var serviceTime: Duration
    /// How long a queued request waits for a seat before it is rejected (queue mode).
    public var queueTimeout: Duration
    /// Users it applies to; empty: every user but the admin.
    public var users: Set<String>

    public init(seats: Int, mode: Mode, serviceTime: Duration = .milliseconds(20), queueTimeout: Duration = .seconds(15), users: Set<String> = []) {
        self.seats = max(1, seats)
        self.mode = mode
        self.serviceTime = serviceTime
        self.queueTimeout = queueTimeout
        self.users = users
    }

    enum CodingKeys: String, CodingKey { case seats, mode, serviceTimeMilliseconds, queueTimeoutMilliseconds, users }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            seats: try container.decode(Int.self, forKey: .seats),
            mode: try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .reject,
            serviceTime: .milliseconds(try container.decodeIfPresent(Int.self, forKey: .serviceTimeMilliseconds) ?? 20),
            queueTimeout: .milliseconds(try container.decodeIfPresent(Int.self, forKey: .queueTimeoutMilliseconds) ?? 15000),
            users: try container.decodeIfPresent(Set<String>.self, forKey: .users) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seats, forKey: .seats)
        try container.encode(mode, forKey: .mode)
        try container.encode(Int(serviceTime.components.seconds * 1000 + serviceTime.components.attoseconds / 1_000_000_000_000_000), forKey: .serviceTimeMilliseconds)
        try container.encode(Int(queueTimeout.components.seconds * 1000 + queueTimeout.components.attoseconds / 1_000_000_000_000_000), forKey: .queueTimeoutMilliseconds)
        try container.encode(users, forKey: .users)
    }

    /// The answer to a request that got no seat: kube-apiserver's, byte for byte.
    static let rejection = HTTPReply.full(
        status: 429, headers: [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "1")],
        body: Array("Too many requests, please try again later.\n".utf8))
}

/// The seats of a throttle, shared by every connection.
final class SeatPool: Sendable {
    private struct State {
        var configuration: ThrottleConfiguration?
        var inUse = 0
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var order: [UInt64] = []
        var nextID: UInt64 = 0
        var rejected = 0
    }

    private let state = Mutex(State())

    var configuration: ThrottleConfiguration? { state.withLock { $0.configuration } }

    /// Requests rejected so far (429 answers).
    var rejected: Int { state.withLock { $0.rejected } }

    func configure(_ configuration: ThrottleConfiguration?) {
        let released = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.configuration = configuration
            state.inUse = 0
            let all = Array(state.waiters.values)
            state.waiters = [:]
            state.order = []
            return all
        }
        for waiter in released { waiter.resume(returning: true) }
    }

    func applies(to user: String?) -> Bool {
        state.withLock { state in
            guard let configuration = state.configuration, let user, user != "admin" else { return false }
            return configuration.users.isEmpty || configuration.users.contains(user)
        }
    }

    /// A seat now (true), or (queue mode) one within the queue timeout; false means reject.
    func acquire() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let decision = state.withLock { state -> Bool? in
                guard let configuration = state.configuration else { return true }
                if state.inUse < configuration.seats {
                    state.inUse += 1
                    return true
                }
                if configuration.mode == .reject {
                    state.rejected += 1
                    return false
                }
                state.nextID += 1
                let id = state.nextID
                state.waiters[id] = continuation
                state.order.append(id)
                let timeout = configuration.queueTimeout
                Task {
                    try? await Task.sleep(for: timeout)
                    self.timeOut(id)
                }
                return nil
            }
            if let decision { continuation.resume(returning: decision) }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            while let id = state.order.first {
                state.order.removeFirst()
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            }
            state.inUse = max(0, state.inUse - 1)
            return nil
        }
        // The seat passes straight to the first in the queue.
        next?.resume(returning: true)
    }

    private func timeOut(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiters.removeValue(forKey: id) else { return nil }
            state.order.removeAll { $0 == id }
            state.rejected += 1
            return waiter
        }
        waiter?.resume(returning: false)
    }
}
