#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import Logging
import NIOPosix
import SyncEngine
import UnixSignals

/// `credential-provider install`: copies this binary into the kubelet's credential provider bin dir and writes
/// or merges the kubelet's CredentialProviderConfig, both atomically (write a temporary file beside the target,
/// then rename). With `--credentials-from`, also writes the node's AWS shared credentials file from a folder of
/// setting files (the mounted cluster Secret), and with `--watch` stays running until SIGTERM (a DaemonSet's
/// container must not exit, or it is restarted in a loop) and keeps that file current.
struct CredentialProviderInstallCommand: Subcommand {
    static let name = "credential-provider install"
    static let abstract = "Install node mode on this node: the binary in --bin-dir, our provider in the kubelet's --config."
    static let discussion = """
        The kubelet needs --image-credential-provider-bin-dir=DIR and --image-credential-provider-config=FILE. \
        Other providers in FILE are kept as they are; a provider of the same --name is replaced. FILE may be \
        YAML or JSON (a JSON file, or a new FILE named *.json, is written as JSON). If FILE is a folder \
        (kubelets that read a folder of configs), the file in it that already names the provider is updated, \
        else NAME.yaml is written inside it.
        """
    static let concerns: [Setting.Concern] = []
    static let requiredOptions = ["bin-dir", "config"]
    static let options: [CommandOption] = [
        CommandOption(name: "bin-dir", valueName: "dir", help: "The kubelet's --image-credential-provider-bin-dir."),
        CommandOption(name: "config", valueName: "file", help: "The kubelet's --image-credential-provider-config file (or folder)."),
        CommandOption(name: "name", valueName: "name", help: "Provider name = the binary's file name in --bin-dir.", defaultValue: "aws-ecr-cred-helper"),
        CommandOption(name: "source", valueName: "path", help: "The binary to copy.", defaultValue: "this one"),
        CommandOption(name: "match-image", valueName: "pattern", help: "An image pattern the kubelet sends to us. Default: every ECR registry form and public.ecr.aws.", repeatable: true),
        CommandOption(name: "default-cache-duration", valueName: "duration", help: "How long the kubelet caches an answer that names no duration (ours always do).", defaultValue: "1h"),
        CommandOption(name: "env", valueName: "name=value", help: "An environment variable for the provider.", repeatable: true),
        CommandOption(name: "arg", valueName: "arg", help: "An extra argument after 'credential-provider'.", repeatable: true),
        CommandOption(name: "service-account-token-audience", valueName: "audience", help: "ServiceAccount-token mode: the token audience (e.g. sts.amazonaws.com); writes tokenAttributes."),
        CommandOption(name: "host-root", valueName: "dir", help: "Where the node's root filesystem is mounted (in a DaemonSet, e.g. /host); the other paths are the node's."),
        CommandOption(name: "credentials-from", valueName: "dir", help: "A folder of AWS setting files (the mounted Secret: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ROLE_ARN, ...) to write the node's credentials file from; with IAM Roles Anywhere settings instead, the certificate and key are copied beside that file and the settings passed to the provider."),
        CommandOption(name: "credentials-file", valueName: "file", help: "The node's AWS shared credentials file to write (passed to the provider as AWS_SHARED_CREDENTIALS_FILE).", defaultValue: "/etc/aws-ecr-cred-helper/credentials"),
    ]
    static let switches = [
        Switch(name: "require-service-account", help: "With ServiceAccount-token mode: call the plugin only for pods with a ServiceAccount."),
        Switch(name: "watch", help: "After installing, stay running until SIGTERM (a DaemonSet's container); with --credentials-from, keep the credentials file current."),
    ]

    var binDir: String
    var config: String
    var name: String
    var source: String?
    var matchImage: [String]
    var defaultCacheDuration: String
    var env: [String]
    var arg: [String]
    var serviceAccountTokenAudience: String?
    var requireServiceAccount: Bool
    var hostRoot: String
    var credentialsFrom: String?
    var credentialsFile: String
    var watch: Bool

