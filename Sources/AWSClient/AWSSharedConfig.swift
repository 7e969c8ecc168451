import CommonBasics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`) as the AWS SDKs
/// read them, reduced to what credentials need. The rules, from the SDK sources:
///
/// - Files: `AWS_CONFIG_FILE` (default `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (default
///   `~/.aws/credentials`); a missing file counts as empty (botocore `configloader.raw_config_parse` raises
///   ConfigNotFound, which `Session.full_config` ignores; aws-sdk-go-v2 `loadIniFiles` skips unreadable files).
/// - Profile name: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
/// - Config file sections: `[default]` and `[profile NAME]`; `[profile default]` replaces `[default]`; any other
///   section is not a profile and is dropped (aws-sdk-go-v2 `config/shared_config.go` `processConfigSections`,
///   `renameProfileSection`; botocore `configloader.build_profile_map`).
/// - Credentials file sections: `[NAME]`; a `[profile NAME]` section is dropped (aws-sdk-go-v2
///   `processCredentialsSections`).
/// - A profile in both files: each key from the credentials file wins (botocore `Session.full_config` updates the
///   config profile with the credentials-file values; aws-sdk-go-v2 `mergeSections`).
/// - Keys are case-insensitive (configparser lower-cases option names); values are trimmed.
public struct AWSSharedConfig: Sendable, Equatable {
    /// Profiles by name, merged from both files, keys lower-cased.
    public var profiles: [String: [String: String]]
    /// The files that were read (for messages).
    public var files: [String]

    public init(profiles: [String: [String: String]], files: [String] = []) {
        self.profiles = profiles
        self.files = files
    }

    /// The file locations the SDKs use for this environment.
    public static func paths(environment: [String: String]) -> (config: String, credentials: String) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/root"
        func expand(_ path: String) -> String {
            path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        }
        let config = environment["AWS_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.aws/config"
        let credentials = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.aws/credentials"
        return (expand(config), expand(credentials))
    }

    /// The selected profile name (botocore: `AWS_DEFAULT_PROFILE`/`AWS_PROFILE`; aws-sdk-go-v2: `AWS_PROFILE`).
    public static func profileName(environment: [String: String]) -> String {
        for key in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
            if let value = environment[key]?.trimmingASCIIWhitespace(), !value.isEmpty { return value }
        }
        return "default"
    }

    /// Reads both files. Throws `.invalidConfiguration` for a file that exists but cannot be read or parsed.
    public static func load(environment: [String: String]) throws -> AWSSharedConfig {
        let (configPath, credentialsPath) = paths(environment: environment)
        var files: [String] = []
        var profiles: [String: [String: String]] = [:]
        if let text = try readIfPresent(configPath, variable: "AWS_CONFIG_FILE") {
            files.append(configPath)
            profiles = try configProfiles(parse(text, path: configPath))
        }
        if let text = try readIfPresent(credentialsPath, variable: "AWS_SHARED_CREDENTIALS_FILE") {
            files.append(credentialsPath)
            for (name, values) in try parse(text, path: credentialsPath) where !name.hasPrefix("profile ") {
                profiles[name, default: [:]].merge(values) { _, fromCredentials in fromCredentials }
            }
        }
        return AWSSharedConfig(profiles: profiles, files: files)
    }

    /// Config-file sections to profiles: `[default]`, `[profile x]` -> `x`; `[profile default]` wins over `[default]`.
    static func configProfiles(_ sections: [(name: String, values: [String: String])]) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var prefixedDefault = false
        for (name, values) in sections {
            if name.hasPrefix("profile ") {
                let profile = name.dropFirst("profile ".count).trimmingASCIIWhitespace()
                guard !profile.isEmpty else { continue }
                if profile == "default" {
                    if !prefixedDefault { profiles["default"] = [:] }
                    prefixedDefault = true
                }
                profiles[profile, default: [:]].merge(values) { _, new in new }
            } else if name == "default" {
                if prefixedDefault { continue }
                profiles["default", default: [:]].merge(values) { _, new in new }
            }
        }
        return profiles
    }

    static func readIfPresent(_ path: String, variable: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw AWSError.invalidConfiguration(
                "cannot read the AWS shared file \(path) (\(WebIdentityCredentialProvider.fileErrorText(error))): check \(variable) and the file's permissions")
        }
    }

    /// INI sections in file order. Full-line comments start with `#` or `;`; a ` #` or ` ;` after a value starts
    /// a comment too (no key this reads can contain one). Indented lines continue the previous key's value and
    /// hold nested settings (`s3 =` blocks), which credentials never use: they are skipped.
    static func parse(_ text: String, path: String) throws -> [(name: String, values: [String: String])] {
        var sections: [(name: String, values: [String: String])] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = line.trimmingASCIIWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if let first = line.first, first == " " || first == "\t" { continue }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.lastIndex(of: "]") else {
                    throw AWSError.invalidConfiguration("\(path) line \(lineNumber): a section header lacks its closing ']'")
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingASCIIWhitespace()
                sections.append((name: collapseSpaces(name), values: [:]))
                continue
            }
            guard let equals = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw AWSError.invalidConfiguration("\(path) line \(lineNumber): expected \"key = value\" or a [section] header")
            }
            guard !sections.isEmpty else {
                throw AWSError.invalidConfiguration("\(path) line \(lineNumber): a setting before any [section] header")
            }
            let key = trimmed[..<equals].trimmingASCIIWhitespace().lowercased()
            var value = Substring(trimmed[trimmed.index(after: equals)...])
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let range = value.firstRange(of: marker) { value = value[..<range.lowerBound] }
            }
            sections[sections.count - 1].values[key] = value.trimmingASCIIWhitespace()
        }
        return sections
    }

    /// `profile   name` -> `profile name` (botocore splits the header with shlex).
    private static func collapseSpaces(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
