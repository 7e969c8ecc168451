#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import Logging
import ServiceLifecycle

/// Runs one `SyncController` per served cluster, each in its own task with its own client, work queue,
/// backoff, stores and status: a cluster that is unreachable, slow or forbidden only ever delays itself.
/// What the clusters share is the fleet's settings (each with its own namespace selection when its Secret
/// says so) and one `SharedTokenSource`: one token fetch per region for the whole fleet.
///
/// Clusters come and go with their sources: the folder is compared every `tickInterval` (Kubernetes
/// swaps mounted files without an event), the Secrets are watched. A cluster whose source changed (a
/// rotated kubeconfig, new annotations) gets a new client and controller; one that disappeared is
/// stopped (its secrets stay in place, as with a stopped single-cluster helper).
public actor FleetSupervisor {
    public struct Dependencies: Sendable {
        public var sources: ClusterSources
        public var settings: any SettingsSource
        public var tokens: SharedTokenSource
        public var status: FleetStatus
        public var assignment: any ClusterAssignment
        public var perNamespaceFailures: Bool
        /// The helper's Pod name, reported on Events in remote clusters; nil: no Events there.
        public var eventInstance: String?
        public var logger: Logger
        /// Builds each cluster's client (tests tune timeouts here).
        public var makeClient: @Sendable (KubeConfiguration, Logger) throws -> KubernetesClient

        public init(
            sources: ClusterSources, settings: any SettingsSource, tokens: SharedTokenSource, status: FleetStatus,
            assignment: any ClusterAssignment = ServeEveryCluster(), perNamespaceFailures: Bool = false, eventInstance: String? = nil,
            logger: Logger,
            makeClient: @escaping @Sendable (KubeConfiguration, Logger) throws -> KubernetesClient = { try KubernetesClient(configuration: $0, logger: $1) }
        ) {
            self.sources = sources
            self.settings = settings
            self.tokens = tokens
            self.status = status
            self.assignment = assignment
            self.perNamespaceFailures = perNamespaceFailures
            self.eventInstance = eventInstance
            self.logger = logger
            self.makeClient = makeClient
        }
    }

    /// A served cluster.
    struct Member {
        var target: ClusterTarget
        var client: KubernetesClient?
        var status: HelperStatus
        var metrics: HelperMetrics
        var task: Task<Void, Never>?
        var problem: String?
    }

    let deps: Dependencies
    let tickInterval: Duration
    var logger: Logger { deps.logger }
    private var members: [String: Member] = [:]
    private var directoryTargets: [ClusterTarget] = []
    private var directoryProblem: String?
    private let secretStore = Store<ClusterTarget?>()
    private var lastProblems: [String] = []
    private var stopping = false

    public init(dependencies: Dependencies, tickInterval: Duration = .seconds(1)) {
        self.deps = dependencies
        self.tickInterval = tickInterval
    }

    /// Names of the clusters being served now.
    public var served: [String] { members.filter { $0.value.task != nil }.keys.sorted() }

    /// Runs until cancelled or graceful shutdown; then every cluster's controller finishes its writes in
    /// flight (each within its own grace) and stops.
    public func run() async {
        stopping = false
        var background: [Task<Void, Never>] = []
        if let directory = deps.sources.directory {
            readDirectory(directory)
            background.append(Task { await self.pollDirectory(directory) })
        }
        if let secrets = deps.sources.secrets {
            background.append(Task { await self.watchSecrets(secrets) })
            // The first reconcile waits (bounded) for the Secrets' first list, so the fleet does not
            // start without them and then again with them.
            if await !secretStore.waitUntilSettled(timeout: .seconds(30)) {
                logger.error("cannot list the kubeconfig Secrets (CLUSTER_SECRET_SELECTOR \(secrets.selector) in namespace \(secrets.namespace)): \(secretStore.lastError ?? "no answer"); serving the other clusters meanwhile. Grant list and watch on secrets in that namespace")
            }
        }
        let assignment = deps.assignment
        background.append(Task {
            for await _ in assignment.changes() { await self.reconcileMembers() }
        })
        await reconcileMembers()
        // Parked until cancelled or shut down: the work happens in the members' and the sources' tasks.
        let parked = Task { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await parked.value
            } onCancel: {
                parked.cancel()
            }
        } onGracefulShutdown: {
            parked.cancel()
        }
        for task in background { task.cancel() }
        await stopAll()
        logger.info("fleet stopped")
    }

    /// Graceful shutdown reaches every member's controller through the task-local shutdown handler;
    /// cancellation is passed on explicitly.
    private func stopAll() async {
        stopping = true
        let running = members.values.compactMap(\.task)
        if Task.isCancelled { for task in running { task.cancel() } }
        for task in running { await task.value }
        for member in members.values { try? await member.client?.shutdown() }
        members.removeAll()
    }

    // MARK: - Sources

    private func readDirectory(_ directory: ClustersDirectory) {
        do {
            directoryTargets = try directory.read()
            directoryProblem = nil
        } catch {
            // A missing folder (a Secret not mounted yet) leaves the clusters as they were.
            if directoryProblem != error.description { logger.error("\(error.description)") }
            directoryProblem = error.description
        }
    }

    private func pollDirectory(_ directory: ClustersDirectory) async {
        var fingerprint = directory.fingerprint()
        while !Task.isCancelled {
            do { try await Task.sleep(for: tickInterval) } catch { return }
            let current = directory.fingerprint()
            guard current != fingerprint else { continue }
            fingerprint = current
            logger.info("CLUSTERS_DIR changed on disk; re-reading it")
            readDirectory(directory)
            await reconcileMembers()
        }
    }

    private func watchSecrets(_ selection: ClusterSources.SecretSelection) async {
        let watcher = Watcher(client: selection.client, type: Secret.self, namespace: selection.namespace, labelSelector: selection.selector, logger: logger)
        let reflector = Reflector<Secret, ClusterTarget?>(store: secretStore, key: { $0.metadata.name }, project: ClusterSecretFormat.target(of:))
        await reflector.run(watcher) { change in
            switch change {
            case .relisted(_, initial: true): break  // run() reconciles after the first list itself
            default: await self.reconcileMembers()
            }
        }
    }

    // MARK: - Members

    /// Starts, restarts and stops controllers so that exactly the assigned clusters run, each from its
    /// current source.
    func reconcileMembers() async {
        guard !stopping else { return }
        let fromSecrets = secretStore.snapshot().sorted { $0.key < $1.key }.compactMap(\.value)
        let (targets, problems) = ClusterSources.combine(local: deps.sources.local, files: directoryTargets, secrets: fromSecrets)
        let allProblems = problems + (directoryProblem.map { [$0] } ?? [])
        if allProblems != lastProblems {
            for problem in allProblems where !lastProblems.contains(problem) { logger.error("\(problem)") }
            lastProblems = allProblems
        }
        // The fleet's refresh policy decides how long a shared login is handed out.
        if let settings = try? deps.settings.load() { await deps.tokens.setPolicy(settings.refresh) }
        let assigned = await deps.assignment.assigned(targets.map(\.name))
        guard !stopping else { return }
        let wanted = targets.filter { assigned.contains($0.name) }
        let wantedNames = Set(wanted.map(\.name))

        for (name, member) in members where !wantedNames.contains(name) {
            logger.info("cluster left the fleet (or this replica's share); stopping its controller", metadata: ["cluster": "\(name)"])
            stop(member)
            members[name] = nil
        }
        for target in wanted {
            if let member = members[target.name] {
                if member.target == target { continue }
                logger.info("cluster source changed; restarting its controller", metadata: ["cluster": "\(target.name)", "source": "\(target.origin)"])
                stop(member)
            } else {
                logger.info("cluster joined the fleet", metadata: ["cluster": "\(target.name)", "source": "\(target.origin)"])
            }
            members[target.name] = start(target)
        }
        await publishStatus(sourceProblems: allProblems)
    }

    private func start(_ target: ClusterTarget) -> Member {
        var logger = self.logger
        logger[metadataKey: "cluster"] = "\(target.name)"
        let status = HelperStatus()
        let metrics = HelperMetrics(perNamespaceFailures: deps.perNamespaceFailures, scope: .cluster(target.name))
        var member = Member(target: target, client: nil, status: status, metrics: metrics, task: nil, problem: nil)
        let configuration: KubeConfiguration
        switch target.connection {
        case .failure(let error):
            member.problem = error.description
            logger.error("cluster not served: \(error.description)")
            return member
        case .success(let value): configuration = value
        }
        let client: KubernetesClient
        do {
            client = try deps.makeClient(configuration, logger)
        } catch {
            member.problem = "\(target.origin): \(error)"
            logger.error("cluster not served: \(target.origin): \(error)")
            return member
        }
        let settings = OverriddenSettingsSource(base: deps.settings, override: target.namespaceOverride)
        let events = deps.eventInstance.map { EventRecorder(remote: client, namespace: "default", instance: $0, logger: logger) }
        let controller = SyncController(
            dependencies: .init(kube: client, tokens: deps.tokens, settings: settings, status: status, metrics: metrics, events: events, logger: logger),
            tickInterval: tickInterval)
        member.client = client
        member.task = Task { await controller.run() }
        return member
    }

    /// Stops a member without waiting for it: a cluster that does not answer must not hold up the others.
    private func stop(_ member: Member) {
        member.metrics.forgetCluster()
        guard let task = member.task else { return }
        task.cancel()
        let client = member.client
        Task {
            await task.value
            try? await client?.shutdown()
        }
    }

    private func publishStatus(sourceProblems: [String]) async {
        let clusters = members.values.map { member in
            FleetStatus.Cluster(
                name: member.target.name, origin: member.target.origin,
                server: (try? member.target.connection.get())?.server,
                problem: member.problem, status: member.task == nil ? nil : member.status)
        }
        await deps.status.setClusters(clusters, sourceProblems: sourceProblems)
    }
}
