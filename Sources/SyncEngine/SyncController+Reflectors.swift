import KubeClient
import Logging

/// The reflectors that make the controller event-driven, and the target decisions read from their stores:
/// our secret in every namespace (the original role allows that watch through the `metadata.name` field
/// selector) and, when patterns or a selector choose the namespaces, the namespaces themselves.
extension SyncController {
    func startReflectors(_ settings: HelperSettings) {
        // Without pruning (which must see our secret everywhere), only the secrets of namespaces the names
        // and patterns may include are kept: memory follows the targets, not the cluster (a helper serving 10
        // namespaces of a cluster where 5000 hold the secret keeps 10 digests). The watch itself cannot be
        // narrowed: the field selector takes one name, and the original role has no label rights.
        let names = settings.namespaces.names
        let scope: NamespaceSelection? = settings.pruneUnselected ? nil : names
        if secretReflector?.name != settings.secretName || secretReflector?.scope != scope {
            secretReflector?.task.cancel()
            let name = settings.secretName
            let store = secrets
            // A new name or scope: what was stored is about another secret or other namespaces.
            store.replaceWithNothing()
            var watcher = Watcher(
                client: deps.kube, type: SecretDigest.self, namespace: nil, fieldSelector: "metadata.name=\(name)", logger: logger,
                onRestart: { [metrics = deps.metrics] _ in metrics.watchRestarted(resource: "secrets") }
            )
            watcher.pageSize = Self.listPageSize
            let reflector = Reflector<SecretDigest, ObservedSecret>(
                store: store,
                key: { secret in
                    guard let namespace = secret.metadata.namespace else { return nil }
                    return scope.map { $0.mayInclude(name: namespace) } ?? true ? namespace : nil
                },
                project: ObservedSecret.init)
            let task = Task { await reflector.run(watcher) { change in await self.changed(change) } }
            secretReflector = (name, scope, task)
        }
        if settings.namespaces.isExplicitList {
            namespaceReflector?.task.cancel()
            namespaceReflector = nil
        } else if namespaceReflector == nil || namespaceReflector?.selector != settings.namespaces.labelSelector?.description
                    || namespaceReflector?.names != names {
            namespaceReflector?.task.cancel()
            namespaces.replaceWithNothing()
            let selector = settings.namespaces.labelSelector?.description
            var watcher = Watcher(
                client: deps.kube, type: Namespace.self, namespace: nil, labelSelector: selector, logger: logger,
                onRestart: { [metrics = deps.metrics] _ in metrics.watchRestarted(resource: "namespaces") }
            )
            watcher.pageSize = Self.listPageSize
            // A namespace being deleted is no target: its secrets go with it. Namespaces no name or pattern may
            // include are not kept (a `team-*` helper in a cluster of 10,000 keeps the teams' labels only).
            let reflector = Reflector<Namespace, [String: String]?>(
                store: namespaces, key: { namespace in namespace.metadata.name.flatMap { names.mayInclude(name: $0) ? $0 : nil } },
                project: { $0.metadata.deletionTimestamp == nil ? ($0.metadata.labels ?? [:]) : nil })
            let task = Task { await reflector.run(watcher) { change in await self.changed(change) } }
            namespaceReflector = (selector, names, task)
        }
    }

    /// Lists come in pages of this many objects (client-go's reflector uses 500 too).
    static let listPageSize = 500

    func stopReflectors() {
        secretReflector?.task.cancel()
        secretReflector = nil
        namespaceReflector?.task.cancel()
        namespaceReflector = nil
    }

    /// A relist that changed anything is reconciled as a whole (the first list is the first pass's own);
    /// a single change as its namespace.
    private func changed(_ change: ReflectorChange) async {
        switch change {
        case .relisted(let keys, let initial):
            if !initial && !keys.isEmpty { await queue.add(.all) }
        case .changed(let key):
            await queue.add(.namespace(key))
        }
    }

    /// Waits (bounded) for the initial lists the settings need; without them the pass writes everywhere
    /// (a failed secret list) or only to explicitly named namespaces (a failed namespace list).
    func settle(_ settings: HelperSettings) async {
        if !secrets.isReady, await !secrets.waitUntilSettled(timeout: settleTimeout) {
            logger.debug("existing secrets are not known (\(secrets.lastError ?? "no answer yet")); writing without comparing")
        }
        guard !settings.namespaces.isExplicitList else { return }
        if !namespaces.isReady, await !namespaces.waitUntilSettled(timeout: settleTimeout) {
            let problem = namespaces.lastError ?? "no answer yet"
            if problem != namespaceListProblem {
                logger.error("cannot list namespaces to match NAMESPACES patterns or NAMESPACE_SELECTOR: \(problem). Add to the ClusterRole: {apiGroups: [\"\"], resources: [\"namespaces\"], verbs: [\"list\", \"watch\"]}")
            }
            namespaceListProblem = problem
        } else {
            namespaceListProblem = nil
        }
    }

    func isTarget(_ namespace: String, _ settings: HelperSettings, explicit: Set<String>? = nil) -> Bool {
        if settings.namespaces.isExplicitList {
            return explicit?.contains(namespace) ?? settings.namespaces.explicitNames.contains(namespace)
        }
        guard let labels = namespaces[namespace], let labels else { return false }
        return settings.namespaces.selects(name: namespace, labels: labels)
    }

    /// Explicit names as given; with patterns or a selector, the namespaces in the store that match (only
    /// the explicitly named ones while the namespace list is not known).
    func targetNamespaces(_ settings: HelperSettings) -> [String] {
        if settings.namespaces.isExplicitList { return settings.namespaces.explicitNames }
        guard namespaces.isReady else { return settings.namespaces.explicitNames }
        return namespaces.snapshot().compactMap { name, labels in
            guard let labels, settings.namespaces.selects(name: name, labels: labels) else { return nil }
            return name
        }.sorted()
    }
}
