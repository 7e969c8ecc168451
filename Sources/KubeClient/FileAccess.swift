#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Small file helpers with errors that name the file and what it was for.
enum FileAccess {
    static func exists(_ path: String) -> Bool {
        var isDirectory = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory
    }

    /// Reads a whole file; `purpose` completes "cannot read <purpose> <path>".
    static func read(_ path: String, purpose: String) throws(KubeConfigurationError) -> [UInt8] {
        guard exists(path) else {
            throw KubeConfigurationError("\(purpose) \(path) does not exist")
        }
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw KubeConfigurationError("cannot read \(purpose) \(path) (check its permissions)")
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` resolved against `directory` unless absolute; `~/` uses `home`.
    static func resolve(_ path: String, relativeTo directory: String, home: String?) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home { return home + path.dropFirst(1) }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}
