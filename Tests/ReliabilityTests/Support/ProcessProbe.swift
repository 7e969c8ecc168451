import Foundation

/// Resource use of this process, from /proc (Linux).
enum ProcessProbe {
    /// Resident set size in KiB (`VmRSS` of /proc/self/status), or nil where /proc is missing.
    static func residentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Open file descriptors.
    static func openFileDescriptors() -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map(\.count)
    }

    /// TCP connections of this process to `port` on loopback: leaks of one client show here even while
    /// other tests of the same process open and close their own descriptors.
    static func connections(toPort port: Int) -> Int? {
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        var inodes = Set<String>()
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                  target.hasPrefix("socket:[")
            else { continue }
            inodes.insert(String(target.dropFirst(8).dropLast()))
        }
        let hexPort = String(format: "%04X", port)
        var count = 0
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // /proc files report size 0; read to the end rather than by size (String(contentsOfFile:) stops early).
            guard let handle = FileHandle(forReadingAtPath: table), let data = try? handle.readToEnd() else { continue }
            try? handle.close()
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9 else { continue }
                let remote = fields[2].split(separator: ":").last.map(String.init)
                if remote == hexPort && inodes.contains(String(fields[9])) { count += 1 }
            }
        }
        return count
    }
}
