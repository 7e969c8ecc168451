import KubeClient
import Logging

/// The watches that make the helper event-driven: the managed secrets in every namespace (allowed by the
/// original role through the `metadata.name` field selector) and, when patterns or a selector choose the
/// namespaces, the namespaces themselves.
extension SyncController {
    func ensureWatches(_ settings: HelperSettings) {
        if secretWatch?.name != settings.secretName {
            secretWatch?.task.cancel()
            observed = [:]
            secretWatchReady = false
            let name = settings.secretName
            let task = Task { await self.watchSecrets(named: name) }
            secretWatch = (name, task)
        }
        if settings.namespaces.isExplicitList {
            namespaceWatch?.task.cancel()
            namespaceWatch = nil
            namespaceWatchReady = false
        } else if namespaceWatch?.selection.labelSelector != settings.namespaces.labelSelector || namespaceWatch == nil {
            namespaceWatch?.task.cancel()
            namespaceWatchReady = false
            let selector = settings.namespaces.labelSelector?.description
            let task = Task { await self.watchNamespaces(labelSelector: selector) }
            namespaceWatch = (settings.namespaces, task)
        } else {
            namespaceWatch = (settings.namespaces, namespaceWatch!.task)
        }
    }

    private func watchSecrets(named name: String) async {
        let metrics = deps.metrics
        let watcher = Watcher(
            client: deps.kube, type: Secret.self, namespace: nil, fieldSelector: "metadata.name=\(name)", logger: logger,
            onRestart: { _ in metrics.watchRestarted(resource: "secrets") }
        )
        for await event in watcher.events() {
            guard !Task.isCancelled else { return }
            secretEvent(event, name: name)
        }
    }

    private func secretEvent(_ event: WatcherEvent<Secret>, name: String) {
        guard secretWatch?.name == name else { return }
        switch event {
        case let .restarted(secrets):
            observed = Dictionary(secrets.compactMap { s in s.metadata.namespace.map { ($0, ObservedSecret(s)) } }) { a, _ in a }
            secretWatchReady = true
            if let settings, desired != nil {
                for namespace in settings.namespaces.explicitNames where needsRepair(namespace) { enqueue(namespace) }
                for namespace in namespaceLabels.keys where isTarget(namespace, settings) && needsRepair(namespace) { enqueue(namespace) }
            }
        case let .applied(secret):
            guard let namespace = secret.metadata.namespace else { return }
            observed[namespace] = ObservedSecret(secret)
            watchNews[namespace, default: 0] += 1
            if let settings, isTarget(namespace, settings), needsRepair(namespace) {
                logger.info("pull secret was changed by someone else; repairing", metadata: ["namespace": "\(namespace)"])
                enqueue(namespace)
            }
        case let .deleted(secret):
            guard let namespace = secret.metadata.namespace else { return }
            observed[namespace] = nil
            watchNews[namespace, default: 0] += 1
            if let settings, isTarget(namespace, settings) {
                logger.info("pull secret was deleted; restoring", metadata: ["namespace": "\(namespace)"])
                enqueue(namespace)
            }
        }
    }

    /// True when the namespace lacks the current secret and it may be written (never over a foreign one).
    private func needsRepair(_ namespace: String) -> Bool {
        guard let desired else { return false }
        guard let existing = observed[namespace] else { return true }
        return DesiredSecret.mayAdopt(existing) && !desired.isSatisfied(by: existing)
    }

    private func watchNamespaces(labelSelector: String?) async {
        let metrics = deps.metrics
        let watcher = Watcher(
            client: deps.kube, type: Namespace.self, namespace: nil, labelSelector: labelSelector, logger: logger,
            onRestart: { _ in metrics.watchRestarted(resource: "namespaces") }
        )
        for await event in watcher.events() {
            guard !Task.isCancelled else { return }
            namespaceEvent(event)
        }
    }

    private func namespaceEvent(_ event: WatcherEvent<Namespace>) {
        switch event {
        case let .restarted(namespaces):
            let before = namespaceLabels
            namespaceLabels = Dictionary(namespaces.compactMap { ns in ns.metadata.name.map { ($0, ns.metadata.labels ?? [:]) } }) { a, _ in a }
            namespaceWatchReady = true
            if let settings {
                for name in namespaceLabels.keys where before[name] == nil && isTarget(name, settings) { enqueue(name) }
            }
        case let .applied(namespace):
            guard let name = namespace.metadata.name else { return }
            if namespace.metadata.deletionTimestamp != nil {
                namespaceLabels[name] = nil
                return
            }
            let labels = namespace.metadata.labels ?? [:]
            let isNew = namespaceLabels[name] != labels
            namespaceLabels[name] = labels
            guard isNew, let settings else { return }
            if isTarget(name, settings) {
                if needsRepair(name) { enqueue(name) }
            } else if settings.pruneUnselected, observed[name]?.isManaged == true {
                enqueue(name)
            }
        case let .deleted(namespace):
            // Deleted, or (with a label selector on the watch) no longer selected: the namespace may still
            // hold our secret. The secret watch reports the secret's own deletion; until then it is ours to
            // prune when PRUNE_UNSELECTED is on.
            guard let name = namespace.metadata.name else { return }
            namespaceLabels[name] = nil
            retries[name] = nil
            accountWaits[name] = nil
            if let settings, settings.pruneUnselected, observed[name]?.isManaged == true { enqueue(name) }
        }
    }
}
