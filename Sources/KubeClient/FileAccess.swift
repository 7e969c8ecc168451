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

    /// `path` resolved against `directory` unless absolute; `~/` uses `home`. The result is cleaned of
    /// `.` and `..` segments, as Go's filepath.Join cleans what client-go resolves.
    static func resolve(_ path: String, relativeTo directory: String, home: String?) -> String {
        if path.hasPrefix("/") { return clean(path) }
        if path.hasPrefix("~/"), let home { return clean(home + path.dropFirst(1)) }
        return clean(directory.hasSuffix("/") ? directory + path : directory + "/" + path)
    }

    /// `/a/./b/../c` -> `/a/c` (lexically, like Go's filepath.Clean).
    static func clean(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
