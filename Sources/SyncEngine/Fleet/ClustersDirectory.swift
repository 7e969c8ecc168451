#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KubeClient

/// CLUSTERS_DIR: a folder of kubeconfig files, one cluster each, named by the file (`edge-1`,
/// `edge-1.yaml`, `edge-1.kubeconfig` all name the cluster `edge-1`). Mounted from a Secret, Kubernetes
/// swaps the files by re-pointing `..data`; the fleet compares `fingerprint()` every second, as it does
/// for the config folders, and re-reads the folder when it changes. Hidden entries (`..data`,
/// `..2026_…`) are Kubernetes' own and skipped.
public struct ClustersDirectory: Sendable {
    public let path: String
    /// Larger files are refused: a kubeconfig with embedded certificates is a few KB.
    static let maximumFileSize = 1024 * 1024
    static let extensions = [".yaml", ".yml", ".kubeconfig", ".conf", ".config"]

    public init(path: String) { self.path = path }

    /// The folder's clusters, each with its connection or the one-line reason it has none. A missing
    /// folder is a problem of its own (thrown); an unreadable file is one cluster's problem.
    public func read() throws(ClusterSourceError) -> [ClusterTarget] {
        guard let names = Self.entries(path) else {
            throw ClusterSourceError("CLUSTERS_DIR \(path) is not a readable folder: mount the Secret of kubeconfigs there, or unset CLUSTERS_DIR")
        }
        var targets: [ClusterTarget] = []
        for file in names.sorted() {
            let full = path.hasSuffix("/") ? path + file : path + "/" + file
            guard Self.isRegularFile(full) else { continue }
            let name = Self.clusterName(file)
            let origin = "file \(full)"
            switch Self.read(full) {
            case .success(let bytes):
                let connection = ClusterSecretFormat.kubeconfig(bytes, origin: full)
                targets.append(ClusterSecretFormat.make(name: name, origin: origin, connection: connection, digest: ContentDigest.of([bytes]), override: NamespaceOverride()))
            case .failure(let error):
                targets.append(ClusterTarget(name: name, origin: origin, connection: .failure(error), digest: "unreadable"))
            }
        }
        return targets
    }

    /// Changes whenever a re-read could give other clusters (the `..data` link, names, sizes, times).
    public func fingerprint() -> String {
        var parts = [MountedFiles.linkTarget(path + "/..data") ?? "-"]
        for name in (Self.entries(path) ?? []).sorted() {
            parts.append(name + "=" + MountedFiles.statSignature(path + "/" + name))
        }
        return parts.joined(separator: "|")
    }

    static func clusterName(_ file: String) -> String {
        for suffix in extensions where file.hasSuffix(suffix) && file.count > suffix.count {
            return String(file.dropLast(suffix.count))
        }
        return file
    }

    /// Visible entry names, or nil when the folder cannot be opened.
    static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        return names
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG
    }

    static func read(_ path: String) -> Result<[UInt8], ClusterSourceError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(ClusterSourceError("cannot read \(path): \(String(cString: strerror(errno)))")) }
        if Int(info.st_size) > maximumFileSize {
            return .failure(ClusterSourceError("\(path) is \(info.st_size) bytes, more than a kubeconfig needs (\(maximumFileSize)): is the right Secret mounted?"))
        }
        guard let file = fopen(path, "rb") else {
            return .failure(ClusterSourceError("cannot read \(path): \(String(cString: strerror(errno))) (the helper runs as UID 1000: check the volume's defaultMode and fsGroup)"))
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: maximumFileSize + 1)
        let count = fread(&bytes, 1, bytes.count, file)
        return .success(Array(bytes[0..<min(count, maximumFileSize)]))
    }
}
