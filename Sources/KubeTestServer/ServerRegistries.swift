// Users, fault rules and the request log: the mutable parts of a server besides its objects.
import Synchronization

/// Tokens and the users they authenticate.
final class UserDirectory: Sendable {
    private let users = Mutex<[String: TestUser]>([:])

    func add(_ user: TestUser) { users.withLock { $0[user.token] = user } }
    func removeToken(_ token: String) { _ = users.withLock { $0.removeValue(forKey: token) } }
    func user(forToken token: String) -> TestUser? { users.withLock { $0[token] } }
}

/// Fault rules in the order they were added.
final class FaultBook: Sendable {
    private let rules = Mutex<[FaultRule]>([])

    func add(_ rule: FaultRule) { rules.withLock { $0.append(rule) } }
    func clear() { rules.withLock { $0.removeAll() } }

    /// The faults that apply to this request, consuming one use of each matching rule.
    func take(method: String, target: String) -> [Fault] {
        rules.withLock { rules in
            var fired: [Fault] = []
            var index = 0
            while index < rules.count {
                if rules[index].matches(method: method, target: target) {
                    fired.append(rules[index].fault)
                    if let times = rules[index].times {
                        if times <= 1 {
                            rules.remove(at: index)
                            continue
                        }
                        rules[index].times = times - 1
                    }
                }
                index += 1
            }
            return fired
        }
    }
}

/// The last `limit` requests.
final class RequestLog: Sendable {
    private struct Ring {
        var entries: [RecordedRequest] = []
        var start = 0
    }

    private let ring = Mutex(Ring())
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func append(_ request: RecordedRequest) {
        ring.withLock { ring in
            if ring.entries.count < limit {
                ring.entries.append(request)
            } else {
                ring.entries[ring.start] = request
                ring.start = (ring.start + 1) % limit
            }
        }
    }

    var all: [RecordedRequest] {
        ring.withLock { ring in
            Array(ring.entries[ring.start...] + ring.entries[..<ring.start])
        }
    }

    func reset() { ring.withLock { $0 = Ring() } }
}
