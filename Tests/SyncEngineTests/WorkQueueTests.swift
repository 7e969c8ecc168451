import Synchronization
import KubeClient
import SyncEngine
import TestSupport
import Testing

/// The work queue with a manual clock: client-go's semantics, in microseconds.
@Suite struct WorkQueueTests {
    @Test func keysAreDeduplicatedWhileWaiting() async {
        let queue = WorkQueue<String>(time: ManualTime())
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.next(limit: 10) == ["a", "b"])
        #expect(await queue.counts.waiting == 0)
    }

    @Test func aKeyIsNeverInFlightTwiceAndComesBackOnceDoneWhenAddedMeanwhile() async {
        let queue = WorkQueue<String>(time: ManualTime())
        await queue.add("a")
        #expect(await queue.next() == ["a"])
        await queue.add("a")
        await queue.add("a")
        #expect(await queue.counts == (waiting: 0, processing: 1, delayed: 0))
        await queue.done("a")
        #expect(await queue.next() == ["a"], "dirty while in flight: handed out once more")
        await queue.done("a")
        #expect(await queue.counts == (waiting: 0, processing: 0, delayed: 0))
    }

    @Test func aWaitingTakerGetsTheNextKey() async throws {
        let queue = WorkQueue<String>(time: ManualTime())
        async let taken = queue.next(limit: 4)
        try await eventually("the taker waits") { await queue.counts.waiting == 0 }
        await queue.add("x")
        #expect(await taken == ["x"])
    }

    @Test func delayedKeysArriveWhenTheirTimeComesAndTheEarlierDeadlineWins() async throws {
        let time = ManualTime()
        let queue = WorkQueue<String>(time: time)
        await queue.add("later", after: .seconds(10))
        await queue.add("soon", after: .seconds(5))
        await queue.add("soon", after: .seconds(8))
        #expect(await queue.deadline(of: "soon") == .seconds(5))
        #expect(await queue.counts.delayed == 2)
        try await eventually("the delay timer sleeps") { time.sleeperCount == 1 }
        time.advance(by: .seconds(5))
        try await eventually("soon is due") { await queue.counts.waiting == 1 }
        #expect(await queue.next() == ["soon"])
        try await eventually("the timer re-arms for later") { time.sleeperCount == 1 }
        time.advance(by: .seconds(4))
        #expect(await queue.counts.waiting == 0)
        time.advance(by: .seconds(1))
        try await eventually("later is due") { await queue.counts.waiting == 1 }
        #expect(await queue.next() == ["later"])
    }

    @Test func rateLimitedRequeuesBackOffPerKeyAndForgetResets() async {
        let queue = WorkQueue<String>(time: ManualTime(), backoff: ExponentialBackoffPolicy(initial: .seconds(1), maximum: .seconds(8)))
        var delays: [Duration] = []
        for _ in 0..<5 { delays.append(await queue.requeueRateLimited("a")) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)])
        #expect(await queue.requeueRateLimited("b") == .seconds(1), "backoff is per key")
        #expect(await queue.requeueRateLimited("c", atLeast: .seconds(30)) == .seconds(30), "Retry-After is a floor")
        await queue.forget("a")
        #expect(await queue.failureCount("a") == 0)
        #expect(await queue.requeueRateLimited("a") == .seconds(1))
    }

    @Test func cancelledDelayedKeysNeverArrive() async throws {
        let time = ManualTime()
        let queue = WorkQueue<String>(time: time)
        await queue.add("gone", after: .seconds(1))
        await queue.add("kept", after: .seconds(2))
        await queue.cancelDelayed("gone")
        try await eventually("the delay timer sleeps") { time.sleeperCount == 1 }
        time.advance(by: .seconds(3))
        try await eventually("kept is due") { await queue.counts.waiting == 1 }
        #expect(await queue.next(limit: 5) == ["kept"])
    }

    @Test func shutDownReleasesWaitingTakersWithNothing() async throws {
        let queue = WorkQueue<String>(time: ManualTime())
        async let taken = queue.next()
        try await eventually("the taker waits") { await queue.counts.waiting == 0 }
        await queue.shutDown()
        #expect(await taken == [])
        await queue.add("after")
        #expect(await queue.next() == [])
    }
}

/// The store's ordering by resourceVersion: late watch events and late own-write records never hide newer facts.
@Suite struct StoreTests {
    typealias Entry = Store<String>.Entry

