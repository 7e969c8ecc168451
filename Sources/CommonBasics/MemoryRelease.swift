#if canImport(Glibc)
import Glibc
#endif

/// glibc's malloc keeps freed memory in its arenas; after a big list (thousands of objects decoded and
/// dropped) the resident size would stay at its peak for the life of the process. `malloc_trim` returns
/// the free pages to the system. Looked up at run time (the Glibc module does not import malloc.h); a
/// no-op where it does not exist.
public enum MemoryRelease {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let mallocTrim: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map {
        unsafeBitCast($0, to: Trim.self)
    }
    #endif

    #if canImport(Glibc)
    private typealias SetOption = @convention(c) (Int32, Int32) -> Int32
    private static let mallopt: SetOption? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt").map {
        unsafeBitCast($0, to: SetOption.self)
    }
    /// M_ARENA_MAX in malloc.h.
    private static let arenaMaximum: Int32 = -8
    #endif

    /// At most `count` malloc arenas. glibc gives threads up to 8 per core each, and every arena keeps its
    /// own free pages: a big list decoded on one thread and a fan-out on others leave several part-used
    /// heaps behind (measured at restart among 5,000 secrets: idle RssAnon 14.4 -> 11.4 MiB, peak 44.4 ->
    /// 41.5 MiB with two). The process has a few busy threads, not hundreds, so two arenas cost no
    /// measurable contention. MALLOC_ARENA_MAX in the environment, when set, wins.
    public static func limitArenas(to count: Int32) {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt?(arenaMaximum, count)
        #endif
    }

    public static func trim() {
        #if canImport(Glibc)
        _ = mallocTrim?(0)
        #endif
    }
}
