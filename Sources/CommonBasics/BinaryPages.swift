#if canImport(Glibc)
import Glibc
#endif

/// The binary's own pages. The kernel maps file pages 64 KB around every fault ("fault-around"), so
/// start-up and the first pass, which run code scattered over the whole binary (the Swift runtime's
/// conformance scans, TLS set-up, list decoding), leave most of the binary resident: about 23 of the 27
/// MiB an idle helper showed (docs/benchmarks.md, issue 13). After a pass the helper hands those pages back.
/// Only mappings of the executable that are read-only and hold no private copy (no `Anonymous` pages) are
/// dropped: their content is the file's, still in the page cache, and what runs next is mapped back from
/// it with a minor fault. The relocated read-only data (RELRO), written once by the loader, holds private
/// copies and is never touched.
extension MemoryRelease {
    /// An address range of the executable's mapping that may be dropped.
    public struct PageRange: Equatable, Sendable {
        public let start: UInt
        public let end: UInt
        public init(start: UInt, end: UInt) {
            self.start = start
            self.end = end
        }
    }

    /// The ranges of `/proc/self/smaps` text that belong to `executable`, are not writable and hold no
    /// anonymous (copied-on-write) pages. Pure, so the choice is tested on its own.
    public static func droppableRanges(smaps: String, executable: String) -> [PageRange] {
        var ranges: [PageRange] = []
        var candidate: PageRange?
        func close(anonymousKB: Int?) {
            if let range = candidate, anonymousKB == 0 { ranges.append(range) }
            candidate = nil
        }
        var anonymous: Int?
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("Anonymous:") {
                anonymous = Int(line.dropFirst("Anonymous:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
                continue
            }
            // A header: "start-end perms offset dev inode path". Field lines start with a capitalised name
            // and a colon, headers with a hex address and a dash.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5, let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt(fields[0][..<dash], radix: 16),
                  let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16)
            else { continue }
            close(anonymousKB: anonymous)
            anonymous = nil
            let permissions = fields[1]
            let path = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
            if path == executable, permissions.hasPrefix("r"), !permissions.contains("w"), end > start {
                candidate = PageRange(start: start, end: end)
            }
        }
        close(anonymousKB: anonymous)
        return ranges
    }

    /// Drops the executable's clean read-only pages from this process's mapping and returns how many bytes
    /// of address space were advised (0 where this is not Linux or nothing qualifies). Safe at any time: a
    /// page touched again is read back from the page cache.
    @discardableResult
    public static func releaseBinaryPages() -> UInt {
        #if os(Linux)
        guard let executable = MountedFiles.linkTarget("/proc/self/exe"),
              let smaps = readProcFile("/proc/self/smaps")
        else { return 0 }
        var advised: UInt = 0
        for range in droppableRanges(smaps: smaps, executable: executable) {
            guard let address = UnsafeMutableRawPointer(bitPattern: range.start) else { continue }
            if madvise(address, Int(range.end - range.start), Int32(MADV_DONTNEED)) == 0 {
                advised += range.end - range.start
            }
        }
        return advised
        #else
        return 0
        #endif
    }

    #if os(Linux)
    /// A /proc file read to its end: they report size 0, so it is read in chunks until EOF.
    private static func readProcFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
