/// A work queue with client-go's semantics (k8s.io/client-go/util/workqueue): a key waits at most once
/// (adding it again while it waits does nothing), a key is never handed out while it is in flight (adding
/// it then marks it dirty, and it waits again once `done`), and `add(_:after:)` puts it on a delay heap
/// driven by an injectable `TimeSource`. `requeueRateLimited` adds it after a per-key exponential backoff
/// that `forget` resets.
///
/// Every deadline of the controller (token refresh, resync, retries) is a delayed key here: there is no
/// polling tick.
public actor WorkQueue<Key: Hashable & Sendable> {
    private let time: any TimeSource
    private let backoff: ExponentialBackoffPolicy

    private var queue: [Key] = []
    private var head = 0
    private var waiting = Set<Key>()
    private var processing = Set<Key>()
    private var dirty = Set<Key>()
    private var failures: [Key: Int] = [:]
    private var delayed = DelayHeap<Key>()
    private var takers: [CheckedContinuation<[Key], Never>] = []
    private var timer: Task<Void, Never>?
    private var timerDeadline: Duration?
    private var isShutDown = false

    public init(time: any TimeSource = SystemTime(), backoff: ExponentialBackoffPolicy = .init()) {
        self.time = time
        self.backoff = backoff
    }

    // MARK: - Adding

    public func add(_ key: Key) {
        guard !isShutDown else { return }
        if processing.contains(key) {
            dirty.insert(key)
            return
        }
        guard waiting.insert(key).inserted else { return }
        queue.append(key)
        handOut()
    }

    /// Adds the key once `delay` has passed. A key already delayed keeps the earlier of the two deadlines.
    public func add(_ key: Key, after delay: Duration) {
        guard !isShutDown else { return }
        guard delay > .zero else { return add(key) }
        delayed.schedule(key, at: time.now + delay)
        armTimer()
    }

    /// Adds the key after its own backoff: 1, 2, 4 ... failures in a row, capped.
    @discardableResult
    public func requeueRateLimited(_ key: Key, atLeast floor: Duration = .zero) -> Duration {
        let count = (failures[key] ?? 0) + 1
        failures[key] = count
        let delay = max(backoff.delay(afterFailures: count), floor)
        add(key, after: delay)
        return delay
    }

    /// Resets the key's backoff (after a success).
    public func forget(_ key: Key) { failures[key] = nil }

    public func failureCount(_ key: Key) -> Int { failures[key] ?? 0 }

    /// Drops a delayed key (the thing it was for no longer exists).
    public func cancelDelayed(_ key: Key) {
        delayed.remove(key)
        failures[key] = nil
    }

    // MARK: - Taking

    /// Waits for work and hands out up to `limit` keys at once, each marked in flight until `done`.
    /// Returns an empty array after `shutDown()`.
    public func next(limit: Int = 1) async -> [Key] {
        if let batch = take(limit: limit) { return batch }
        if isShutDown { return [] }
        return await withCheckedContinuation { continuation in
            takers.append(continuation)
            pendingLimits.append(limit)
        }
    }

    private var pendingLimits: [Int] = []

    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.remove(key) != nil { add(key) }
    }

    /// Stops handing out work: waiting takers get an empty batch.
    public func shutDown() {
        isShutDown = true
        timer?.cancel()
        timer = nil
        let waitingTakers = takers
        takers = []
        pendingLimits = []
        for taker in waitingTakers { taker.resume(returning: []) }
    }

    /// Keys waiting, in flight and delayed (for tests and status).
    public var counts: (waiting: Int, processing: Int, delayed: Int) { (waiting.count, processing.count, delayed.count) }

    public func isDelayed(_ key: Key) -> Bool { delayed.contains(key) }

    public func deadline(of key: Key) -> Duration? { delayed.deadline(of: key) }

    // MARK: - Internals

    private func take(limit: Int) -> [Key]? {
        guard head < queue.count else { return nil }
        var batch: [Key] = []
        while head < queue.count, batch.count < max(1, limit) {
            let key = queue[head]
            head += 1
            waiting.remove(key)
            processing.insert(key)
            batch.append(key)
        }
        if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return batch
    }

    private func handOut() {
        while !takers.isEmpty, let batch = take(limit: pendingLimits[0]) {
            let taker = takers.removeFirst()
            pendingLimits.removeFirst()
            taker.resume(returning: batch)
        }
    }

    private func armTimer() {
        guard let earliest = delayed.earliestDeadline else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let timerDeadline, timerDeadline <= earliest, timer != nil { return }
        timer?.cancel()
        timerDeadline = earliest
        let time = self.time
        timer = Task { [weak self] in
            do { try await time.sleep(until: earliest) } catch { return }
            await self?.promoteDue()
        }
    }

    private func promoteDue() {
        timer = nil
        timerDeadline = nil
        for key in delayed.popDue(at: time.now) { add(key) }
        armTimer()
    }
}

/// Exponential backoff for requeues: `initial` doubling to `maximum`. No jitter: the queue's backoff is
/// per key, and tests state exact delays.
public struct ExponentialBackoffPolicy: Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(120)) {
        self.initial = initial
        self.maximum = maximum
    }

    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        for _ in 1..<max(1, failures) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}

/// A binary min-heap of (deadline, key) with at most one live entry per key (the earliest); superseded
/// entries are skipped when popped.
struct DelayHeap<Key: Hashable & Sendable>: Sendable {
    private var heap: [(deadline: Duration, key: Key)] = []
    private var live: [Key: Duration] = [:]

    var count: Int { live.count }
    func contains(_ key: Key) -> Bool { live[key] != nil }
    func deadline(of key: Key) -> Duration? { live[key] }

    var earliestDeadline: Duration? {
        mutating get {
            dropSuperseded()
            return heap.first?.deadline
        }
    }

    mutating func schedule(_ key: Key, at deadline: Duration) {
        if let current = live[key], current <= deadline { return }
        live[key] = deadline
        heap.append((deadline, key))
        siftUp(heap.count - 1)
    }

    mutating func remove(_ key: Key) { live[key] = nil }

    mutating func popDue(at now: Duration) -> [Key] {
        var due: [Key] = []
        while let first = heap.first, first.deadline <= now {
            popFirst()
            if live[first.key] == first.deadline {
                live[first.key] = nil
                due.append(first.key)
            }
        }
        return due
    }

    private mutating func dropSuperseded() {
        while let first = heap.first, live[first.key] != first.deadline { popFirst() }
    }

    private mutating func popFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