    init(_ invocation: Invocation) {
        binDir = invocation.option("bin-dir") ?? ""
        config = invocation.option("config") ?? ""
        name = invocation.option("name") ?? "aws-ecr-cred-helper"
        source = invocation.options["source"]?.last
        matchImage = invocation.values("match-image")
        defaultCacheDuration = invocation.option("default-cache-duration") ?? "1h"
        env = invocation.values("env")
        arg = invocation.values("arg")
        serviceAccountTokenAudience = invocation.option("service-account-token-audience")
        requireServiceAccount = invocation.switches.contains("require-service-account")
        hostRoot = invocation.option("host-root") ?? ""
        credentialsFrom = invocation.option("credentials-from")
        credentialsFile = invocation.option("credentials-file") ?? "/etc/aws-ecr-cred-helper/credentials"
        watch = invocation.switches.contains("watch")
    }

    /// The kubelet's glob rules (kubelet config v1 `matchImages`): each `*` matches one DNS label.
    static let defaultMatchImages = [
        "*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr-fips.*.amazonaws.com", "*.dkr-ecr.*.on.aws", "*.dkr-ecr-fips.*.on.aws",
        "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr-ecr.*.on.amazonwebservices.com.cn", "*.dkr.ecr.*.amazonaws.eu",
        "*.dkr.ecr.*.c2s.ic.gov", "*.dkr.ecr.*.sc2s.sgov.gov", "*.dkr.ecr.*.cloud.adc-e.uk", "*.dkr.ecr.*.csp.hci.ic.gov",
        "public.ecr.aws", "ecr-public.aws.com",
    ]

    /// The command line's own rules, before anything is touched (exit 64).
    func validate() throws {
        // The kubelet's validation (validateCredentialProviderConfig): no '/', no spaces, not '.' or '..'.
        if name.isEmpty || name.contains("/") || name.contains(" ") || name == "." || name == ".." {
            throw HelperFailure.usage("--name \"\(name)\" cannot be a file name in the bin dir: no '/', no spaces, not . or ..")
        }
        for item in env where !item.contains("=") || item.hasPrefix("=") {
            throw HelperFailure.usage("--env \"\(item.split(separator: "=").first ?? "")\" must be NAME=VALUE")
        }
        if !Self.isGoDuration(defaultCacheDuration) {
            throw HelperFailure.usage("--default-cache-duration \"\(Printable.escape(defaultCacheDuration))\" is not a duration the kubelet reads: write it as Go does, e.g. 1h, 30m or 0s (units h, m, s, ms, us, ns; no days, no bare numbers)")
        }
        if requireServiceAccount && serviceAccountTokenAudience == nil {
            throw HelperFailure.usage("--require-service-account needs --service-account-token-audience")
        }
    }

