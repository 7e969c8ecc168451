#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import Logging
import ServiceLifecycle

/// The reconcile loop. Keeps every target namespace holding a fresh pull secret:
/// - a full cycle re-reads the settings, fetches tokens when due (one AWS call per region), and writes the
///   secret wherever it is missing or stale;
/// - watches on the managed secrets (and on namespaces, when patterns or a selector pick them) queue single
///   namespaces for repair the moment something changes;
/// - a one-second tick notices config-folder swaps, due refreshes, resyncs and per-namespace retries.
/// Work is coalesced: while a pass runs, further triggers collapse into one set of pending namespaces.
public actor SyncController {
    public struct Dependencies: Sendable {
        public var kube: KubernetesClient
        public var tokens: any RegistryTokenSource
        public var settings: any SettingsSource
        public var status: HelperStatus
        public var metrics: HelperMetrics
        public var events: EventRecorder?
        public var logger: Logger

        public init(
            kube: KubernetesClient, tokens: any RegistryTokenSource, settings: any SettingsSource,
            status: HelperStatus, metrics: HelperMetrics = HelperMetrics(), events: EventRecorder? = nil, logger: Logger
        ) {
            self.kube = kube
            self.tokens = tokens
            self.settings = settings
            self.status = status
            self.metrics = metrics
            self.events = events
            self.logger = logger
        }
    }

    let deps: Dependencies
    var logger: Logger { deps.logger }
    let clock = ContinuousClock()
    let tokenBackoff = ExponentialBackoff(initial: .seconds(2), maximum: .seconds(300))
    let namespaceBackoff = ExponentialBackoff(initial: .seconds(1), maximum: .seconds(120))
    /// How often the loop looks at the clock and the config folders.
    let tickInterval: Duration

    // Settings and tokens.
    var settings: HelperSettings?
    var lastConfigError: String?
    var desired: DesiredSecret?
    var fingerprint: String?
    var tokensDue: ContinuousClock.Instant?
    var tokenFailures = 0
    var fullCycleDue: ContinuousClock.Instant?
    var resyncDue: ContinuousClock.Instant?
    var failingRefresh = false

    // What the watches saw.
    var observed: [String: ObservedSecret] = [:]
    /// How many changes the watch has reported per namespace, to tell whether it spoke during a write.
    var watchNews: [String: Int] = [:]
    var secretWatchReady = false
    var namespaceLabels: [String: [String: String]] = [:]
    var namespaceWatchReady = false
    var secretWatch: (name: String, task: Task<Void, Never>)?
    var namespaceWatch: (selection: NamespaceSelection, task: Task<Void, Never>)?

    // Pending work.
    var pendingFull = false
    var pendingNamespaces = Set<String>()
    var retries: [String: (attempt: Int, due: ContinuousClock.Instant, reason: String)] = [:]
    /// Namespaces whose ServiceAccounts to patch do not exist yet: looked at again shortly (not a failure).
    var accountWaits: [String: (attempt: Int, due: ContinuousClock.Instant)] = [:]
    /// A new namespace's `default` ServiceAccount appears within a second or two; after this many short
    /// waits (about two minutes in all) the resync takes over.
    let accountWaitAttempts = 8
    let accountWaitBackoff = ExponentialBackoff(initial: .seconds(1), maximum: .seconds(30))
    var wake: AsyncStream<Void>.Continuation?

    public init(dependencies: Dependencies, tickInterval: Duration = .seconds(1)) {
        self.deps = dependencies
        self.tickInterval = tickInterval
    }

    // MARK: - Entry points

    /// One pass without watches: for `sync`, and for scripts. Throws only when nothing could be attempted
    /// (bad settings, no tokens); per-namespace problems are in the report.
    public func syncOnce() async throws -> SyncReport {
        let settings = try deps.settings.load()
        self.settings = settings
        let login = try await fetchLogin(settings)
        let desired = DesiredSecret(name: settings.secretName, login: login)
        self.desired = desired
        await listObservedSecrets(settings)
        let report = await writeAll(settings: settings, desired: desired)
        await recordOutcome(report, settings: settings)
        return report
    }

    /// Runs until cancelled or until graceful shutdown, which lets the pass in flight finish.
    public func run() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wake = continuation
        pendingFull = true
        continuation.yield()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.tickLoop() }
                for await _ in stream {
                    await self.drain()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        secretWatch?.task.cancel()
        namespaceWatch?.task.cancel()
        logger.info("sync loop stopped")
    }

    // MARK: - Scheduling

    func enqueueFull() {
        pendingFull = true
        wake?.yield()
    }

    func enqueue(_ namespace: String) {
        pendingNamespaces.insert(namespace)
        wake?.yield()
    }

    private func tickLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: tickInterval)
            tick()
        }
    }

    /// Turns deadlines and config changes into work.
    func tick() {
        let now = clock.now
        Task { await deps.status.heartbeat() }
        let print = deps.settings.fingerprint()
        if let fingerprint, print != fingerprint {
            logger.info("configuration changed on disk; re-reading it")
            enqueueFull()
        }
        if let due = fullCycleDue, now >= due { fullCycleDue = nil; enqueueFull() }
        if let due = tokensDue, now >= due { tokensDue = nil; enqueueFull() }
        if let due = resyncDue, now >= due { resyncDue = nil; enqueueFull() }
        for (namespace, retry) in retries where now >= retry.due {
            enqueue(namespace)
        }
        for (namespace, wait) in accountWaits where now >= wait.due {
            accountWaits[namespace]?.due = now.advanced(by: .seconds(3600))
            enqueue(namespace)
        }
    }

    private func drain() async {
        while pendingFull || !pendingNamespaces.isEmpty {
            if pendingFull {
                pendingFull = false
                pendingNamespaces.removeAll()
                await fullCycle()
            } else {
                let batch = pendingNamespaces
                pendingNamespaces.removeAll()
                await reconcile(batch)
            }
        }
    }

    // MARK: - Full cycle

    func fullCycle() async {
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
            await failed(message, retryAfterAttempt: true)
            return
        }
        if lastConfigError != nil { logger.info("configuration is valid again") }
        lastConfigError = nil
        if settings.warnings != self.settings?.warnings {
            for warning in settings.warnings { logger.warning("configuration: \(warning)") }
        }
        let previous = self.settings
        self.settings = settings
        ensureWatches(settings)

        // Tokens: on first run, when due, or when anything about the AWS side changed.
        let identityChanged = previous.map { $0.aws != settings.aws } ?? true
        if desired == nil || identityChanged || desired?.name != settings.secretName || tokensDue == nil {
            do {
                let login = try await fetchLogin(settings)
                desired = DesiredSecret(name: settings.secretName, login: login)
                tokenFailures = 0
                let delay = settings.refresh.delay(fetchedAt: login.fetchedAt, expiries: login.credentials.map(\.expiresAt))
                tokensDue = clock.now.advanced(by: delay)
                await deps.status.recordNextRefresh(Date().addingTimeInterval(delay.seconds))
            } catch {
                tokenFailures += 1
                // The retry must fetch again, whatever made this cycle fetch (a key rotation, not only the due time).
                tokensDue = nil
                await failed("\(error)", retryAfterAttempt: true)
                // An older login that has not expired still gets written where it is missing. The refresh
                // itself failed, so this pass is not reported as a success: status, /readyz, the
                // last-success metric and the Events keep saying so until a fetch succeeds.
                guard let desired, desired.name == settings.secretName, !desired.login.hasExpired(at: Date()) else { return }
                if !secretWatchReady { await listObservedSecrets(settings) }
                _ = await writeAll(settings: settings, desired: desired)
                return
            }
        }
        guard let desired else { return }
        if !secretWatchReady { await listObservedSecrets(settings) }
        let report = await writeAll(settings: settings, desired: desired)
        resyncDue = clock.now.advanced(by: settings.refresh.resync)
        await recordOutcome(report, settings: settings)
    }

    /// Fetches tokens, with the metrics and one log line it deserves.
    func fetchLogin(_ settings: HelperSettings) async throws -> RegistryLogin {
        let started = clock.now
        do {
            let login = try await deps.tokens.fetchLogin(for: settings.aws)
            deps.metrics.tokensFetched(login, regions: settings.aws.regions.count, duration: started.duration(to: clock.now))
            logger.debug("fetched registry tokens", metadata: ["registries": "\(login.credentials.map(\.host))"])
            return login
        } catch {
            deps.metrics.tokenFetchFailed()
            throw error
        }
    }

    /// Writes into every target namespace. Failed namespaces are retried on their own with backoff.
    func writeAll(settings: HelperSettings, desired: DesiredSecret) async -> SyncReport {
        let targets = await targetNamespaces(settings)
        let writer = SecretWriter(client: deps.kube, logger: logger)
        let newsBefore = watchNews
        let outcomes = await writer.write(desired, to: targets, observed: observed, concurrency: settings.concurrency)
        var report = SyncReport(outcomes: outcomes, login: desired.login)
        await afterWrites(&report, settings: settings, desired: desired, newsBefore: newsBefore)
        if settings.pruneUnselected { await prune(settings: settings, targets: Set(targets)) }
        return report
    }

    /// Single namespaces queued by watches or retries.
    func reconcile(_ namespaces: Set<String>) async {
        guard let settings else { return }
        let targets = namespaces.filter { isTarget($0, settings) }.sorted()
        for namespace in namespaces where !targets.contains(namespace) {
            retries[namespace] = nil
            accountWaits[namespace] = nil
            // A namespace the watch saw leave the selection: prune it now, not at the next resync.
            if settings.pruneUnselected { await prune(namespace, settings: settings) }
        }
        guard let desired, !desired.login.hasExpired(at: Date()), !targets.isEmpty else { return }
        let writer = SecretWriter(client: deps.kube, logger: logger)
        let newsBefore = watchNews
        let outcomes = await writer.write(desired, to: targets, observed: observed, concurrency: settings.concurrency)
        var report = SyncReport(outcomes: outcomes, login: desired.login)
        await afterWrites(&report, settings: settings, desired: desired, newsBefore: newsBefore)
        let written = outcomes.filter { $0.value == .written }.keys.sorted()
        if !written.isEmpty { logger.info("repaired pull secret", metadata: ["namespaces": "\(written.joined(separator: ","))"]) }
        await deps.status.recordNamespaceFailures(retries.mapValues(\.reason))
    }

    /// Retry bookkeeping, ServiceAccount patching and metrics shared by full and single-namespace passes.
    private func afterWrites(_ report: inout SyncReport, settings: HelperSettings, desired: DesiredSecret, newsBefore: [String: Int]) async {
        let now = clock.now
        for (namespace, outcome) in report.outcomes {
            switch outcome {
            case .written:
                retries[namespace] = nil
                // Unless the watch reported a change meanwhile (say, a deletion), what we just wrote is what
                // the namespace holds: a repair queued from an older view (the watch's first list racing
                // the first pass) then finds it current and writes nothing.
                if watchNews[namespace] == newsBefore[namespace] { observed[namespace] = desired.asObserved }
            case .unchanged, .foreign:
                retries[namespace] = nil
            case let .failed(reason, _):
                let attempt = (retries[namespace]?.attempt ?? 0) + 1
                retries[namespace] = (attempt, now.advanced(by: namespaceBackoff.delay(afterFailures: attempt)), reason)
            }
            deps.metrics.write(outcome, namespace: namespace)
        }
        guard !settings.serviceAccounts.isEmpty else { return }
        let patcher = ServiceAccountPatcher(client: deps.kube, logger: logger)
        for namespace in report.succeeded {
            let outcome = await patcher.ensure(secretName: settings.secretName, serviceAccounts: settings.serviceAccounts, namespace: namespace)
            let attempt = (accountWaits[namespace]?.attempt ?? 0) + 1
            if outcome.missing.isEmpty || attempt > accountWaitAttempts {
                accountWaits[namespace] = nil
            } else {
                accountWaits[namespace] = (attempt, now.advanced(by: accountWaitBackoff.delay(afterFailures: attempt)))
            }
            if let first = outcome.failures.first {
                report.outcomes[namespace] = .failed(reason: first, retryable: true)
                let attempt = (retries[namespace]?.attempt ?? 0) + 1
                retries[namespace] = (attempt, now.advanced(by: namespaceBackoff.delay(afterFailures: attempt)), first)
            }
        }
    }

    private func recordOutcome(_ report: SyncReport, settings: HelperSettings) async {
        let now = Date()
        if let login = report.login {
            await deps.status.recordSuccess(login: login, at: now, failing: retries.mapValues(\.reason))
        }
        deps.metrics.syncSucceeded(at: now, namespaces: report.succeeded.count)
        if failingRefresh {
            failingRefresh = false
            await deps.events?.record(reason: "RefreshRecovered", message: "registry credentials refreshed again in \(report.succeeded.count) namespaces", warning: false)
        }
        let next = tokensDue.map { Date().addingTimeInterval(clock.now.duration(to: $0).seconds) }
        var metadata: Logger.Metadata = [
            "namespaces_ok": "\(report.succeeded.count)",
            "namespaces_failed": "\(report.failed.count)",
            "written": "\(report.written)",
            "unchanged": "\(report.unchanged)",
        ]
        if let next { metadata["next_refresh"] = "\(KubeTime.time(next))" }
        if let expiry = report.login?.earliestExpiry { metadata["token_expires"] = "\(KubeTime.time(expiry))" }
        if report.allSucceeded {
            logger.info("sync complete", metadata: metadata)
        } else {
            logger.warning("sync complete with failures: \(report.problemLines.joined(separator: "; "))", metadata: metadata)
        }
    }

    /// A refresh that could not happen: nothing is written, the old secrets stay, and a retry is scheduled.
    private func failed(_ message: String, retryAfterAttempt: Bool) async {
        deps.metrics.refreshFailed()
        await deps.status.recordFailure(message)
        let attempt = max(tokenFailures, 1)
        let delay = tokenBackoff.delay(afterFailures: attempt)
        fullCycleDue = clock.now.advanced(by: delay)
        logger.error("refresh failed, existing secrets left untouched; retrying in \(delay.humanReadable): \(message)")
        if !failingRefresh {
            failingRefresh = true
            await deps.events?.record(reason: "RefreshFailed", message: message, warning: true)
        }
    }

    // MARK: - Targets

    func isTarget(_ namespace: String, _ settings: HelperSettings) -> Bool {
        if settings.namespaces.isExplicitList { return settings.namespaces.explicitNames.contains(namespace) }
        guard let labels = namespaceLabels[namespace] else { return false }
        return settings.namespaces.selects(name: namespace, labels: labels)
    }

    func targetNamespaces(_ settings: HelperSettings) async -> [String] {
        if settings.namespaces.isExplicitList { return settings.namespaces.explicitNames }
        if !namespaceWatchReady {
            do {
                let list = try await deps.kube.list(Namespace.self, namespace: nil, labelSelector: settings.namespaces.labelSelector?.description)
                namespaceLabels = Dictionary(list.items.compactMap { ns in ns.metadata.name.map { ($0, ns.metadata.labels ?? [:]) } }) { a, _ in a }
            } catch {
                logger.error("cannot list namespaces to match NAMESPACES patterns or NAMESPACE_SELECTOR: \(error). Add to the ClusterRole: {apiGroups: [\"\"], resources: [\"namespaces\"], verbs: [\"list\", \"watch\"]}")
                return settings.namespaces.explicitNames
            }
        }
        return namespaceLabels.keys.filter { settings.namespaces.selects(name: $0, labels: namespaceLabels[$0] ?? [:]) }.sorted()
    }

    /// Without a running secret watch, one list (allowed by the original role through the name field
    /// selector) tells which namespaces already hold a current secret, so they are not written again.
    private func listObservedSecrets(_ settings: HelperSettings) async {
        do {
            let list = try await deps.kube.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(settings.secretName)")
            observed = Dictionary(list.items.compactMap { s in s.metadata.namespace.map { ($0, ObservedSecret(s)) } }) { a, _ in a }
        } catch {
            logger.debug("cannot list existing secrets, writing without comparing: \(error)")
            observed = [:]
        }
    }

    // MARK: - Prune

    private func prune(settings: HelperSettings, targets: Set<String>) async {
        for namespace in observed.keys.sorted() where !targets.contains(namespace) {
            await prune(namespace, settings: settings)
        }
    }

    /// Deletes our secret from one namespace that is not a target, if the watch saw one of ours there.
    private func prune(_ namespace: String, settings: HelperSettings) async {
        guard observed[namespace]?.isManaged == true else { return }
        do {
            try await deps.kube.delete(Secret.self, namespace: namespace, name: settings.secretName)
            observed[namespace] = nil
            logger.info("removed pull secret from a namespace that is no longer selected", metadata: ["namespace": "\(namespace)"])
        } catch let error as KubeAPIError where error.isNotFound {
            observed[namespace] = nil
        } catch {
            logger.warning("could not prune pull secret in \(namespace): \(error)")
        }
    }
}
