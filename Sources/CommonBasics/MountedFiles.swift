#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What tells that a mounted Secret or ConfigMap changed: Kubernetes swaps such a mount by re-pointing its
/// `..data` link, and a file's size, modification time and inode change when it is replaced. Read with the
/// C library: FoundationEssentials has no cheap stat or readlink. Shared by the settings folders, node mode's
/// credentials folder and the fleet's CLUSTERS_DIR, which all re-read a mount when its fingerprint changes.
public enum MountedFiles {
    /// Where a symbolic link points; nil when it is none.
    public static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Size, modification time and inode of a file, or "-" when it does not exist.
    public static func statSignature(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "-" }
        return "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ino)"
    }
}
