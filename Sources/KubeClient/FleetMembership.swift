#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Membership of one replica in a group of replicas that share work (fleet mode's clusters), through
/// Kubernetes alone: each replica holds a `coordination.k8s.io/v1` Lease of its own, labelled with the
/// group, and lists (and watches) the group's Leases. The live members are those whose Lease this replica
/// has seen renewed within its `leaseDurationSeconds`; work is then split by `Rendezvous` over them.
///
/// Timing, with `retryPeriod < renewDeadline < leaseDuration` (client-go's rule):
/// - every `retryPeriod` a replica renews its own Lease and lists the group;
/// - it counts itself a member only while its last successful renewal *and* its last successful list were
///   both sent less than `renewDeadline` ago; otherwise `members()` is `[]` and it must serve nothing;
/// - it counts another replica a member until `leaseDurationSeconds` after it last saw that replica's Lease
///   change, on its own clock (a renewal changes `renewTime`), or until the Lease is deleted or released.
///
/// Why no key is served by two replicas for longer than one lease duration. Say A serves key k and B
/// starts serving it.
/// - A stopped renewing (crash, partition, lost access). A's last renewal was written at real time w,
///   after A sent it; A stops serving at most `renewDeadline` after sending it, so before w + renewDeadline.
///   B saw that write no earlier than w and waits `leaseDuration` from when it saw it, so it starts after
///   w + leaseDuration. No overlap at all, whatever the clock skew: only durations on each replica's own
///   clock are compared (assuming clocks run at the same rate, within renewDeadline/leaseDuration).
/// - B judged A dead on a list a moment old, and A did renew meanwhile: B sees the renewal in its next list
///   (within `retryPeriod`) and gives k back, or cannot list and stops serving after `renewDeadline`.
/// - B joined (or A left gracefully, deleting its Lease, which only frees keys): B serves its share once it
///   has listed the group. A keeps k until its next list or watch event shows B, or stops serving everything
///   when it cannot list for `renewDeadline`. The overlap is at most `renewDeadline`.
/// So the overlap is bounded by `renewDeadline`, which is less than one lease duration. The caller adds its
/// own reaction time (stopping a controller), which must stay well under `leaseDuration - renewDeadline`.
public actor FleetMembership {
    /// The label that puts a Lease in a group (its value is the group name).
    public static let groupLabel = "aws-ecr-cred-helper/fleet-group"

    public nonisolated let namespace: String
    public nonisolated let group: String
    public nonisolated let identity: String
    /// The name of this replica's own Lease.
    public nonisolated let leaseName: String
    public nonisolated let leaseDuration: Duration
    public nonisolated let renewDeadline: Duration
    public nonisolated let retryPeriod: Duration
    /// Delete the own Lease when `run` is cancelled, so others take over at once (false: let it expire, as a
    /// crash would; for tests).
    public nonisolated let releaseOnCancel: Bool
    /// How long another replica's Lease may stay expired before this replica deletes it. Pods of a
    /// Deployment get new names, so every crash leaves a Lease behind; without this the group's list would
    /// only grow.
    public nonisolated let staleLeaseRetention: Duration
    let client: KubernetesClient
    let logger: Logger

    /// The group's Leases by name, as last listed.
    private var observed: [String: LeaseObservation] = [:]
    /// When the last successful renewal and list of this replica were sent.
    private var lastRenewal: ContinuousClock.Instant?
    private var lastList: ContinuousClock.Instant?
    private var lastRenewAttempt: ContinuousClock.Instant?
    /// The own Lease as last written, so a renewal is one PUT (no GET) while nobody else touches it.
    private var ownLease: Lease?
    private var acquireTime: String?
    private var running = false
    private var published: [String] = []
    private var watchers: [Int: AsyncStream<[String]>.Continuation] = [:]
    private var nextWatcherID = 0
    private var waiter: CheckedContinuation<Void, Never>?
    /// The last problem reported at warning level, per request kind: a streak of the same failure is told once.
    private var problems: [String: String] = [:]
    private var nudged = false

    /// Its code, requests and timers run on the `LeaseThread`: renewals and the member list keep their
    /// deadlines however busy the cooperative pool is.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { LeaseThread.shared.asUnownedSerialExecutor() }

    public init(
        client: KubernetesClient, namespace: String, group: String, identity: String,
        leaseDuration: Duration, renewDeadline: Duration, retryPeriod: Duration, logger: Logger,
        releaseOnCancel: Bool = true, staleLeaseRetention: Duration? = nil
    ) {
        self.client = client
        self.namespace = namespace
        self.group = group
        self.identity = identity
        self.leaseName = Self.leaseName(group: group, identity: identity)
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
        self.staleLeaseRetention = staleLeaseRetention ?? leaseDuration * 10
        var logger = logger
        logger[metadataKey: "fleetGroup"] = "\(namespace)/\(group)"
        logger[metadataKey: "identity"] = "\(identity)"
        self.logger = logger
    }

    /// `<group>-<identity>`, made a valid object name (lower case, `[a-z0-9.-]`, at most 253 characters).
    /// Members are told apart by `holderIdentity`, not by this name.
    public static func leaseName(group: String, identity: String) -> String {
        let raw = "\(group)-\(identity)".lowercased()
        var name = String(raw.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." ? $0 : "-" }.prefix(253))
        while let last = name.last, !(last.isLetter || last.isNumber) { name.removeLast() }
        while let first = name.first, !(first.isLetter || first.isNumber) { name.removeFirst() }
        return name.isEmpty ? "fleet-member" : name
    }

    /// Checks client-go's ordering of the durations; the message names the fix.
    public static func validate(leaseDuration: Duration, renewDeadline: Duration, retryPeriod: Duration) throws {
        guard retryPeriod > .zero, retryPeriod * 1.2 < renewDeadline, renewDeadline < leaseDuration else {
            throw KubeUsageError(
                "fleet membership timing: need retryPeriod × 1.2 < renewDeadline < leaseDuration (got \(retryPeriod), \(renewDeadline), \(leaseDuration)); shorten the retry period or lengthen the lease duration")
        }
    }

    /// The group becomes a label value and the identity the Lease's holder: both must be usable.
    public static func validate(group: String, identity: String) throws {
        guard !identity.isEmpty else {
            throw KubeUsageError("fleet membership: the replica's identity is empty; set POD_NAME from the downward API (metadata.name)")
        }
        let allowed = group.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e }
        let ends = group.first.map { $0.isLetter || $0.isNumber } == true && group.last.map { $0.isLetter || $0.isNumber } == true
        guard group.utf8.count <= 63, allowed, ends else {
            throw KubeUsageError(
                "fleet membership: group \"\(group)\" is not a label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
        }
    }

    // MARK: - Running

    /// Holds this replica's own Lease (labelled with the group) and lists/watches the group's Leases until
    /// the calling task is cancelled. On the way out it reports `[]`, then deletes its own Lease (unless
    /// `releaseOnCancel` is false) so the others take its share over at once instead of after it expires.
    /// Throws only for durations in the wrong order.
    public nonisolated func run() async throws {
        try await LeaseThread.shared.run { try await self.hold() }
    }

    private func hold() async throws {
        try Self.validate(leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod)
        try Self.validate(group: group, identity: identity)
        guard !running else { throw KubeUsageError("fleet membership \(leaseName) is already running") }
        running = true
        let watcher = startWatching()
        defer {
            watcher.cancel()
            running = false
        }
        logger.info("joining the fleet group", metadata: ["lease": "\(namespace)/\(leaseName)"])
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if lastRenewAttempt.map({ $0.advanced(by: retryPeriod) <= now }) ?? true {
                lastRenewAttempt = now
                await renewOnce()
            }
            if Task.isCancelled { break }
            await listOnce()
            refresh()
            await collectStaleLeases()
            await sleep(until: nextWake())
        }
        await leave()
    }

    /// Live members, sorted; this replica among them only while it holds its own Lease and has listed the
    /// group within `renewDeadline`, else `[]`.
    public func members() -> [String] {
        refresh()
        return published
    }

    /// The current member list at once, then each change (including to `[]` when this replica loses its own
    /// Lease or leaves).
    public func changes() -> AsyncStream<[String]> {
        let (stream, continuation) = AsyncStream<[String]>.makeStream()
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = continuation
        refresh()
        continuation.yield(published)
        continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
        return stream
    }

    private func removeWatcher(_ id: Int) { watchers[id] = nil }

    // MARK: - Deciding

    /// The instant until which this replica may count itself a member: both its renewal and its view of the
    /// group must be younger than `renewDeadline`.
    private var heldUntil: ContinuousClock.Instant? {
        guard running, let lastRenewal, let lastList else { return nil }
        return min(lastRenewal, lastList).advanced(by: renewDeadline)
    }

    private func computeMembers(at now: ContinuousClock.Instant) -> [String] {
        guard let heldUntil, now < heldUntil else { return [] }
        var live: Set<String> = [identity]
        for (name, observation) in observed where name != leaseName {
            let holder = observation.holder
            if !holder.isEmpty, !observation.isExpired(at: now) { live.insert(holder) }
        }
        return live.sorted()
    }

    private func refresh() {
        let now = ContinuousClock.now
        let members = computeMembers(at: now)
        guard members != published else { return }
        let before = published
        published = members
        if members.isEmpty {
            if !before.isEmpty, running {
                logger.warning("could not renew the fleet membership lease or list the group within the renew deadline; serving nothing until it can")
            }
        } else {
            logger.info("fleet members changed", metadata: ["members": "\(members.joined(separator: ","))"])
        }
        for continuation in watchers.values { continuation.yield(members) }
    }

    /// The next instant the member list can change without an event: the next renewal, the end of this
    /// replica's own hold, or the expiry of another member's Lease.
    private func nextWake() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        var wake = (lastRenewAttempt ?? now).advanced(by: retryPeriod)
        if let heldUntil, heldUntil > now { wake = min(wake, heldUntil) }
        for (name, observation) in observed where name != leaseName && !observation.holder.isEmpty {
            let expiry = observation.expiry
            if expiry > now { wake = min(wake, expiry) }
        }
        return wake
    }

    /// How long a request may take: while serving, no longer than what is left of this replica's hold (so a
    /// hung request cannot keep it serving past the deadline); while not serving, `renewDeadline`.
    private var requestTimeout: Duration {
        let now = ContinuousClock.now
        guard let heldUntil, heldUntil > now else { return renewDeadline }
        return max(now.duration(to: heldUntil), .milliseconds(1))
    }

    // MARK: - Requests

    private func renewOnce() async {
        let sent = ContinuousClock.now
        let timeout = requestTimeout
        let ok = await LeaseTiming.withTimeout(timeout) { await self.writeOwnLease() }
        if ok == true {
            lastRenewal = sent
            solved("renew")
        } else {
            ownLease = nil
            if ok == nil { problem("renew", "renewing the fleet membership lease \(namespace)/\(leaseName) timed out after \(timeout)") }
        }
    }

    private func writeOwnLease() async -> Bool {
        let stamp = LeaseTiming.stamp()
        if acquireTime == nil || published.isEmpty { acquireTime = stamp }
        let spec = Lease.Spec(
            holderIdentity: identity, leaseDurationSeconds: LeaseTiming.durationSeconds(leaseDuration),
            acquireTime: acquireTime, renewTime: stamp, leaseTransitions: 0)
        if var cached = ownLease {
            cached.spec = spec
            do {
                ownLease = try await client.replace(cached)
                return true
            } catch {
                // Someone else changed or deleted it: read it again below.
                logger.debug("could not renew the fleet membership lease from the cached copy", metadata: ["error": "\(error)"])
                ownLease = nil
            }
        }
        do {
            var current = try await client.get(Lease.self, namespace: namespace, name: leaseName)
            current.metadata.labels = (current.metadata.labels ?? [:]).merging([Self.groupLabel: group]) { $1 }
            current.spec = spec
            ownLease = try await client.replace(current)
            return true
        } catch let error as KubeAPIError where error.isNotFound {
            guard !Task.isCancelled else { return false }
            let fresh = Lease(
                metadata: ObjectMeta(name: leaseName, namespace: namespace, labels: [Self.groupLabel: group]), spec: spec)
            do {
                ownLease = try await client.create(fresh)
                return true
            } catch {
                problem("renew", "could not create the fleet membership lease \(namespace)/\(leaseName): \(error)\(Self.advice(error))")
                return false
            }
        } catch {
            problem("renew", "could not renew the fleet membership lease \(namespace)/\(leaseName): \(error)\(Self.advice(error))")
            return false
        }
    }

    private func listOnce() async {
        let sent = ContinuousClock.now
        let client = self.client, namespace = self.namespace, selector = "\(Self.groupLabel)=\(group)"
        let listed: Result<[Lease], any Error>? = await LeaseTiming.withTimeout(requestTimeout) {
            do {
                return .success(try await client.list(Lease.self, namespace: namespace, labelSelector: selector).items)
            } catch {
                return .failure(error)
            }
        }
        switch listed {
        case .success(let leases):
            absorb(leases, at: .now)
            lastList = sent
            solved("list")
        case .failure(let error):
            problem("list", "could not list the fleet group's leases in \(namespace): \(error)\(Self.advice(error))")
        case nil:
            problem("list", "listing the fleet group's leases in \(namespace) timed out")
        }
    }

    /// A failure, at warning level the first time in a streak (the loop retries every `retryPeriod`).
    private func problem(_ kind: String, _ line: String) {
        if problems[kind] == line {
            logger.debug("\(line)")
        } else {
            problems[kind] = line
            logger.warning("\(line)")
        }
    }

    private func solved(_ kind: String) {
        guard problems.removeValue(forKey: kind) != nil else { return }
        logger.info("fleet membership: \(kind == "list" ? "listing the group" : "renewing the lease") works again")
    }

    /// The fix for a refusal, which is the user's to make.
    private static func advice(_ error: any Error) -> String {
        guard let error = error as? KubeAPIError, error.isForbidden else { return "" }
        return "; the Helm chart grants the fleet membership rules with fleet.enabled (docs/fleet-scale-out.md lists them)"
    }

    /// Replaces the view with a fresh list. A Lease's clock restarts when its spec changed, at the time the
    /// answer arrived: the latest moment the change can have happened, so expiry is never judged early.
    private func absorb(_ leases: [Lease], at received: ContinuousClock.Instant) {
        var next: [String: LeaseObservation] = [:]
        for lease in leases {
            guard let name = lease.metadata.name else { continue }
            if var known = observed[name] {
                known.observe(lease.spec, at: received)
                next[name] = known
            } else {
                next[name] = LeaseObservation(spec: lease.spec, at: received)
            }
        }
        observed = next
    }

    /// Deletes other replicas' Leases that have been expired for `staleLeaseRetention`, only while this replica
    /// is a member (its view is fresh). Should the holder renew in the instant between this replica's list
    /// and the delete, its next renewal recreates the Lease: the others miss it for at most one
    /// `retryPeriod`, less than `renewDeadline`, so the overlap bound holds.
    private func collectStaleLeases() async {
        let now = ContinuousClock.now
        guard !published.isEmpty else { return }
        let stale = observed.filter { name, observation in
            name != leaseName && now >= observation.expiry.advanced(by: staleLeaseRetention)
        }.keys.sorted()
        for name in stale {
            let client = self.client, namespace = self.namespace
            let deleted = await Self.deleteLease(client, namespace: namespace, name: name, timeout: requestTimeout) { _ in }
            if deleted == true {
                observed[name] = nil
                logger.info("deleted the membership lease of a replica gone for long", metadata: ["lease": "\(name)"])
            } else {
                logger.debug("could not delete a stale membership lease", metadata: ["lease": "\(name)"])
            }
        }
    }

    /// On the way out: report `[]` first (the caller stops serving), then free the Lease.
    private func leave() async {
        lastRenewal = nil
        running = false
        refresh()
        let lease = ownLease
        ownLease = nil
        guard releaseOnCancel else { return }
        // A task of its own: the caller is cancelled, and its requests would be too.
        let client = self.client, namespace = self.namespace, name = leaseName, logger = self.logger, timeout = renewDeadline
        await Task(executorPreference: LeaseThread.shared) {
            let deleted = await Self.deleteLease(client, namespace: namespace, name: name, timeout: timeout) { error in
                logger.warning("could not delete the fleet membership lease; the others take over when it expires", metadata: ["error": "\(error)"])
            }
            if deleted == true, lease != nil { logger.info("left the fleet group (deleted the membership lease)") }
        }.value
    }

    /// Deletes a Lease; true when it is gone (already gone counts), false when refused, nil on timeout.
    private static func deleteLease(
        _ client: KubernetesClient, namespace: String, name: String, timeout: Duration, onError: @escaping @Sendable (any Error) -> Void
    ) async -> Bool? {
        await LeaseTiming.withTimeout(timeout) {
            do {
                try await client.delete(Lease.self, namespace: namespace, name: name)
                return true
            } catch let error as KubeAPIError where error.isNotFound {
                return true
            } catch {
                onError(error)
                return false
            }
        }
    }

    // MARK: - Waking

    /// Watches the group's Leases only to wake the loop early when a member joins, leaves or releases; the
    /// periodic list stays the source of truth (and the proof that this replica's view is fresh).
    private func startWatching() -> Task<Void, Never> {
        let watcher = Watcher<Lease>(
            client: client, namespace: namespace, labelSelector: "\(Self.groupLabel)=\(group)", logger: logger)
        return Task {
            for await event in watcher.events() {
                switch event {
                case .applied(let lease): self.consider(lease)
                case .deleted, .restarted, .initDone: self.wake()
                case .initStarted, .initPage: break
                }
            }
        }
    }

    /// A renewal (only `renewTime` moved) does not change membership; anything else might.
    private func consider(_ lease: Lease) {
        guard let name = lease.metadata.name, let known = observed[name] else { return wake() }
        if known.holder != (lease.spec?.holderIdentity ?? "") || known.spec?.leaseDurationSeconds != lease.spec?.leaseDurationSeconds {
            wake()
        }
    }

    private func wake() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            nudged = true
        }
    }

    private func timerFired() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }

    /// Sleeps until `deadline`, a watch event, or cancellation.
    private func sleep(until deadline: ContinuousClock.Instant) async {
        if nudged || Task.isCancelled {
            nudged = false
            return
        }
        let timer = Task(executorPreference: LeaseThread.shared) {
            try? await LeaseThread.shared.sleep(until: deadline)
            await self.timerFired()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in waiter = continuation }
        } onCancel: {
            Task { await self.timerFired() }
        }
        timer.cancel()
        nudged = false
    }
}
