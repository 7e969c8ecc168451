#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// The time rules leader election and fleet membership share, as client-go's `leaderelection` has them.
enum LeaseTiming {
    /// `leaseDurationSeconds` for a duration: whole seconds, rounded up (a shorter lease than asked for
    /// would let others take over early), at least 1.
    static func durationSeconds(_ duration: Duration) -> Int32 {
        Int32(clamping: max(1, Int64(duration.seconds.rounded(.up))))
    }

    /// The `renewTime`/`acquireTime` stamp for now. Informational only: nobody decides on a remote stamp,
    /// clocks of replicas may disagree.
    static func stamp() -> String { KubeTime.microTime(Date()) }

    /// Runs `operation` in a task of its own and gives up waiting after `timeout` (the task is then
    /// cancelled). nil when it timed out. Used so that one hung request never holds a lease holder past its
    /// renew deadline. The request and the timer both run on the `LeaseThread`, so a busy cooperative pool
    /// delays neither.
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        let thread = LeaseThread.shared
        let task = Task(executorPreference: thread) { await operation() }
        let finished = await withTaskGroup(of: T?.self) { group in
            group.addTask(executorPreference: thread) { await task.value }
            group.addTask(executorPreference: thread) {
                try? await thread.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if finished == nil { task.cancel() }
        return finished
    }
}

/// What an observer knows of one Lease: its spec and when, on the observer's own clock, that spec was first
/// seen. A holder is live while the spec keeps changing (each renewal changes `renewTime`): the Lease
/// expires `leaseDurationSeconds` after the observer last saw it change. The remote `renewTime` is never
/// compared with the local clock, so clock skew between replicas does not matter, only clock rates.
struct LeaseObservation: Sendable, Equatable {
    private(set) var spec: Lease.Spec?
    private(set) var observedAt: ContinuousClock.Instant

    init(spec: Lease.Spec?, at instant: ContinuousClock.Instant) {
        self.spec = spec
        observedAt = instant
    }

    /// Records `spec` seen at `instant`; the clock restarts only when it differs from the last one seen.
    mutating func observe(_ spec: Lease.Spec?, at instant: ContinuousClock.Instant) {
        guard spec != self.spec else { return }
        self.spec = spec
        observedAt = instant
    }

    var holder: String { spec?.holderIdentity ?? "" }

    /// When this observer may consider the lease expired.
    var expiry: ContinuousClock.Instant {
        observedAt.advanced(by: .seconds(Int(spec?.leaseDurationSeconds ?? 0)))
    }

    func isExpired(at now: ContinuousClock.Instant) -> Bool { now >= expiry }
}
