import Synchronization

/// A cache of projections of watched objects, as kube-runtime's `reflector::Store` and client-go's
/// indexer keep them, but holding only what the controller reads (a projection), not whole objects.
///
/// Fed by a `Reflector` (the only writer of observed state) and by the controller's own writes
/// (`recordOwnWrite`), ordered by resourceVersion: an event the watch delivers late (older than the write
/// we recorded) does not overwrite it, and a write whose answer arrives after the watch already reported
/// something newer (a deletion, an edit) does not hide that. No counters needed.
public final class Store<Projection: Sendable & Equatable>: Sendable {
    public struct Entry: Sendable, Equatable {
        public var value: Projection
        public var resourceVersion: String?

        public init(value: Projection, resourceVersion: String?) {
            self.value = value
            self.resourceVersion = resourceVersion
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// resourceVersions of deletions, so a late own-write record cannot resurrect a deleted object.
        var tombstones: [String: String] = [:]
        var ready = false
        var settled = false
        var lastError: String?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    // MARK: - Reading

    public subscript(key: String) -> Projection? { state.withLock { $0.entries[key]?.value } }

    public func entry(_ key: String) -> Entry? { state.withLock { $0.entries[key] } }

    public var keys: [String] { state.withLock { Array($0.entries.keys) } }

    public var count: Int { state.withLock { $0.entries.count } }

    public func snapshot() -> [String: Projection] { state.withLock { $0.entries.mapValues(\.value) } }

    /// True once the first list arrived (and after every relist).
    public var isReady: Bool { state.withLock { $0.ready } }

    /// The last list or watch failure, while the store is not ready (cleared by the next list).
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Waits until the store is ready, or its first list failed (`lastError` says why), or `timeout`
    /// passed. Returns whether it is ready.
    public func waitUntilSettled(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilSettled() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return isReady
    }

    private func waitUntilSettled() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.settled || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    // MARK: - Writing (the reflector)

    /// Replaces everything with a fresh list. Returns the keys whose projection changed (added, removed,
    /// modified).
    @discardableResult
    public func replace(_ entries: [String: Entry]) -> [String] {
        let (changed, waiters) = state.withLock { state -> ([String], [CheckedContinuation<Void, Never>]) in
            var changed: [String] = []
            for (key, entry) in entries where state.entries[key]?.value != entry.value { changed.append(key) }
            for key in state.entries.keys where entries[key] == nil { changed.append(key) }
            state.entries = entries
            state.tombstones = [:]
            state.ready = true
            state.lastError = nil
            return (changed, settle(&state))
        }
        for waiter in waiters { waiter.resume() }
        return changed
    }

    /// An added or modified object. Returns whether the projection changed.
    @discardableResult
    public func upsert(_ key: String, _ entry: Entry) -> Bool {
        state.withLock { state in
            let current = state.entries[key]
            if let current, Self.isOlder(entry.resourceVersion, than: current.resourceVersion) { return false }
            state.entries[key] = entry
            state.tombstones[key] = nil
            return current?.value != entry.value
        }
    }

    /// A deleted object. Returns whether the store held it.
    @discardableResult
    public func remove(_ key: String, resourceVersion: String?) -> Bool {
        state.withLock { state in
            if let current = state.entries[key], Self.isOlder(resourceVersion, than: current.resourceVersion) { return false }
            if let resourceVersion { state.tombstones[key] = resourceVersion }
            return state.entries.removeValue(forKey: key) != nil
        }
    }

    /// A list or watch failed: remembered for `lastError`, and it settles the first wait.
    public func recordFailure(_ message: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.lastError = message
            return settle(&state)
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Writing (the controller's own writes)

    /// What the controller itself just wrote, at the resourceVersion the server answered. Ignored when the
    /// watch already reported something newer for the key. Returns whether it was recorded.
    @discardableResult
    public func recordOwnWrite(_ key: String, _ value: Projection, resourceVersion: String?) -> Bool {
        state.withLock { state in
            if let current = state.entries[key], Self.isOlder(resourceVersion, than: current.resourceVersion) { return false }
            if let tombstone = state.tombstones[key], Self.isOlder(resourceVersion, than: tombstone) { return false }
            state.entries[key] = Entry(value: value, resourceVersion: resourceVersion)
            return true
        }
    }

    /// Forgets everything and is not ready any more (the controller watches something else now).
    public func replaceWithNothing() {
        state.withLock { state in
            state.entries = [:]
            state.tombstones = [:]
            state.ready = false
            state.settled = false
            state.lastError = nil
        }
    }

    /// The controller itself deleted the object.
    public func recordOwnDelete(_ key: String) {
        state.withLock { _ = $0.entries.removeValue(forKey: key) }
    }

    private func settle(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.settled = true
        let waiters = Array(state.waiters.values)
        state.waiters = [:]
        return waiters
    }

    /// resourceVersions are opaque to clients, but kube-apiserver's are etcd revisions: decimal numbers
    /// that grow. Only when both parse is one known to be older; otherwise the newer information wins.
    static func isOlder(_ candidate: String?, than current: String?) -> Bool {
        guard let candidate, let current, let a = UInt64(candidate), let b = UInt64(current) else { return false }
        return a < b
    }
}
