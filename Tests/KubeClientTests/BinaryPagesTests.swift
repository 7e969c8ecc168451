import Testing
@testable import CommonBasics

#if canImport(Glibc)
import Glibc
#endif

/// (CommonBasics has no test target of its own.) Dropping the binary's clean pages after a pass (issue 13): only read-only mappings of the executable
/// with no private copies qualify, and the process goes on running code from them.
@Suite("Binary pages")
struct BinaryPagesTests {
    // A trimmed /proc/self/smaps of a static-stdlib PIE: text, rodata, RELRO (written by the loader, so it
    // holds anonymous pages), data, a library and the heap.
    static let smaps = """
        55d0a0000000-55d0a0400000 r--p 00000000 fd:01 1234   /usr/local/bin/aws-ecr-cred-helper
        Size:               4096 kB
        Rss:                3000 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me dw sd
        55d0a0400000-55d0a1800000 r-xp 00400000 fd:01 1234   /usr/local/bin/aws-ecr-cred-helper
        Size:              20480 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me dw sd
        55d0a1800000-55d0a1900000 r--p 01800000 fd:01 1234   /usr/local/bin/aws-ecr-cred-helper
        Size:               1024 kB
        Anonymous:           900 kB
        VmFlags: rd mr mw me dw ac sd
        55d0a1900000-55d0a1910000 rw-p 01900000 fd:01 1234   /usr/local/bin/aws-ecr-cred-helper
        Anonymous:            64 kB
        7f0000000000-7f0000200000 r-xp 00000000 fd:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
        Anonymous:             0 kB
        55d0a2000000-55d0a2400000 rw-p 00000000 00:00 0      [heap]
        Anonymous:          4096 kB
        7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0
        Anonymous:           132 kB
        """

    @Test("only the executable's read-only mappings without private copies are chosen")
    func choosesCleanReadOnlyMappings() {
        let ranges = MemoryRelease.droppableRanges(smaps: Self.smaps, executable: "/usr/local/bin/aws-ecr-cred-helper")
        #expect(ranges == [
            .init(start: 0x55d0_a000_0000, end: 0x55d0_a040_0000),
            .init(start: 0x55d0_a040_0000, end: 0x55d0_a180_0000),
        ])
    }

    @Test("a mapping whose Anonymous line is missing or unreadable is kept")
    func unknownAnonymousKeepsTheMapping() {
        let text = """
            1000-2000 r-xp 00000000 fd:01 1 /bin/x
            Size: 4 kB
            3000-4000 r-xp 00000000 fd:01 1 /bin/x
            Anonymous: lots kB
            """
        #expect(MemoryRelease.droppableRanges(smaps: text, executable: "/bin/x").isEmpty)
    }

    @Test("another path, a deleted binary or empty text chooses nothing")
    func otherExecutablesChooseNothing() {
        #expect(MemoryRelease.droppableRanges(smaps: Self.smaps, executable: "/bin/other").isEmpty)
        #expect(MemoryRelease.droppableRanges(smaps: "", executable: "/bin/x").isEmpty)
        let deleted = "1000-2000 r-xp 00000000 fd:01 1 /bin/x (deleted)\nAnonymous: 0 kB\n"
        #expect(MemoryRelease.droppableRanges(smaps: deleted, executable: "/bin/x").isEmpty)
    }

    #if os(Linux)
    @Test("in this process: pages are dropped, RssFile falls, and the code keeps running")
    func dropsThisProcessesPages() throws {
        // Touch a lot of this (large) test binary first, so there is something resident to drop.
        _ = MemoryRelease.droppableRanges(smaps: Self.smaps, executable: "/usr/local/bin/aws-ecr-cred-helper")
        let before = try #require(Self.residentFileKB())
        let advised = MemoryRelease.releaseBinaryPages()
        let after = try #require(Self.residentFileKB())
        #expect(advised > 0)
        #expect(after < before, "RssFile \(before) kB -> \(after) kB")
        // Code and read-only data come back from the page cache.
        #expect(MemoryRelease.droppableRanges(smaps: Self.smaps, executable: "/usr/local/bin/aws-ecr-cred-helper").count == 2)
    }

    static func residentFileKB() -> Int? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let descriptor = open("/proc/self/status", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssFile:") }) else { return nil }
        return Int(line.dropFirst("RssFile:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
    }
    #endif
}