    @Test func aRelistReportsExactlyWhatChanged() {
        let store = Store<String>()
        #expect(!store.isReady)
        #expect(Set(store.replace(["a": Entry(value: "1", resourceVersion: "5"), "b": Entry(value: "1", resourceVersion: "5")])) == ["a", "b"])
        #expect(store.isReady)
        #expect(Set(store.replace(["a": Entry(value: "1", resourceVersion: "7"), "c": Entry(value: "2", resourceVersion: "7")])) == ["b", "c"])
    }

    @Test func theEchoOfAnOwnWriteChangesNothingAndALateOlderEventIsIgnored() {
        let store = Store<String>()
        store.replace([:])
        #expect(store.recordOwnWrite("ns", "ours", resourceVersion: "10"))
        #expect(!store.upsert("ns", Entry(value: "ours", resourceVersion: "10")), "the echo")
        #expect(!store.upsert("ns", Entry(value: "someone's edit", resourceVersion: "8")), "delivered after our write, but older")
        #expect(store["ns"] == "ours")
        #expect(store.upsert("ns", Entry(value: "edited", resourceVersion: "11")))
        #expect(store["ns"] == "edited")
    }

    @Test func anOwnWriteRecordedAfterANewerDeletionDoesNotResurrectTheObject() {
        let store = Store<String>()
        store.replace(["ns": Entry(value: "old", resourceVersion: "3")])
        // Our apply got resourceVersion 10; someone deleted the secret at 11 and the watch said so first.
        #expect(store.remove("ns", resourceVersion: "11"))
        #expect(!store.recordOwnWrite("ns", "ours", resourceVersion: "10"))
        #expect(store["ns"] == nil)
    }

    @Test func unparsableVersionsTrustTheNewestInformation() {
        let store = Store<String>()
        store.replace(["ns": Entry(value: "a", resourceVersion: "opaque-1")])
        #expect(store.upsert("ns", Entry(value: "b", resourceVersion: "opaque-0")))
        #expect(store["ns"] == "b")
    }

    @Test func waitingSettlesOnTheFirstListOrTheFirstFailure() async {
        let ready = Store<String>()
        async let settled = ready.waitUntilSettled(timeout: .seconds(30))
        ready.replace([:])
        #expect(await settled)
        let failing = Store<String>()
        async let failed = failing.waitUntilSettled(timeout: .seconds(30))
        failing.recordFailure("forbidden")
        #expect(await failed == false)
        #expect(failing.lastError == "forbidden")
    }
}

/// The reflector fed by hand: what reaches the store and what is reported as changed.
@Suite struct ReflectorTests {
    static func secret(_ namespace: String, _ version: String, type: String = "kubernetes.io/dockerconfigjson") -> Secret {
        Secret(metadata: ObjectMeta(name: "registry-aws-ecr", namespace: namespace, resourceVersion: version), type: type)
    }

    @Test func listThenEventsUpdateTheStoreAndReportOnlyRealChanges() async {
        let reflector = Reflector<Secret, String?>(key: { $0.metadata.namespace }, project: { $0.type })
        let (events, feed) = AsyncStream<WatcherEvent<Secret>>.makeStream()
        feed.yield(.restarted([Self.secret("a", "1"), Self.secret("b", "1")]))
        feed.yield(.applied(Self.secret("a", "2")))                  // same projection: no change reported
        feed.yield(.applied(Self.secret("b", "3", type: "Opaque")))  // changed
        feed.yield(.deleted(Self.secret("a", "4")))
        feed.yield(.restarted([Self.secret("c", "5")]))
        feed.finish()
        let changes = Recorded<ReflectorChange>()
        await reflector.run(events) { changes.append($0) }
        let seen = changes.all.map { change -> String in
            switch change {
            case let .relisted(keys, initial): "relisted \(keys.sorted()) initial=\(initial)"
            case let .changed(key): "changed \(key)"
            }
        }
        #expect(seen == ["relisted [\"a\", \"b\"] initial=true", "changed b", "changed a", "relisted [\"b\", \"c\"] initial=false"])
        #expect(reflector.store.snapshot() == ["c": "kubernetes.io/dockerconfigjson"])
    }
}

/// A thread-safe list for callbacks.
final class Recorded<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}
