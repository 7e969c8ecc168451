import CommonBasics

/// What changed in a reflector's store.
public enum ReflectorChange: Sendable, Hashable {
    /// A (re)list replaced the store; `keys` changed. `initial`: the store was not ready before.
    case relisted(keys: [String], initial: Bool)
    /// One watch event changed this key's projection.
    case changed(String)
}

/// Feeds a `Watcher`'s events into a `Store` of projections, as kube-runtime's `reflector` does: the
/// store is the only place observed state lives, and the first pass of a controller reads the reflector's
/// initial list instead of listing again.
public struct Reflector<R: KubeResource, Projection: Sendable & Equatable>: Sendable {
    public let store: Store<Projection>
    /// The store key of an object (nil: not stored), e.g. its namespace for secrets watched by name.
    public let key: @Sendable (R) -> String?
    /// What the controller reads of an object.
    public let project: @Sendable (R) -> Projection

    public init(
        store: Store<Projection> = Store(), key: @escaping @Sendable (R) -> String?, project: @escaping @Sendable (R) -> Projection
    ) {
        self.store = store
        self.key = key
        self.project = project
    }

    /// Runs the watcher into the store until cancelled. `onChange` hears of every (re)list and of each
    /// watch event that changed a projection (an echo of the controller's own recorded write changes
    /// nothing, so it is not reported).
    public func run(_ watcher: Watcher<R>, onChange: @escaping @Sendable (ReflectorChange) async -> Void) async {
        var watcher = watcher
        let store = store
        let previous = watcher.onError
        watcher.onError = { error in
            previous(error)
            store.recordFailure("\(error)")
        }
        await run(watcher.events(), onChange: onChange)
    }

    /// Runs any stream of watcher events into the store (the seam the tests feed by hand).
    public func run(
        _ events: some AsyncSequence<WatcherEvent<R>, Never>, onChange: @escaping @Sendable (ReflectorChange) async -> Void
    ) async {
        // A paged list: projections only, gathered until the list is complete, then one replace.
        var pending: [String: Store<Projection>.Entry]?
        for await event in events {
            if Task.isCancelled { return }
            switch event {
            case .initStarted:
                pending = [:]
            case .initPage(let objects):
                for object in objects {
                    guard let key = key(object) else { continue }
                    pending?[key] = .init(value: project(object), resourceVersion: object.metadata.resourceVersion)
                }
            case .initDone:
                let initial = !store.isReady
                let changed = store.replace(pending ?? [:])
                pending = nil
                // The pages are gone; hand the heap they grew back to the system.
                MemoryRelease.trim()
                await onChange(.relisted(keys: changed, initial: initial))
            case .restarted(let objects):
                var entries: [String: Store<Projection>.Entry] = [:]
                for object in objects {
                    guard let key = key(object) else { continue }
                    entries[key] = .init(value: project(object), resourceVersion: object.metadata.resourceVersion)
                }
                let initial = !store.isReady
                let changed = store.replace(entries)
                await onChange(.relisted(keys: changed, initial: initial))
            case .applied(let object):
                guard let key = key(object) else { continue }
                if store.upsert(key, .init(value: project(object), resourceVersion: object.metadata.resourceVersion)) {
                    await onChange(.changed(key))
                }
            case .deleted(let object):
                guard let key = key(object) else { continue }
                if store.remove(key, resourceVersion: object.metadata.resourceVersion) { await onChange(.changed(key)) }
            }
        }
    }
}
