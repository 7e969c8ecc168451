#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SyncEngine

/// Reads each cycle's settings the way the original helper's users mount them: one file per setting in
/// the config folder (`/config`) and the AWS config folder (`/config-aws`), overridden by environment
/// variables of the same name, overridden by flags. Re-read on every cycle so a rotated key or an edited
/// namespace list takes effect without a restart.
struct FileSettingsSource: SettingsSource {
    var configDirectory: String
    var awsConfigDirectory: String
    var environment: [String: String]
    /// Values given as flags, by setting key.
    var flags: [String: String]

    /// Larger files are refused: no setting needs more, and a stray mount should not be read into memory.
    static let maximumFileSize = 64 * 1024

    func load() throws(ConfigurationError) -> HelperSettings {
        let (values, problems) = rawValues()
        let settings: HelperSettings
        do {
            settings = try HelperSettings.parse(values)
        } catch {
            // A file that could not be read is reported once; "X is empty or missing" would only repeat it.
            let unreadable = problems.compactMap { $0.split(separator: ":", maxSplits: 1).first.map(String.init) }
            let rest = error.problems.filter { problem in !unreadable.contains { problem.hasPrefix("\($0) is empty or missing") } }
            throw ConfigurationError(problems: problems + rest)
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return settings
    }

    /// The raw values by precedence flag > environment > file, and problems reading files.
    func rawValues() -> (SettingValues, [String]) {
        var values = SettingValues()
        var problems: [String] = []
        let folders = [(configDirectory, HelperSettings.Key.configFolder), (awsConfigDirectory, HelperSettings.Key.awsFolder)]
        // An empty folder name means "no folder" (node mode reads one only when asked to).
        for (folder, keys) in folders where !folder.isEmpty {
            for key in keys where values[key] == nil {
                let path = folder.hasSuffix("/") ? folder + key : folder + "/" + key
                switch FileReading.read(path, limit: Self.maximumFileSize) {
                case let .contents(text): values[key] = SettingValue(text, origin: "file \(path)")
                case .missing: break
                case let .problem(message): problems.append("\(key): \(message)")
                }
            }
        }
        for key in HelperSettings.Key.configFolder + HelperSettings.Key.awsFolder + [HelperSettings.Key.webIdentityTokenFile] {
            if let value = environment[key] { values[key] = SettingValue(value, origin: "environment \(key)") }
            if let value = flags[key] { values[key] = SettingValue(value, origin: "flag --\(CLIName.flag(for: key))") }
        }
        return (values, problems)
    }

    func fingerprint() -> String {
        var parts: [String] = []
        for folder in [configDirectory, awsConfigDirectory] {
            // Kubernetes updates a mounted Secret or ConfigMap by swapping the `..data` link atomically.
            parts.append(FileReading.linkTarget(folder + "/..data") ?? "-")
            for key in HelperSettings.Key.configFolder + HelperSettings.Key.awsFolder {
                parts.append(FileReading.statSignature(folder + "/" + key))
            }
        }
        return parts.joined(separator: "|")
    }
}

/// Flag names for setting keys: `NAMESPACES` -> `namespaces`, `AWS_REGIONS` -> `aws-regions`.
enum CLIName {
    static func flag(for key: String) -> String {
        String(key.lowercased().map { $0 == "_" ? "-" : $0 })
    }
}

/// Small file helpers over the C library: FoundationEssentials has no cheap stat or readlink.
enum FileReading {
    enum Result {
        case contents(String)
        case missing
        case problem(String)
    }

    static func read(_ path: String, limit: Int) -> Result {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .problem("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .problem("\(path) is a folder, expected a file") }
        if Int(info.st_size) > limit {
            return .problem("\(path) is \(info.st_size) bytes, more than the \(limit) bytes a setting may have: is the right Secret mounted?")
        }
        guard let file = fopen(path, "rb") else {
            return .problem("cannot read \(path): \(String(cString: strerror(errno))) (the helper runs as UID 1000: check the volume's defaultMode and fsGroup)")
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let count = fread(&bytes, 1, bytes.count, file)
        if count > limit { return .problem("\(path) is larger than \(limit) bytes") }
        return .contents(String(decoding: bytes[0..<count], as: UTF8.self))
    }

    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func statSignature(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "-" }
        return "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ino)"
    }
}
