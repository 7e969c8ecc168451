#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SyncEngine

/// Reads each cycle's settings the way the original helper's users mount them: one file per setting in
/// the config folder (`/config`) and the AWS config folder (`/config-aws`), overridden by environment
/// variables of the same name, overridden by flags. Re-read on every cycle so a rotated key or an edited
/// namespace list takes effect without a restart. Only the settings of `concerns` (those the command uses)
/// are read and validated; which file, variable and flag each has comes from its `Setting` declaration.
struct FileSettingsSource: SettingsSource {
    var configDirectory: String
    var awsConfigDirectory: String
    var environment: [String: String]
    /// Values given as flags.
    var flags: [Setting: String]
    var concerns: Set<Setting.Concern>
    /// The settings to read when not all of `concerns` (node mode reads a few settings of several concerns).
    var only: [Setting]? = nil

    /// The settings this source reads. With the secret's settings, POD_NAMESPACE too (environment only, no
    /// flag): INSTANCE's default is derived from it, so `sync` in a CronJob labels like `run` does.
    var selected: [Setting] {
        if let only { return only }
        let settings = Setting.of(concerns)
        return concerns.contains(.secret) && !concerns.contains(.pod) ? settings + [.podNamespace] : settings
    }

    /// Larger files are refused: no setting needs more, and a stray mount should not be read into memory.
    static let maximumFileSize = 64 * 1024

    func load() throws(ConfigurationError) -> HelperSettings {
        let (values, readProblems) = read()
        var reader = SettingsReader(values)
        let settings = HelperSettings.read(&reader, concerns: concerns.intersection(HelperSettings.concerns))
        // Unreadable files first, then the parsers' problems: every one at once.
        let problems = readProblems + reader.problems
        if !problems.isEmpty { throw ConfigurationError(problems) }
        return settings
    }

    /// The raw values by precedence flag > environment > file (with where each file would be, and which
    /// could not be read), and one problem per file that exists but cannot be read.
    func read() -> (SettingValues, [SettingProblem]) {
        var values = SettingValues()
        var problems: [SettingProblem] = []
        for setting in selected {
            // An empty folder name means "no folder" (node mode reads the AWS folder only when given one).
            for folder in setting.folders where !directory(folder).isEmpty {
                let path = Self.path(directory(folder), setting.key)
                if values.filePaths[setting.key] == nil { values.filePaths[setting.key] = path }
                guard values[setting] == nil else { continue }
                switch FileReading.read(path, limit: Self.maximumFileSize) {
                case let .contents(text): values[setting] = SettingValue(text, origin: "file \(path)")
                case .missing: break
                case let .problem(message):
                    values.unreadable.insert(setting.key)
                    problems.append(SettingProblem(setting, .unreadable, "\(setting.key): \(message)"))
                }
            }
            if setting.readsEnvironment, let value = environment[setting.key] {
                values[setting] = SettingValue(value, origin: "environment \(setting.key)")
            }
            if let flag = setting.flag, let value = flags[setting] {
                values[setting] = SettingValue(value, origin: "flag --\(flag)")
            }
        }
        return (values, problems)
    }

    func directory(_ folder: Setting.Folder) -> String {
        switch folder {
        case .config: configDirectory
        case .aws: awsConfigDirectory
        }
    }

    static func path(_ folder: String, _ key: String) -> String {
        folder.hasSuffix("/") ? folder + key : folder + "/" + key
    }

    func fingerprint() -> String {
        var parts: [String] = []
        for folder in [configDirectory, awsConfigDirectory] {
            // Kubernetes updates a mounted Secret or ConfigMap by swapping the `..data` link atomically.
            parts.append(MountedFiles.linkTarget(folder + "/..data") ?? "-")
        }
        for setting in selected {
            for folder in setting.folders where !directory(folder).isEmpty {
                parts.append(MountedFiles.statSignature(Self.path(directory(folder), setting.key)))
            }
        }
        return parts.joined(separator: "|")
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
}
