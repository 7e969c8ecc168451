import NIOCore
import NIOPosix

/// One thread of its own for the lease holders (`LeaderElector`, `FleetMembership`): their code, their
/// requests' continuations and their timers run here, never on Swift concurrency's cooperative pool.
///
/// Why: the pool has as many threads as cores (two on a small node), and `Task.sleep` wakes a task through
/// that pool too. While the controller's own work fills it (a fan-out to thousands of namespaces, decoding a
/// large list) or anything blocks one of its threads, a renewal queued behind it misses its renew deadline
/// and the leader steps down for nothing, or a standby takes a lease over from a live leader. Measured before
/// this (issue 26): with every pool thread busy, a 100 ms `Task.sleep` under a task executor preference
/// still woke up to 0.7 s late, so the timers must be this thread's own too (NIO's scheduled tasks).
///
/// The thread is an event loop with nothing registered on it: it only runs jobs and timers. Its work is
/// small (a few requests per second per lease), so one thread serves every lease holder of the process.
public final class LeaseThread: TaskExecutor, SerialExecutor {
    public static let shared = LeaseThread()

    private let loop: any EventLoop

    private init() {
        // Never shut down: it lives as long as the process, like NIO's singletons.
        loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: LeaseThread) -> Bool { other === self }

    /// Runs `operation` with this thread as the task's executor: nonisolated async code it calls (the
    /// Kubernetes client's requests) runs here too, and so do child tasks.
    public func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async rethrows -> T {
        try await withTaskExecutorPreference(self, operation: operation)
    }

    /// Sleeps on this thread's own timer; throws `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let nanoseconds = duration.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let amount = TimeAmount.nanoseconds(
            nanoseconds.overflow ? Int64.max : nanoseconds.partialValue.addingReportingOverflow(duration.components.attoseconds / 1_000_000_000).partialValue)
        let scheduled = loop.scheduleTask(in: max(amount, .zero)) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }

    /// Sleeps until `deadline` on this thread's own timer.
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await sleep(for: ContinuousClock.now.duration(to: deadline))
    }
}
