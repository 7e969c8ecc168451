#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics
import KubeClient
import Logging
import ServiceLifecycle

/// Keeps every target namespace holding a fresh pull secret, in the shape of kube-runtime's controller:
///
/// - **Reflectors** feed stores of projections: our secret in each namespace (type, ownership, content
///   digest) and, when patterns or a selector choose the namespaces, each namespace's labels. The stores
///   are the only observed state; the first pass reads their initial lists.
/// - **One work queue** of keys (`all`, a namespace, `refresh`) with client-go's semantics. Every deadline
///   is a delayed key: the token refresh, the resync, each namespace's retry. No polling tick.
/// - **A pure decision** per namespace (`Reconcile.plan`) and a thin executor (`SecretWriter`, prune,
///   `ServiceAccountPatcher`); typed errors go through `ErrorPolicy` to a requeue action.
/// - **`TokenRefresher`** owns the login, its schedule and its backoff.
///
/// The only polling left is of the config folders' fingerprint (Kubernetes swaps mounted files without
/// telling anyone), every `tickInterval`.
public actor SyncController {
    public struct Dependencies: Sendable {
        public var kube: KubernetesClient
        public var tokens: any RegistryTokenSource
        public var settings: any SettingsSource
        public var status: HelperStatus
        public var metrics: HelperMetrics
        public var events: EventRecorder?
        public var logger: Logger
        public var time: any TimeSource

        public init(
            kube: KubernetesClient, tokens: any RegistryTokenSource, settings: any SettingsSource,
            status: HelperStatus, metrics: HelperMetrics = HelperMetrics(), events: EventRecorder? = nil, logger: Logger,
            time: any TimeSource = SystemTime()
        ) {
            self.kube = kube
            self.tokens = tokens
            self.settings = settings
            self.status = status
            self.metrics = metrics
            self.events = events
            self.logger = logger
            self.time = time
        }
    }

    /// A unit of work.
    public enum WorkKey: Hashable, Sendable, CustomStringConvertible {
        /// Re-read the settings and reconcile every namespace.
        case all
        /// Reconcile one namespace.
        case namespace(String)
        /// Fetch the registry login.
        case refresh

        public var description: String {
            switch self {
            case .all: "all"
            case .namespace(let name): "namespace \(name)"
            case .refresh: "refresh"
            }
        }
    }

    let deps: Dependencies
    var logger: Logger { deps.logger }
    /// How often the config folders' fingerprint is compared.
    let tickInterval: Duration
    let queue: WorkQueue<WorkKey>
    let refresher: TokenRefresher
    /// Our secret in each namespace, keyed by namespace.
    let secrets = Store<ObservedSecret>()

    /// The namespaces whose secret the controller keeps a digest of: what its memory grows with (for tests
    /// and diagnostics).
    public nonisolated var observedSecretNamespaces: [String] { secrets.keys.sorted() }
    /// The namespaces whose labels the namespace store keeps (patterns or a selector; none for a plain list).
    public nonisolated var observedNamespaces: [String] { namespaces.keys.sorted() }
    /// Each namespace's labels, keyed by name (only while patterns or a selector choose namespaces); nil
    /// for a namespace being deleted.
    let namespaces = Store<[String: String]?>()
    /// How long the first pass waits for the stores' initial lists before writing without them.
    let settleTimeout: Duration = .seconds(30)
    /// After this many short looks for a missing ServiceAccount (about two minutes), the resync takes over.
    static let serviceAccountLooks = 8

    var settings: HelperSettings?
    var fingerprint: String?
    var lastConfigError: String?
    /// The secret reflector, with what it was started for: the secret's name and, without pruning, the names
    /// and patterns that may include a namespace (it keeps no digest for the rest of the cluster).
    var secretReflector: (name: String, scope: NamespaceSelection?, task: Task<Void, Never>)?
    var namespaceReflector: (selector: String?, names: NamespaceSelection, task: Task<Void, Never>)?
    var namespaceListProblem: String?
    /// Namespaces whose last write failed, with the reason (for status and /readyz).
    var namespaceFailures: [String: String] = [:]
    /// A refresh is failing: one Warning event for the stretch, a Normal one when it recovers.
    var failingRefresh = false
    /// Paces writes to what the API server grants; rebuilt when CONCURRENCY or the rate limit change.
    var governor: (key: GovernorKey, governor: WriteGovernor)?
    /// Set by graceful shutdown: no new write starts.
    var stopping = false
    /// The worker, cancelled if it has not finished within `shutdownGrace` of a graceful shutdown.
    var worker: Task<Void, Never>?
    /// How long writes in flight may finish after SIGTERM before they are abandoned (never half-applied:
    /// one apply is atomic on the server).
    let shutdownGrace: Duration = .seconds(3)
    /// How long a pass of `run` retries throttled writes inline before leaving them to the queue's retry.
    let passDeadline: Duration = .seconds(600)

    struct GovernorKey: Hashable {
        var concurrency: Int
        var qps: Double?
        var burst: Int
    }

    public init(dependencies: Dependencies, tickInterval: Duration = .seconds(1)) {
        self.deps = dependencies
        self.tickInterval = tickInterval
        self.queue = WorkQueue(time: dependencies.time)
        self.refresher = TokenRefresher(source: dependencies.tokens)
    }

    // MARK: - Entry points

    /// One pass, for `sync` and scripts: settings, one login, the stores' initial lists, every write.
    /// Throws only when nothing could be attempted (bad settings, no login); per-namespace problems are
    /// in the report.
    /// - Parameter timeout: how long throttled writes (429, 5xx) are retried before `sync` gives up on them.
    public func syncOnce(timeout: Duration = .seconds(300)) async throws -> SyncReport {
        let settings = try deps.settings.load()
        self.settings = settings
        let login = try await fetchOnce(settings)
        startReflectors(settings)
        defer { stopReflectors() }
        await settle(settings)
        let report = await reconcileAll(
            settings: settings, desired: DesiredSecret(name: settings.secretName, installation: settings.installation, login: login), deadline: deps.time.now + timeout)
        await recordOutcome(report)
        return report
    }

    /// Runs until cancelled or until graceful shutdown, which lets the work in flight finish.
    public func run() async {
        await queue.add(.all)
        let worker = Task { await self.work() }
        self.worker = worker
        let poller = Task { await self.pollConfiguration() }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await worker.value
            } onCancel: {
                worker.cancel()
                Task { await self.queue.shutDown() }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
        poller.cancel()
        stopReflectors()
        logger.info("sync loop stopped")
    }

    /// SIGTERM: start no new work and no new write; writes in flight get `shutdownGrace` to finish, then
    /// the worker is cancelled (its requests abandoned), so the process exits within seconds whatever the
    /// API server is doing.
    private func beginShutdown() async {
        stopping = true
        await queue.shutDown()
        let worker = self.worker
        let grace = shutdownGrace
        Task {
            try? await Task.sleep(for: grace)
            worker?.cancel()
        }
    }

    // MARK: - The worker

    private func work() async {
        while true {
            let batch = await queue.next(limit: max(1, settings?.concurrency ?? 32))
            if batch.isEmpty { return }
            await deps.status.workStarted()
            // Whole-cluster keys first, alone; then the namespaces of the batch together.
            for key in batch where key == .refresh { await refreshLogin(enqueueAll: !batch.contains(.all)) }
            for key in batch where key == .all { await fullPass() }
            let names = batch.compactMap { key -> String? in
                if case .namespace(let name) = key { return name }
                return nil
            }
            if !names.isEmpty { await reconcile(names) }
            for key in batch { await queue.done(key) }
            await deps.status.workFinished()
        }
    }

    /// Kubernetes replaces mounted config files by swapping a symlink: no event reaches the process, so the
    /// folders' fingerprint is compared every `tickInterval`.
    private func pollConfiguration() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: tickInterval) } catch { return }
            let print = deps.settings.fingerprint()
            if let fingerprint, print != fingerprint {
                self.fingerprint = print
                logger.info("configuration changed on disk; re-reading it")
                await queue.add(.all)
            }
        }
    }

    // MARK: - Keys

    /// `all`: re-read the settings, fetch a login when there is none for them, reconcile every namespace.
    func fullPass() async {
        fingerprint = deps.settings.fingerprint()
        let settings: HelperSettings
        do {
            settings = try deps.settings.load()
        } catch {
            let message = error.problems.joined(separator: "; ")
            if message != lastConfigError {
                for problem in error.problems { logger.error("configuration: \(problem)") }
                lastConfigError = message
            }
            await refreshFailed(message)
            // The fingerprint poll re-reads at once when the files change; this retry is for everything else.
            await queue.requeueRateLimited(.all)
            return
        }
        await queue.forget(.all)
        if lastConfigError != nil { logger.info("configuration is valid again") }
        lastConfigError = nil
        if settings.warnings != self.settings?.warnings {
            for warning in settings.warnings { logger.warning("configuration: \(warning)") }
        }
        self.settings = settings
        startReflectors(settings)

        if await refresher.needsFetch(for: settings.aws) {
            await refreshLogin(enqueueAll: false)
        }
        guard let login = await refresher.usableLogin() else { return }
        await settle(settings)
        let report = await reconcileAll(
            settings: settings, desired: DesiredSecret(name: settings.secretName, installation: settings.installation, login: login), deadline: deps.time.now + passDeadline)
        await queue.add(.all, after: settings.refresh.resync)
        // A pass with an older login after a failed refresh is not a success: status, /readyz, the
        // last-success metric and the Events keep saying so until a fetch succeeds. Nor is a pass that
        // could not list the namespaces its patterns choose from: it reached no target, it did not reach
        // them all (a role without namespace list/watch used to look ready with nothing written).
        if await refresher.failures == 0 {
            if let problem = namespaceListProblem, !settings.namespaces.isExplicitList, !namespaces.isReady {
                await deps.status.recordFailure("cannot list namespaces to match NAMESPACES patterns or NAMESPACE_SELECTOR: \(problem)")
            } else {
                await recordOutcome(report)
            }
        }
    }

    /// `refresh`: fetch the login, schedule the next refresh. Returns whether it succeeded.
    @discardableResult
    func refreshLogin(enqueueAll: Bool) async -> Bool {
        guard let settings else {
            await queue.add(.all)
            return false
        }
        let started = ContinuousClock.now
        switch await refresher.refresh(access: settings.aws, policy: settings.refresh) {
        case let .fetched(login, next):
            deps.metrics.tokensFetched(login, regions: settings.aws.regions.count, duration: started.duration(to: .now))
            logger.debug("fetched registry tokens", metadata: ["registries": "\(login.credentials.map(\.host))"])
            await queue.add(.refresh, after: next)
            if enqueueAll { await queue.add(.all) }
            return true
        case .failed where Task.isCancelled:
            // The process is stopping (SIGTERM, or another service failed, such as a busy HTTP port): the
            // fetch was cut short, not refused, and a "refresh failed" line would come before the real cause.
            return false
        case let .failed(error, retryIn, _):
            deps.metrics.tokenFetchFailed()
            await queue.add(.refresh, after: retryIn)
            await refreshFailed("\(error)", retryIn: retryIn)
            return false
        }
    }

    /// Single namespaces, queued by the reflectors and by retries.
    func reconcile(_ names: [String]) async {
        guard let settings else { return }
        let login = await refresher.usableLogin()
        let desired = login.map { DesiredSecret(name: settings.secretName, installation: settings.installation, login: $0) }
        let outcomes = await execute(names, settings: settings, desired: desired, deadline: deps.time.now + passDeadline)
        await summarizeThrottling()
        let written = outcomes.filter { $0.value == .written }.keys.sorted()
        if !written.isEmpty { logger.info("repaired pull secret", metadata: ["namespaces": "\(written.joined(separator: ","))"]) }
        await deps.status.recordNamespaceFailures(namespaceFailures)
    }

    /// Every target, plus (with PRUNE_UNSELECTED) every namespace holding our secret that is not one.
    func reconcileAll(settings: HelperSettings, desired: DesiredSecret, deadline: Duration) async -> SyncReport {
        let targets = targetNamespaces(settings)
        var names = targets
        if settings.pruneUnselected {
            let targetSet = Set(targets)
            names += secrets.keys.filter { !targetSet.contains($0) }.sorted()
        }
        let outcomes = await execute(names, settings: settings, desired: desired, deadline: deadline)
        await summarizeThrottling()
        return SyncReport(outcomes: outcomes.filter { targets.contains($0.key) }, login: desired.login)
    }

    // MARK: - Decide, then carry out

    /// Plans each namespace from the stores, then carries the plans out: applies (fanned out), prunes,
    /// ServiceAccount patches, and a requeue action for each failure. Returns the targets' outcomes.
    func execute(_ names: [String], settings: HelperSettings, desired: DesiredSecret?, deadline: Duration) async -> [String: NamespaceOutcome] {
        var outcomes: [String: NamespaceOutcome] = [:]
        var toApply: [String] = []
        // Built once: looking each namespace up in the list itself made a pass over N namespaces O(N²)
        // (half of a 5000-namespace sync's CPU in the benchmark profile).
        let explicit = settings.namespaces.isExplicitList ? Set(settings.namespaces.explicitNames) : nil
        for name in names {
            let isTarget = isTarget(name, settings, explicit: explicit)
            switch Reconcile.plan(
                isTarget: isTarget, observed: secrets[name], desired: desired, installation: settings.installation, pruneUnselected: settings.pruneUnselected) {
            case .apply: toApply.append(name)
            case .upToDate: outcomes[name] = .unchanged
            case .leaveForeign(let type): outcomes[name] = .foreign(type: type)
            case .leaveOtherInstallation(let other): outcomes[name] = .otherInstallation(other)
            case .waitForLogin: break
            case .prune: await prune(name, settings: settings)
            case .ignore:
                await queue.cancelDelayed(.namespace(name))
                namespaceFailures[name] = nil
            }
        }
        if let desired, !toApply.isEmpty {
            let writer = SecretWriter(client: deps.kube, logger: logger)
            let pacing = SecretWriter.Pacing(
                governor: governor(for: settings), time: deps.time, deadline: deadline, shouldStop: { await self.stopping })
            for (name, result) in await writer.apply(desired, to: toApply, pacing: pacing) {
                outcomes[name] = result.outcome
                if result.outcome == .written {
                    // The watch's echo of this write carries the same resourceVersion: it changes nothing.
                    secrets.recordOwnWrite(name, desired.asObserved, resourceVersion: result.resourceVersion)
                }
                if case .failed = result.outcome { await requeue(.namespace(name), result.action) }
            }
        }
        for (name, outcome) in outcomes {
            deps.metrics.write(outcome, namespace: name)
            switch outcome {
            case .failed(let reason, _): namespaceFailures[name] = reason
            case .written, .unchanged:
                namespaceFailures[name] = nil
                await patchServiceAccounts(name, settings: settings, outcomes: &outcomes)
            case .foreign, .otherInstallation:
                namespaceFailures[name] = nil
                await queue.forget(.namespace(name))
            }
        }
        return outcomes
    }

    /// The governor for the current CONCURRENCY and rate limit (kept across passes: what it learned of the
    /// server's capacity carries over).
    func governor(for settings: HelperSettings) -> WriteGovernor {
        let key = GovernorKey(concurrency: settings.concurrency, qps: settings.apiQPS, burst: settings.apiBurst)
        if let governor, governor.key == key { return governor.governor }
        let made = WriteGovernor(concurrency: key.concurrency, qps: key.qps, burst: key.burst, time: deps.time)
        governor = (key, made)
        return made
    }

    /// One line per pass when the API server throttled it, not one per namespace; and the metric.
    private func summarizeThrottling() async {
        guard let governor = governor?.governor else { return }
        let statistics = await governor.takeStatistics()
        guard statistics.throttled > 0 else { return }
        deps.metrics.apiThrottled(statistics.throttled)
        let limit = await governor.currentLimit
        logger.notice(
            "the API server throttled \(statistics.throttled) writes (429 or Retry-After); waited \(statistics.waited.humanReadable) in all; writes in flight went down to \(statistics.lowestLimit), now \(limit)",
            metadata: ["throttled": "\(statistics.throttled)"])
    }

    private func requeue(_ key: WorkKey, _ action: RequeueAction) async {
        switch action {
        case .wait: await queue.forget(key)
        case .backoff(let floor): await queue.requeueRateLimited(key, atLeast: floor)
        }
    }

    /// Adds the secret to the chosen ServiceAccounts. A missing one (the controller manager creates a new
    /// namespace's `default` ServiceAccount a moment after the namespace, and the helper is often faster)
    /// is looked for again shortly, a few times.
    private func patchServiceAccounts(_ name: String, settings: HelperSettings, outcomes: inout [String: NamespaceOutcome]) async {
        guard !settings.serviceAccounts.isEmpty else {
            await queue.forget(.namespace(name))
            return
        }
        let patcher = ServiceAccountPatcher(client: deps.kube, logger: logger)
        let result = await patcher.ensure(secretName: settings.secretName, installation: settings.installation, serviceAccounts: settings.serviceAccounts, namespace: name)
        if let failure = result.failures.first {
            outcomes[name] = .failed(reason: failure, retryable: true)
            namespaceFailures[name] = failure
            await queue.requeueRateLimited(.namespace(name))
        } else if !result.missing.isEmpty, await queue.failureCount(.namespace(name)) < Self.serviceAccountLooks {
            await queue.requeueRateLimited(.namespace(name))
        } else {
            await queue.forget(.namespace(name))
        }
    }

    /// Deletes our secret from a namespace that is no longer a target.
    private func prune(_ name: String, settings: HelperSettings) async {
        do {
            try await deps.kube.delete(Secret.self, namespace: name, name: settings.secretName)
            secrets.recordOwnDelete(name)
            logger.info("removed pull secret from a namespace that is no longer selected", metadata: ["namespace": "\(name)"])
        } catch let error as KubeAPIError where error.isNotFound {
            secrets.recordOwnDelete(name)
        } catch {
            logger.warning("could not prune pull secret in \(name): \(error)")
            await queue.requeueRateLimited(.namespace(name))
        }
    }

    // MARK: - Login

    /// The login for `sync`: one fetch, no schedule.
    private func fetchOnce(_ settings: HelperSettings) async throws -> RegistryLogin {
        let started = ContinuousClock.now
        switch await refresher.refresh(access: settings.aws, policy: settings.refresh) {
        case let .fetched(login, _):
            deps.metrics.tokensFetched(login, regions: settings.aws.regions.count, duration: started.duration(to: .now))
            return login
        case let .failed(error, _, _):
            deps.metrics.tokenFetchFailed()
            throw error
        }
    }

    /// A refresh that could not happen (AWS, or invalid settings): nothing is written with it, the old
    /// secrets stay, and a retry is scheduled.
    private func refreshFailed(_ message: String, retryIn: Duration? = nil) async {
        deps.metrics.refreshFailed()
        await deps.status.recordFailure(message)
        let when = retryIn.map { "; retrying in \($0.humanReadable)" } ?? ""
        logger.error("refresh failed, existing secrets left untouched\(when): \(message)")
        if !failingRefresh {
            failingRefresh = true
            await deps.events?.record(reason: "RefreshFailed", message: message, warning: true)
        }
    }

    private func recordOutcome(_ report: SyncReport) async {
        let now = Date()
        if let login = report.login {
            let complete = report.outcomes.values.allSatisfy { outcome in
                if case .failed = outcome { return false }
                return true
            }
            await deps.status.recordSuccess(login: login, at: now, failing: namespaceFailures, complete: complete)
        }
        deps.metrics.syncSucceeded(at: now, namespaces: report.succeeded.count)
        if failingRefresh {
            failingRefresh = false
            await deps.events?.record(reason: "RefreshRecovered", message: "registry credentials refreshed again in \(report.succeeded.count) namespaces", warning: false)
        }
        var metadata: Logger.Metadata = [
            "namespaces_ok": "\(report.succeeded.count)",
            "namespaces_failed": "\(report.failed.count)",
            "written": "\(report.written)",
            "unchanged": "\(report.unchanged)",
        ]
        if let due = await queue.deadline(of: .refresh) {
            metadata["next_refresh"] = "\(KubeTime.time(now.addingTimeInterval((due - deps.time.now).seconds)))"
        }
        if let expiry = report.login?.earliestExpiry { metadata["token_expires"] = "\(KubeTime.time(expiry))" }
        // A pass's writes grew the heap (request bodies, TLS buffers); hand what is free back to the system,
        // as after a list. In a fleet every cluster's first pass runs at once, and without this the peak stays.
        MemoryRelease.trim()
        if report.allSucceeded {
            logger.info("sync complete", metadata: metadata)
        } else {
            logger.warning("sync complete with failures: \(report.problemSummary())", metadata: metadata)
        }
        // The pass also left most of the binary resident (fault-around over code run once); an idle helper
        // needs a fraction of it, which comes back from the page cache when it runs (BinaryPages.swift).
        MemoryRelease.releaseBinaryPages()
    }
}