    /// A non-negative duration as Go's time.ParseDuration reads it (the kubelet's `defaultCacheDuration` is a
    /// metav1.Duration and must be >= 0): `0`, or numbers each followed by a unit.
    static func isGoDuration(_ text: String) -> Bool {
        if text == "0" { return true }
        var rest = Substring(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        guard !rest.isEmpty else { return false }
        while !rest.isEmpty {
            let number = rest.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1 else { return false }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !(($0.isASCII && $0.isNumber) || $0 == ".") }
            guard ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(String(unit)) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }

    func run() async throws {
        try validate()
        // With --watch, until SIGTERM or SIGINT (as PID 1 in a container nothing else ends the process before
        // the kill). Trapped before anything is printed: whoever reads the flags may stop it right after.
        let signals = watch ? await UnixSignalsSequence(trapping: .sigterm, .sigint) : nil
        let installer = NodeInstaller(hostRoot: hostRoot)
        var credentialsFingerprint = ""
        // Folders beyond the one given (a typo in --bin-dir makes a tree) are said, never created silently:
        // in the report when the install succeeds, in the error line when it does not.
        var created: [String] = []
        var createdNote: String { "created \(created.joined(separator: ", ")): \(created.count == 1 ? "it" : "they") did not exist" }
        do {
            // Reads and writes the whole binary (tens of MB): on NIO's thread pool, not a cooperative thread.
            let source = self.source ?? "/proc/self/exe", binDir = self.binDir, name = self.name
            created = try await NIOThreadPool.singleton.runIfActive { try installer.installBinary(from: source, to: binDir, name: name) }
            var environment = env.map { item -> (name: String, value: String) in
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            if let credentialsFrom {
                // Fingerprint before reading: a Secret update landing between the write and the watch loop's
                // first look is then seen as a change, not taken as the starting point.
                credentialsFingerprint = installer.fingerprint(credentialsFrom)
                let written = try installer.writeCredentials(from: credentialsFrom, to: credentialsFile)
                // Keys: the credentials file. Roles Anywhere: the settings themselves (paths on the node, ARNs;
                // nothing secret), which an --env of the same name overrides.
                let passed = written.isEmpty ? [("AWS_SHARED_CREDENTIALS_FILE", credentialsFile)] : written
                for (name, value) in passed where !environment.contains(where: { $0.name == name }) {
                    environment.append((name, value))
                }
            }
            let provider = CredentialProviderConfigFile.Provider(
                name: name, matchImages: matchImage.isEmpty ? Self.defaultMatchImages : matchImage,
                defaultCacheDuration: defaultCacheDuration, apiVersion: CredentialProviderAPI.v1,
                args: ["credential-provider"] + arg, env: environment, tokenAudience: serviceAccountTokenAudience,
                requireServiceAccount: requireServiceAccount)
            let written = try installer.mergeConfig(provider, at: config)
            if !created.isEmpty { print(createdNote) }
            print("installed \(binDir)/\(name); provider \"\(name)\" in \(written)")
            print("kubelet flags: --image-credential-provider-bin-dir=\(binDir) --image-credential-provider-config=\(config)")
            // Standard output is a pipe in a container: without this the DaemonSet's log shows the flags only
            // when --watch ends.
            fflush(nil)
        } catch let problem as NodeInstaller.Problem {
            throw HelperFailure(problem.description + (created.isEmpty ? "" : " (\(createdNote))"))
        } catch let problem as CredentialProviderConfigFile.Problem {
            throw HelperFailure(problem.description + (created.isEmpty ? "" : " (\(createdNote))"))
        }
        guard let signals else { return }
        let startingPoint = credentialsFingerprint
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { return }
            }
            group.addTask {
                guard let credentialsFrom else {
                    // ServiceAccount-token mode without node credentials: nothing to keep current, only to stay.
                    while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
                    return
                }
                try await keepCredentialsCurrent(installer: installer, from: credentialsFrom, lastSeen: startingPoint)
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Rewrites the credentials file whenever the folder (a mounted Secret) changes.
    func keepCredentialsCurrent(installer: NodeInstaller, from credentialsFrom: String, lastSeen: String) async throws {
        var last = lastSeen
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(5))
            let current = installer.fingerprint(credentialsFrom)
            guard current != last else { continue }
            do {
                let written = try installer.writeCredentials(from: credentialsFrom, to: credentialsFile)
                last = current
                Console.line(
                    written.isEmpty
                        ? "credentials file \(credentialsFile) rewritten from \(credentialsFrom)"
                        : "IAM Roles Anywhere certificate and key copied again from \(credentialsFrom)",
                    level: .notice)
            } catch {
                // A half-updated Secret mount: keep the file as it was, try again at the next change.
                Console.line("\(error)", level: .warning)
            }
        }
    }
}

/// The file work of `install`, with every path taken relative to `hostRoot`.
struct NodeInstaller {
    var hostRoot: String

    struct Problem: Error, CustomStringConvertible { let description: String }

    func onHost(_ path: String) -> String {
        hostRoot.isEmpty ? path : (hostRoot.hasSuffix("/") ? String(hostRoot.dropLast()) : hostRoot) + path
    }

    /// Returns the folders it had to create.
    func installBinary(from source: String, to binDir: String, name: String) throws -> [String] {
        let target = onHost(binDir) + "/" + name
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
            throw Problem(description: "cannot read the binary \(source) to copy: \(errorText(error))")
        }
        let created = try makeFolder(onHost(binDir))
        if let current = try? Data(contentsOf: URL(fileURLWithPath: target)), current == bytes { return created }
        try AtomicFile.write(Array(bytes), to: target, mode: 0o755)
        return created
    }

