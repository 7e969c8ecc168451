import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

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

/// A subprocess with its standard output and error captured in files (no pipe can fill up and stall it),
/// an explicit environment (nothing of the test run's environment leaks in), and a bounded wait.
/// Started with `posix_spawn` so the pid, signals and reaping stay in our hands; the process is killed
/// when this object goes away, so a failing test never leaves one behind.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let arguments: [String]
    public let stdoutPath: String
    public let stderrPath: String
    private let ended = Mutex<Termination?>(nil)

    public init(executable: String, arguments: [String], environment: [String: String], outputDirectory: String) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = outputDirectory + "/stdout-\(tag).txt"
        stderrPath = outputDirectory + "/stderr-\(tag).txt"
        self.arguments = arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
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
        guard result == 0 else {
            throw SpawnFailure(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+), looked up at run time: the Glibc module
    /// does not import it.
    private static func closeFrom(_ lowest: Int32, in actions: inout posix_spawn_file_actions_t) throws {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw SpawnFailure(description: "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later needed)")
        }
        let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
        let result = closeFrom(&actions, lowest)
        guard result == 0 else { throw SpawnFailure(description: "addclosefrom_np failed: \(String(cString: strerror(result)))") }
    }

    deinit {
        if poll() == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    /// The termination if the process has ended (reaps it), nil while it runs.
    @discardableResult
    public func poll() -> Termination? {
        ended.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            guard result == pid else { return nil }
            ended = Termination(waitStatus: status)
            return ended
        }
    }

    public var isRunning: Bool { poll() == nil }

    /// Waits for the process to end; after `timeout` it is killed and `TimedOut`-style failure thrown.
    public func wait(timeout: Duration) async throws -> Termination {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if let termination = poll() { return termination }
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                throw SpawnFailure(description: "aws-ecr-cred-helper \(arguments.first ?? "") did not exit within \(timeout); killed it. stderr:\n\(stderr.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    public func terminate() { signal(SIGTERM) }

    /// SIGKILL and reap.
    public func killNow() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        ended.withLock { ended in
            if ended == nil, waitpid(pid, &status, 0) == pid { ended = Termination(waitStatus: status) }
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
