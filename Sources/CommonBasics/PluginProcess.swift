#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a credential plugin to its end and collects what it printed, with posix_spawn (FoundationEssentials
/// has no `Process`). Blocking: call it off the cooperative pool (`NIOThreadPool`). Shared by the kubeconfig's
/// exec plugins (KubeClient) and the AWS shared config's `credential_process` (AWSClient).
public enum PluginProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public enum Failure: Error, Equatable {
        /// The executable does not exist or is not executable (errno from posix_spawn).
        case notFound(errno: Int32)
        case spawnFailed(errno: Int32)
        /// Killed after `timeout`.
        case timedOut
    }

    /// Adds "close every descriptor from `lowest` up" to `actions` (`posix_spawn_file_actions_addclosefrom_np`,
    /// glibc 2.34+, looked up at run time: the Glibc module does not import it). False where the C library
    /// lacks it; the descriptors are then inherited as before.
    public static func closeDescriptors(from lowest: Int32, in actions: inout posix_spawn_file_actions_t) -> Bool {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return false
        }
        return unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest) == 0
    }

    /// `command` is looked up in PATH unless it contains a '/' (as Go's exec.Command does). With
    /// `interactive`, standard input and standard error are the helper's own (a login prompt can reach the
    /// user); otherwise standard input is /dev/null and standard error is collected.
    public static func run(
        command: String, arguments: [String], environment: [String: String], interactive: Bool, timeout: Duration?
    ) throws(Failure) -> Result {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdoutPipe) == 0 else { throw .spawnFailed(errno: errno) }
        guard pipe(&stderrPipe) == 0 else {
            close(stdoutPipe[0]); close(stdoutPipe[1])
            throw .spawnFailed(errno: errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if !interactive { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        if !interactive { posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2) }
        for fd in [stdoutPipe[0], stdoutPipe[1], stderrPipe[0], stderrPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        // Only the three standard streams reach the plugin, as with Go's exec (the kubelet's and client-go's).
        // An inherited descriptor (another plugin's pipe, a file someone is writing) would keep that pipe from
        // ending, or that file from being executed ("text file busy"), for as long as this plugin runs.
        _ = Self.closeDescriptors(from: 3, in: &actions)

        let argv = ([command] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envBuffer in
                posix_spawnp(&pid, command, &actions, nil, UnsafeMutablePointer(mutating: argvBuffer.baseAddress!), UnsafeMutablePointer(mutating: envBuffer.baseAddress!))
            }
        }
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard spawned == 0 else {
            close(stdoutPipe[0]); close(stderrPipe[0])
            throw spawned == ENOENT || spawned == EACCES || spawned == ENOTDIR ? .notFound(errno: spawned) : .spawnFailed(errno: spawned)
        }

        var out: [UInt8] = []
        var err: [UInt8] = []
        var open = [stdoutPipe[0], stderrPipe[0]]
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var wait: Int32 = -1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { timedOut = true; break }
                wait = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == stdoutPipe[0] { out += buffer[0..<count] } else { err += buffer[0..<count] }
                    // A plugin that floods its output is broken; keep memory bounded.
                    if out.count > 4 << 20 || err.count > 1 << 20 { timedOut = true }
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
            if timedOut { break }
        }
        close(stdoutPipe[0])
        close(stderrPipe[0])
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}  // blocking: its callers run it on NIOThreadPool
        if timedOut { throw .timedOut }
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: exitCode, stdout: out, stderr: err)
    }
}
