#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// One stored version of an object.
struct StoredObject: Sendable {
    var object: JSONValue
    var encoded: EncodedObject
    var revision: UInt64
    var labels: [String: String]
    var ownership: FieldOwnership

    var name: String { object["metadata"]?["name"]?.stringValue ?? "" }
}

/// What a write decided, computed under the store's lock from the current object.
enum StoreWrite: Sendable {
    case put(JSONValue, FieldOwnership)
    case delete
}

/// The result of a write: the new (or deleted) object and whether it was created.
struct WriteOutcome: Sendable {
    var stored: StoredObject
    var created: Bool
    var deleted: Bool
}

/// An item a watch stream delivers: an encoded event line, or a request for a bookmark at the store's
/// current revision.
enum WatchItem: Sendable {
    case line([UInt8])
    case bookmark(UInt64)
    /// Cut the connection without ending the response (a server dying mid-stream).
    case abort
}

struct WatchEventRecord: Sendable {
    var type: String
    var plural: String
    var namespace: String
    var revision: UInt64
    var object: JSONValue
    var labels: [String: String]
    var line: [UInt8]
    /// For MODIFIED: the object before the change, so a filtered watch can see it enter or leave its selection.
    var previous: StoredObject?

    static func line(_ type: String, _ encoded: [UInt8]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(encoded.count + 32)
        line.append(contentsOf: #"{"type":""#.utf8)
        line.append(contentsOf: type.utf8)
        line.append(contentsOf: #"","object":"#.utf8)
        line.append(contentsOf: encoded)
        line.append(contentsOf: "}\n".utf8)
        return line
    }

    /// What a watch with `filter` sees of this event, as the real watch cache decides it: an update that
    /// brings an object into the selection is ADDED, one that takes it out is DELETED (with the old content
    /// at the new resourceVersion).
    func line(for filter: WatchFilter) -> [UInt8]? {
        let passes = filter.matches(plural: plural, namespace: namespace, labels: labels, object: object)
        guard type == "MODIFIED", let previous else { return passes ? line : nil }
        let passed = filter.matches(plural: plural, namespace: namespace, labels: previous.labels, object: previous.object)
        switch (passed, passes) {
        case (true, true): return line
        case (false, true): return Self.line("ADDED", Array(line.dropFirst(#"{"type":"MODIFIED","object":"#.utf8.count).dropLast(2)))
        case (true, false):
            var old = previous.object
            old["metadata"]?["resourceVersion"] = .string(String(revision))
            return Self.line("DELETED", EncodedObject(old).bytes)
        case (false, false): return nil
        }
    }
}

struct WatchFilter: Sendable {
    var kind: ResourceKind
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector

    func matches(plural: String, namespace: String, labels: [String: String], object: JSONValue) -> Bool {
        guard plural == kind.plural else { return false }
        if let wanted = self.namespace, wanted != namespace { return false }
        if let pinned = fields.pinnedName, pinned != object["metadata"]?["name"]?.stringValue { return false }
        return self.labels.matches(labels) && fields.matches(object)
    }
}

enum WatchStart: Sendable {
    case started(id: Int, stream: AsyncStream<WatchItem>, continuation: AsyncStream<WatchItem>.Continuation)
    case expired(APIStatus)
}

/// The cluster state: objects indexed by resource and namespace, one global revision counter, a bounded
/// history of watch events and the open watches. Everything happens under one lock, so a watch registers
/// without missing or duplicating events.
final class ObjectStore: Sendable {
    private struct State {
        var revision: UInt64 = 1
        /// plural -> namespace ("" for cluster-scoped) -> name -> object
        var buckets: [String: [String: [String: StoredObject]]] = [:]
        var history: [WatchEventRecord] = []
        var historyStart = 0
        /// Events up to this revision are no longer in `history`.
        var compactedRevision: UInt64 = 0
        var watchers: [Int: (filter: WatchFilter, continuation: AsyncStream<WatchItem>.Continuation)] = [:]
        var nextWatcherID = 0
    }

    private let state = Mutex(State())
    let historyLimit: Int

    init(historyLimit: Int) {
        self.historyLimit = max(1, historyLimit)
    }

    var currentRevision: UInt64 { state.withLock { $0.revision } }

    func get(_ kind: ResourceKind, namespace: String, name: String) -> StoredObject? {
        state.withLock { $0.buckets[kind.plural]?[namespace]?[name] }
    }

    func namespaceExists(_ name: String) -> Bool {
        state.withLock { $0.buckets["namespaces"]?[""]?[name] != nil }
    }

    /// Objects of `kind` in `namespace` (nil: every namespace) matching the selectors, sorted by namespace
    /// and name, with the revision the list is consistent with.
    func list(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector = .everything,
        fields: FieldSelector = .everything
    ) -> (items: [StoredObject], revision: UInt64) {
        state.withLock { state in
            guard let bucket = state.buckets[kind.plural] else { return ([], state.revision) }
            var items: [StoredObject] = []
            let namespaces: [String]
            if let namespace = kind.namespaced ? namespace : "" {
                namespaces = [namespace]
            } else {
                namespaces = bucket.keys.sorted()
            }
            let pinnedName = fields.pinnedName
            for ns in namespaces {
                guard let objects = bucket[ns] else { continue }
                if let pinnedName {
                    if let object = objects[pinnedName], labels.matches(object.labels), fields.matches(object.object) {
                        items.append(object)
                    }
                    continue
                }
                for name in objects.keys.sorted() {
                    let object = objects[name]!
                    if labels.matches(object.labels), fields.matches(object.object) { items.append(object) }
                }
            }
            return (items, state.revision)
        }
    }

    /// Reads the current object (nil when absent), lets `decide` compute the write, stores it with a new
    /// resourceVersion and notifies watches. `decide` runs under the lock and must be quick.
    func write(
        _ kind: ResourceKind, namespace: String, name: String,
        _ decide: (_ current: StoredObject?, _ namespaceExists: Bool) throws(APIStatus) -> StoreWrite
    ) throws(APIStatus) -> WriteOutcome {
        try state.withLock { (state: inout State) throws(APIStatus) -> WriteOutcome in
            let current = state.buckets[kind.plural]?[namespace]?[name]
            let namespaceExists = namespace.isEmpty || state.buckets["namespaces"]?[""]?[namespace] != nil
            switch try decide(current, namespaceExists) {
            case .put(let object, let ownership):
                let stored = Self.store(object, ownership: ownership, kind: kind, namespace: namespace, name: name,
                    current: current, state: &state, historyLimit: historyLimit)
                return WriteOutcome(stored: stored, created: current == nil, deleted: false)
            case .delete:
                guard let current else { throw APIStatus.notFound(kind, name: name) }
                let removed = Self.remove(current, kind: kind, namespace: namespace, state: &state, historyLimit: historyLimit)
                if kind.plural == "namespaces" {
                    Self.removeContents(ofNamespace: name, state: &state, historyLimit: historyLimit)
                }
                return WriteOutcome(stored: removed, created: false, deleted: true)
            }
        }
    }

    private static func store(
        _ object: JSONValue, ownership: FieldOwnership, kind: ResourceKind, namespace: String, name: String,
        current: StoredObject?, state: inout State, historyLimit: Int
    ) -> StoredObject {
        state.revision += 1
        let revision = state.revision
        var object = object
        object["apiVersion"] = .string(kind.apiVersion)
        object["kind"] = .string(kind.kind)
        var metadata = object["metadata"] ?? .object([:])
        metadata["name"] = .string(name)
        if kind.namespaced { metadata["namespace"] = .string(namespace) } else { metadata["namespace"] = nil }
        metadata["resourceVersion"] = .string(String(revision))
        if let current {
            metadata["uid"] = current.object["metadata"]?["uid"]
            metadata["creationTimestamp"] = current.object["metadata"]?["creationTimestamp"]
        } else {
            metadata["uid"] = .string(UUID().uuidString.lowercased())
            metadata["creationTimestamp"] = .string(Timestamp.now())
        }
        if ownership.managers.isEmpty {
            metadata["managedFields"] = nil
        } else {
            metadata["managedFields"] = ownership.managedFields(apiVersion: kind.apiVersion)
        }
        object["metadata"] = metadata
        var labels: [String: String] = [:]
        for (key, value) in metadata["labels"]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        let stored = StoredObject(
            object: object, encoded: EncodedObject(object), revision: revision, labels: labels, ownership: ownership)
        state.buckets[kind.plural, default: [:]][namespace, default: [:]][name] = stored
        record(current == nil ? "ADDED" : "MODIFIED", stored, previous: current, plural: kind.plural,
            namespace: namespace, state: &state, historyLimit: historyLimit)
        return stored
    }

    private static func remove(
        _ current: StoredObject, kind: ResourceKind, namespace: String, state: inout State, historyLimit: Int
    ) -> StoredObject {
        state.revision += 1
        let revision = state.revision
        state.buckets[kind.plural]?[namespace]?[current.name] = nil
        if state.buckets[kind.plural]?[namespace]?.isEmpty == true { state.buckets[kind.plural]?[namespace] = nil }
        var object = current.object
        object["metadata"]?["resourceVersion"] = .string(String(revision))
        let removed = StoredObject(
            object: object, encoded: EncodedObject(object), revision: revision, labels: current.labels,
            ownership: current.ownership)
        record("DELETED", removed, previous: nil, plural: kind.plural, namespace: namespace, state: &state,
            historyLimit: historyLimit)
        return removed
    }

    private static func removeContents(ofNamespace namespace: String, state: inout State, historyLimit: Int) {
        for kind in ResourceKind.stored where kind.namespaced {
            guard let objects = state.buckets[kind.plural]?[namespace] else { continue }
            for name in objects.keys.sorted() {
                _ = remove(objects[name]!, kind: kind, namespace: namespace, state: &state, historyLimit: historyLimit)
            }
        }
    }

    private static func record(
        _ type: String, _ stored: StoredObject, previous: StoredObject?, plural: String, namespace: String,
        state: inout State, historyLimit: Int
    ) {
        let event = WatchEventRecord(
            type: type, plural: plural, namespace: namespace, revision: stored.revision, object: stored.object,
            labels: stored.labels, line: WatchEventRecord.line(type, stored.encoded.bytes), previous: previous)
        if state.history.count < historyLimit {
            state.history.append(event)
        } else {
            state.compactedRevision = state.history[state.historyStart].revision
            state.history[state.historyStart] = event
            state.historyStart = (state.historyStart + 1) % historyLimit
        }
        for (_, watcher) in state.watchers {
            if let line = event.line(for: watcher.filter) { watcher.continuation.yield(.line(line)) }
        }
    }

    /// Opens a watch. Without `resourceVersion` (or with "0") it first delivers ADDED for every current
    /// matching object; with one, it replays the events after it, or answers 410 Expired when they are no
    /// longer in the history.
    func startWatch(_ filter: WatchFilter, resourceVersion: String?) -> WatchStart {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchItem.self)
        return state.withLock { state in
            if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != "0" {
                guard let since = UInt64(resourceVersion) else {
                    return .expired(APIStatus.badRequest("invalid resource version: \(resourceVersion)"))
                }
                if since < state.compactedRevision {
                    return .expired(APIStatus.expired(resourceVersion, oldest: state.compactedRevision + 1))
                }
                let count = state.history.count
                for offset in 0..<count {
                    let event = state.history[(state.historyStart + offset) % count]
                    if event.revision > since, let line = event.line(for: filter) {
                        continuation.yield(.line(line))
                    }
                }
            } else {
                let bucket = state.buckets[filter.kind.plural] ?? [:]
                let namespaces = filter.namespace.map { [filter.kind.namespaced ? $0 : ""] } ?? bucket.keys.sorted()
                for ns in namespaces {
                    for (_, object) in bucket[ns] ?? [:]
                    where filter.matches(plural: filter.kind.plural, namespace: ns, labels: object.labels, object: object.object) {
                        continuation.yield(.line(WatchEventRecord.line("ADDED", object.encoded.bytes)))
                    }
                }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = (filter, continuation)
            return .started(id: id, stream: stream, continuation: continuation)
        }
    }

    /// Asks watch `id` to send a bookmark at the current revision (queued behind events already sent).
    func requestBookmark(_ id: Int) {
        state.withLock { state in
            _ = state.watchers[id]?.continuation.yield(.bookmark(state.revision))
        }
    }

    func endWatch(_ id: Int) {
        let continuation = state.withLock { $0.watchers.removeValue(forKey: id)?.continuation }
        continuation?.finish()
    }

    /// Ends every open watch stream, cleanly or (`abort`) by cutting its connection.
    func endAllWatches(abort: Bool = false) {
        let continuations = state.withLock { state in
            let all = state.watchers.values.map(\.continuation)
            state.watchers.removeAll()
            return all
        }
        for continuation in continuations {
            if abort { continuation.yield(.abort) }
            continuation.finish()
        }
    }

    var openWatchCount: Int { state.withLock { $0.watchers.count } }
}
