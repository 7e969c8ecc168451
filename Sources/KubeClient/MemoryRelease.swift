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

    public static func trim() {
        #if canImport(Glibc)
        _ = mallocTrim?(0)
        #endif
    }
}
