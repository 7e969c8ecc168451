import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import CommonBasics

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// Decodes a `waitpid` status (the WIFEXITED/WEXITSTATUS macros do not import into Swift).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7F
        self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    public var description: String {
        switch self {
        case let .exited(code): "exit \(code)"
        case let .signaled(signal): "signal \(signal)"
        }
    }
}

public struct SpawnFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Where a child's standard input comes from.
public enum ChildInput: Sendable {
    /// `/dev/null`.
    case null
    /// A file, read from its start.
    case file(String)
    /// A pipe that the test holds open: the child reads end-of-file when `closeInput()` is called or this test
    /// process dies, so a helper script that exits on end-of-file never outlives the test.
    case pipe
}

/// A subprocess with its standard output and error captured in files (no pipe can fill up and stall it),
/// an explicit environment (nothing of the test run's environment leaks in), and a bounded wait.
/// Started with `posix_spawn` so the pid, signals and reaping stay in our hands; the process is killed
/// when this object goes away, so a failing test never leaves one behind.
///
/// The exit is an event, not something polled for: a thread of its own per child sits in a blocking
/// `waitpid` and resumes whoever awaits the exit. Nothing here ever blocks a thread of Swift concurrency's
/// cooperative pool (as many threads as cores, two on CI): a test that waited for a child on the pool stalled
/// every other test for as long as the child ran.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let arguments: [String]
    public let stdoutPath: String
    public let stderrPath: String
    private let exit = ExitSignal()
    /// The write end of the standard input pipe (`.pipe`), until `closeInput()`.
    private let inputWriter = Mutex<Int32?>(nil)

    /// `stdinPath`: a file to read standard input from (default `/dev/null`).
    public convenience init(executable: String, arguments: [String], environment: [String: String], outputDirectory: String, stdinPath: String) throws {
        try self.init(executable: executable, arguments: arguments, environment: environment, outputDirectory: outputDirectory, input: .file(stdinPath))
    }

    public init(executable: String, arguments: [String], environment: [String: String], outputDirectory: String, input: ChildInput = .null) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = outputDirectory + "/stdout-\(tag).txt"
        stderrPath = outputDirectory + "/stderr-\(tag).txt"
        self.arguments = arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inputPipe: [Int32] = [-1, -1]
        switch input {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case let .file(path): posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .pipe:
            // Close-on-exec on both ends: the child gets the read end as fd 0 only, and no other child
            // inherits the write end (which would keep the pipe open after closeInput()).
            guard pipe(&inputPipe) == 0 else {
                throw SpawnFailure(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
            }
            for fd in inputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of the test process: an inherited listening socket of an in-process test server
        // would keep its port accepting after the server stops, and other tests rely on it refusing.
        try Self.closeFrom(3, in: &actions)

        // The test process may ignore or block signals (NIO ignores SIGPIPE); the child starts clean.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        if inputPipe[0] >= 0 { close(inputPipe[0]) }
        guard result == 0 else {
            if inputPipe[1] >= 0 { close(inputPipe[1]) }
            throw SpawnFailure(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        if inputPipe[1] >= 0 { inputWriter.withLock { $0 = inputPipe[1] } }
        Self.reap(child, into: exit)
    }

    /// The reaper: a plain thread (not one of the cooperative pool's) blocked in `waitpid` until the child
    /// ends, which then publishes the termination to every waiter.
    private static func reap(_ pid: pid_t, into exit: ExitSignal) {
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {  // blocking: the reaper thread of its own
                guard errno == EINTR else {
                    exit.finish(.exited(-1))
                    return
                }
            }
            exit.finish(Termination(waitStatus: status))
        }
    }

    private static func closeFrom(_ lowest: Int32, in actions: inout posix_spawn_file_actions_t) throws {
        guard PluginProcess.closeDescriptors(from: lowest, in: &actions) else {
            throw SpawnFailure(description: "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later needed)")
        }
    }

    deinit {
        closeInput()
        // The reaper thread collects it; nothing waits here.
        if poll() == nil { kill(pid, SIGKILL) }
    }

    /// The termination if the process has ended, nil while it runs. Never waits.
    @discardableResult
    public func poll() -> Termination? { exit.value }

    public var isRunning: Bool { poll() == nil }

    /// Suspends (without holding a thread) until the process ends; nil if the waiting task is cancelled first.
    public func exited() async -> Termination? { await exit.wait() }

    /// Waits for the process to end; after `timeout` it is killed and a `SpawnFailure` thrown.
    public func wait(timeout: Duration) async throws -> Termination {
        if let termination = await exited(within: timeout) { return termination }
        kill(pid, SIGKILL)
        throw SpawnFailure(description: "\(arguments.first ?? "the process") did not exit within \(timeout); killed it. stderr:\n\(stderr.suffix(4000))")
    }

    /// The termination, or nil if the process is still running after `timeout`.
    public func exited(within timeout: Duration) async -> Termination? {
        await withTaskGroup(of: Termination?.self) { group in
            group.addTask { await self.exited() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    public func terminate() { signal(SIGTERM) }

    /// SIGKILL; the reaper collects it. Never waits.
    public func killNow() { signal(SIGKILL) }

    /// SIGTERM, then waits (suspended) at most `grace` before SIGKILL.
    public func stop(grace: Duration = .seconds(10)) async {
        closeInput()
        terminate()
        if await exited(within: grace) == nil {
            killNow()
            _ = await exited()
        }
    }

    /// Closes the write end of a `.pipe` standard input: the child reads end-of-file.
    public func closeInput() {
        inputWriter.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    public var stdout: String { Self.read(stdoutPath) }
    public var stderr: String { Self.read(stderrPath) }
    /// Both streams, for "this never appears anywhere" assertions.
    public var output: String { stdout + "\n" + stderr }

    private static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a command to its end (killed after `timeout`), its output collected in `outputDirectory`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], outputDirectory: String,
        input: ChildInput = .null, timeout: Duration = .seconds(120)
    ) async throws -> CommandResult {
        let process = try ChildProcess(executable: executable, arguments: arguments, environment: environment, outputDirectory: outputDirectory, input: input)
        let termination = try await process.wait(timeout: timeout)
        return CommandResult(termination: termination, stdout: process.stdout, stderr: process.stderr)
    }
}

/// A child's termination, set once by its reaper thread and awaited by any number of tasks.
final class ExitSignal: Sendable {
    private struct State {
        var termination: Termination?
        var waiters: [UInt64: CheckedContinuation<Termination?, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    var value: Termination? { state.withLock { $0.termination } }

    func finish(_ termination: Termination) {
        let waiters = state.withLock { state in
            state.termination = termination
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: termination) }
    }

    /// The termination; nil only when the waiting task is cancelled while the child still runs.
    func wait() async -> Termination? {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Termination?, Never>) in
                let immediate: Termination?? = state.withLock { state in
                    if let termination = state.termination { return .some(termination) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}

/// The outcome of a command that ran to its end.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var termination: Termination
    public var stdout: String
    public var stderr: String

    public init(termination: Termination, stdout: String, stderr: String) {
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
    }

    public var exitCode: Int32? {
        if case let .exited(code) = termination { return code }
        return nil
    }

    public var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    public var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    public var output: String { stdout + "\n" + stderr }

    public var description: String { "\(termination)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}