    /// Writes the merged config; returns the (node) path written.
    func mergeConfig(_ provider: CredentialProviderConfigFile.Provider, at config: String) throws -> String {
        var path = config
        var info = stat()
        if stat(onHost(config), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            path = config + "/" + (fileDefining(provider.name, inFolder: config) ?? provider.name + ".yaml")
        }
        let hostPath = onHost(path)
        var existing: YAMLNode?
        // The kubelet reads the file as YAML or JSON; a JSON file stays JSON, and so does a new `.json` one.
        var json = path.hasSuffix(".json")
        if FileManager.default.fileExists(atPath: hostPath) {
            let text: String
            do { text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: hostPath)), as: UTF8.self) } catch {
                throw Problem(description: "cannot read \(path): \(errorText(error))")
            }
            do { existing = try YAMLReader.parse(text) } catch {
                throw Problem(description: "\(path) is not readable YAML or JSON (\(error)): fix or move it; nothing was changed")
            }
            if existing != nil { json = JSONDocumentWriter.looksLikeJSON(text) }
        }
        let merged = try CredentialProviderConfigFile.merge(provider, into: existing, path: path)
        let render = json ? JSONDocumentWriter.document : YAMLWriter.document
        let text = render(merged)
        if let existing, render(existing) == text { return path }
        try makeFolder(String(hostPath[..<(hostPath.lastIndex(of: "/") ?? hostPath.startIndex)]))
        try AtomicFile.write(Array(text.utf8), to: hostPath, mode: 0o644)
        return path
    }

    /// The file of a config folder that already defines provider `name`, if any. The kubelet reads every
    /// `*.json`, `*.yaml` and `*.yml` file of the folder and refuses a provider name found twice, so an entry of
    /// ours that is already there (written by hand, or by an older install) is replaced where it is.
    func fileDefining(_ name: String, inFolder folder: String) -> String? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: onHost(folder)) else { return nil }
        for file in files.sorted() where file.hasSuffix(".json") || file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            guard let data = FileManager.default.contents(atPath: onHost(folder) + "/" + file),
                  let document = try? YAMLReader.parse(String(decoding: data, as: UTF8.self)),
                  let providers = document["providers"]?.items
            else { continue }
            if providers.contains(where: { $0["name"]?.string == name }) { return file }
        }
        return nil
    }

    /// The AWS shared credentials file from the setting files in `folder`, checked with the same rules as every
    /// other setting. Static keys only (with an optional role to assume with them): the node has no token file.
    /// Node mode's settings, from files in `folder` only (the mounted Secret), not from this process's environment.
    static func folderSource(_ folder: String) -> FileSettingsSource {
        FileSettingsSource(configDirectory: "", awsConfigDirectory: folder, environment: [:], flags: [:], concerns: [], only: NodeSettings.settings)
    }

    /// Writes the node's credentials from the folder's settings. Keys: the shared credentials file `file`; returns
    /// no variables. IAM Roles Anywhere: copies the certificate and key into `roles-anywhere/` beside `file` (0600)
    /// and returns the provider's variables naming them, with the ARNs (nothing secret: the key stays in a file).
    @discardableResult
    func writeCredentials(from folder: String, to file: String) throws -> [(String, String)] {
        let (values, problems) = Self.folderSource(folder).read()
        if !problems.isEmpty { throw Problem(description: problems.map(\.line).joined(separator: "; ")) }
        let settings: NodeSettings
        do { settings = try NodeSettings.parse(values) } catch { throw Problem(description: error.problems.joined(separator: "; ")) }
        if let rolesAnywhere = settings.aws.rolesAnywhere, let roleARN = settings.aws.roleARN {
            return try copyRolesAnywhere(rolesAnywhere, roleARN: roleARN, sessionName: settings.aws.roleSessionName, besides: file)
        }
        guard let keyID = settings.aws.accessKeyID, let secret = settings.aws.secretAccessKey else {
            throw Problem(description: "\(folder) has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, nor IAM Roles Anywhere settings: the node's credentials need keys or a certificate (for keyless pulls also ServiceAccount-token mode)")
        }
        var text = "# Written by aws-ecr-cred-helper from \(folder); rewritten when it changes. Do not edit.\n[default]\n"
        text += "aws_access_key_id = \(keyID)\naws_secret_access_key = \(secret.value)\n"
        if let token = settings.aws.sessionToken { text += "aws_session_token = \(token.value)\n" }
        if let role = settings.aws.roleARN {
            // A profile may name itself as source_profile when it holds keys (botocore _validate_source_profile).
            text += "role_arn = \(role)\nsource_profile = default\n"
            if let external = settings.aws.externalID { text += "external_id = \(external)\n" }
            if let session = settings.aws.roleSessionName { text += "role_session_name = \(session)\n" }
        }
        let path = onHost(file)
        try makeFolder(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), mode: 0o700)
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o600)
        return []
    }

    /// The certificate and key (files in this container, e.g. a mounted kubernetes.io/tls Secret) copied to the
    /// node, key first: the provider reads them at each session, and a renewal copied here is used at the next.
    func copyRolesAnywhere(_ access: RolesAnywhereAccess, roleARN: String, sessionName: String?, besides file: String) throws -> [(String, String)] {
        let folder = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)]) + "/roles-anywhere"
        try makeFolder(onHost(folder), mode: 0o700)
        for (source, target) in [(access.privateKeyFile, folder + "/tls.key"), (access.certificateFile, folder + "/tls.crt")] {
            let bytes: Data
            do { bytes = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
                throw Problem(description: "cannot read \(source) to copy to the node: \(errorText(error))")
            }
            try AtomicFile.write(Array(bytes), to: onHost(target), mode: 0o600)
        }
        var variables = [
            ("AWS_ROLES_ANYWHERE_CERTIFICATE", folder + "/tls.crt"), ("AWS_ROLES_ANYWHERE_PRIVATE_KEY", folder + "/tls.key"),
            ("AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN", access.trustAnchorARN), ("AWS_ROLES_ANYWHERE_PROFILE_ARN", access.profileARN),
            ("AWS_ROLE_ARN", roleARN),
        ]
        if let seconds = access.sessionDurationSeconds { variables.append(("AWS_ROLES_ANYWHERE_SESSION_DURATION", "\(seconds)")) }
        if let sessionName { variables.append(("AWS_ROLE_SESSION_NAME", sessionName)) }
        return variables
    }

    func fingerprint(_ folder: String) -> String {
        var parts = [MountedFiles.linkTarget(folder + "/..data") ?? "-"]
        parts.append(Self.folderSource(folder).fingerprint())
        return parts.joined(separator: "|")
    }

    /// Creates `path` and any missing parent; returns the folders it created (as node paths, outermost first),
    /// so that the command says so: folders outside the ones given are never created silently.
    @discardableResult
    func makeFolder(_ path: String, mode: Int = 0o755) throws -> [String] {
        guard !path.isEmpty else { return [] }
        var missing: [String] = []
        var folder = path
        while !folder.isEmpty, folder != "/", !FileManager.default.fileExists(atPath: folder) {
            missing.insert(folder, at: 0)
            folder = String(folder[..<(folder.lastIndex(of: "/") ?? folder.startIndex)])
        }
        guard !missing.isEmpty else { return [] }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw Problem(description: "cannot create the folder \(path): \(errorText(error))")
        }
        let root = hostRoot.hasSuffix("/") ? String(hostRoot.dropLast()) : hostRoot
        return missing.map { root.isEmpty || !$0.hasPrefix(root) ? $0 : String($0.dropFirst(root.count)) }
    }

    func errorText(_ error: any Error) -> String {
        if let error = error as? CocoaError {
            switch error.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
            case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied (run as root, or mount the node's folder writable)"
            default: return "error \(error.code.rawValue)"
            }
        }
        return "\(error)"
    }
}

/// Writes a file so that readers see the old or the new content, never a part: a temporary file in the same
/// folder, flushed to disk, then renamed over the target.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw NodeInstaller.Problem(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += written
            }
        }
        if failure == 0 && fchmod(fd, mode) != 0 { failure = errno }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw NodeInstaller.Problem(description: "cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}
