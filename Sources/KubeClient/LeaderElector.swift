#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import CommonBasics

/// Marks the task running a leader's `onStartedLeading`, so `release()` called from inside it does not wait
/// for itself.
enum LeaderWork {
    @TaskLocal static var elector: ObjectIdentifier?
}

public struct LeaderElectionConfiguration: Sendable {
    public var leaseName: String
    public var namespace: String
    /// Unique per replica (the pod name, usually).
    public var identity: String
    /// How long others wait, after the last observed renewal, before taking the lease over.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives leadership up.
    public var renewDeadline: Duration
    /// The pause between attempts to acquire or renew.
    public var retryPeriod: Duration
    /// Release the lease when the task running `run` is cancelled, so another replica takes over at once.
    public var releaseOnCancel: Bool

    public init(
        leaseName: String, namespace: String, identity: String,
        leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2),
        releaseOnCancel: Bool = true
    ) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
    }
}

/// Lease-based leader election, as client-go's `leaderelection` package does it: acquire or renew the
/// `coordination.k8s.io/v1` Lease every `retryPeriod` with optimistic concurrency (PUT with the read
/// resourceVersion), take a lease over once its holder has not renewed for its `leaseDurationSeconds`
/// (measured on this replica's own clock from when the record was last seen to change, so clock skew
/// between replicas does not matter), and give leadership up when renewals fail for `renewDeadline`.
public actor LeaderElector {
    public nonisolated let configuration: LeaderElectionConfiguration
    let client: KubernetesClient
    let logger: Logger

    /// Whether `onStartedLeading` is running (leadership published).
    public private(set) var isLeader = false
    /// Whether the last write of the lease by this replica succeeded and has not been given up.
    private var holdsLease = false
    private var stopping = false
    /// The pause between attempts in flight, so that `release()` ends it at once.
    private var pausing: Task<Void, Never>?
    private var observed = LeaseObservation(spec: nil, at: .now)
    private var attempt: Task<Bool, Never>?
    private var leaderTask: Task<Void, Never>?
    private var finishing: Task<Void, Never>?
    private var onStoppedLeading: (@Sendable () async -> Void)?
    private var watchers: [Int: AsyncStream<Bool>.Continuation] = [:]
    private var nextWatcherID = 0

    /// The elector's code, its requests and its timers run on the `LeaseThread`, so renewals keep their
    /// deadlines however busy the cooperative pool is; the leader's work runs on the pool, as any other work.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { LeaseThread.shared.asUnownedSerialExecutor() }

    public init(client: KubernetesClient, configuration: LeaderElectionConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "lease"] = "\(configuration.namespace)/\(configuration.leaseName)"
        logger[metadataKey: "identity"] = "\(configuration.identity)"
        self.logger = logger
    }

    /// Competes for leadership until the calling task is cancelled or `release()` is called.
    /// `onStartedLeading` runs in its own task when leadership is gained; that task is cancelled when
    /// leadership is lost, after which `onStoppedLeading` is called. After a loss the elector competes again.
    public nonisolated func run(
        onStartedLeading: @escaping @Sendable () async -> Void,
        onStoppedLeading: @escaping @Sendable () async -> Void = {}
    ) async {
        await LeaseThread.shared.run {
            await self.compete(onStartedLeading: onStartedLeading, onStoppedLeading: onStoppedLeading)
        }
    }

    private func compete(
        onStartedLeading: @escaping @Sendable () async -> Void,
        onStoppedLeading: @escaping @Sendable () async -> Void
    ) async {
        stopping = false
        finishing = nil
        self.onStoppedLeading = onStoppedLeading
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled && !stopping {
            if isLeader {
                guard await pause(configuration.retryPeriod) else { break }
                let remaining = configuration.renewDeadline - lastRenewal.duration(to: .now)
                if await attemptOnce(timeout: max(remaining, .milliseconds(1))) {
                    lastRenewal = .now
                } else if stopping || Task.isCancelled {
                    break
                } else if lastRenewal.duration(to: .now) >= configuration.renewDeadline {
                    logger.warning("could not renew the leader lease within the renew deadline; stepping down")
                    holdsLease = false
                    await stepDown(waitForWork: false)
                }
            } else {
                if await attemptOnce(timeout: configuration.renewDeadline), !stopping, !Task.isCancelled {
                    lastRenewal = .now
                    logger.info("became leader")
                    isLeader = true
                    let elector = ObjectIdentifier(self)
                    // The work itself belongs on the cooperative pool, not on the lease thread.
                    leaderTask = Task(executorPreference: globalConcurrentExecutor) {
                        await LeaderWork.$elector.withValue(elector) { await onStartedLeading() }
                    }
                    publish(true)
                    continue
                }
                if stopping || Task.isCancelled { break }
                guard await pause(jittered(configuration.retryPeriod)) else { break }
            }
        }
        if stopping || (Task.isCancelled && configuration.releaseOnCancel) {
            await finish()
        } else {
            await stepDown(waitForWork: true)
        }
    }

    /// Gives the lease up (holder cleared, duration 1 s) so another replica can take over at once, and
    /// stops `run`. Call on graceful shutdown.
    /// Leader work is cancelled and awaited first, so that the next leader never overlaps with this one.
    ///
    /// Called from inside the leader work (a leader whose work is done hands over), it only asks: the work
    /// must return for the step-down to complete, so `run` releases the lease once it has. Waiting here
    /// instead deadlocked whenever `run` reached the step-down first (a renewal in flight at the time of
    /// the call): the step-down waited for the work, and the work for the step-down.
    public func release() async {
        stopping = true
        pausing?.cancel()
        if LeaderWork.elector == ObjectIdentifier(self) { return }
        _ = await attempt?.value
        await finish()
    }

    /// Ends leadership and releases the lease, once, whether `release()` or the end of `run` gets here
    /// first; the other waits for it. Leader work ends before the lease is released, so two leaders never
    /// overlap.
    private func finish() async {
        if let finishing {
            await finishing.value
            return
        }
        let task = Task(executorPreference: LeaseThread.shared) {
            await self.stepDown(waitForWork: true)
            await self.releaseIfHeld()
        }
        finishing = task
        await task.value
    }

    private func releaseIfHeld() async {
        guard holdsLease else { return }
        holdsLease = false
        await writeRelease()
    }

    /// The current leadership, then every change.
    public func leadershipChanges() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream<Bool>.makeStream()
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = continuation
        continuation.yield(isLeader)
        continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
        return stream
    }

    private func removeWatcher(_ id: Int) { watchers[id] = nil }

    private func publish(_ leading: Bool) {
        for continuation in watchers.values { continuation.yield(leading) }
    }

    private func stepDown(waitForWork: Bool) async {
        guard isLeader else { return }
        isLeader = false
        let work = leaderTask
        leaderTask = nil
        work?.cancel()
        publish(false)
        // Awaiting the work from inside it would never return.
        if waitForWork, LeaderWork.elector != ObjectIdentifier(self) { await work?.value }
        logger.info("stopped leading")
        await onStoppedLeading?()
    }

    /// Waits `duration`; false when `run` should end (cancelled, or `release()` called meanwhile).
    private func pause(_ duration: Duration) async -> Bool {
        let sleeper = Task<Void, Never>(executorPreference: LeaseThread.shared) { try? await LeaseThread.shared.sleep(for: duration) }
        pausing = sleeper
        await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
        pausing = nil
        return !stopping && !Task.isCancelled
    }

    private func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 1.0...1.2)
    }

    /// One acquire-or-renew, abandoned after `timeout`.
    private func attemptOnce(timeout: Duration) async -> Bool {
        let task = Task(executorPreference: LeaseThread.shared) { await self.tryAcquireOrRenew() }
        attempt = task
        defer { attempt = nil }
        guard let finished = await LeaseTiming.withTimeout(timeout, { await task.value }) else {
            task.cancel()
            logger.debug("lease request timed out")
            return false
        }
        return finished
    }

    private func observe(_ lease: Lease) {
        observed.observe(lease.spec, at: .now)
    }

    private func tryAcquireOrRenew() async -> Bool {
        let now = ContinuousClock.now
        let stamp = LeaseTiming.stamp()
        let durationSeconds = LeaseTiming.durationSeconds(configuration.leaseDuration)
        let lease: Lease
        do {
            lease = try await client.get(Lease.self, namespace: configuration.namespace, name: configuration.leaseName)
        } catch let error as KubeAPIError where error.isNotFound {
            guard !stopping else { return false }
            let fresh = Lease(
                metadata: ObjectMeta(name: configuration.leaseName, namespace: configuration.namespace),
                spec: .init(holderIdentity: configuration.identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0)
            )
            do {
                observe(try await client.create(fresh))
                holdsLease = true
                return true
            } catch {
                logger.debug("could not create the leader lease", metadata: ["error": "\(error)"])
                return false
            }
        } catch {
            logger.debug("could not read the leader lease", metadata: ["error": "\(error)"])
            return false
        }

        observe(lease)
        let spec = lease.spec ?? Lease.Spec()
        let holder = spec.holderIdentity ?? ""
        if !holder.isEmpty && holder != configuration.identity {
            if !observed.isExpired(at: now) {
                holdsLease = false
                return false
            }
            logger.info("the leader lease expired; taking it over", metadata: ["previousHolder": "\(holder)"])
        }
        guard !stopping else { return false }

        var updated = lease
        var newSpec = spec
        newSpec.holderIdentity = configuration.identity
        newSpec.leaseDurationSeconds = durationSeconds
        newSpec.renewTime = stamp
        if holder != configuration.identity {
            newSpec.acquireTime = stamp
            newSpec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        updated.spec = newSpec
        do {
            observe(try await client.replace(updated))
            holdsLease = true
            return true
        } catch {
            logger.debug("could not write the leader lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Runs in a task of its own: the caller may be cancelled (shutdown, or the leader work releasing).
    private func writeRelease() async {
        await Task(executorPreference: LeaseThread.shared) { await self.writeReleaseNow() }.value
    }

    private func writeReleaseNow() async {
        do {
            var lease = try await client.get(Lease.self, namespace: configuration.namespace, name: configuration.leaseName)
            guard lease.spec?.holderIdentity == configuration.identity else { return }
            let stamp = LeaseTiming.stamp()
            lease.spec = .init(
                holderIdentity: "", leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp,
                leaseTransitions: lease.spec?.leaseTransitions
            )
            observe(try await client.replace(lease))
            logger.info("released the leader lease")
        } catch {
            logger.warning("could not release the leader lease; another replica takes over when it expires", metadata: ["error": "\(error)"])
        }
    }
}
