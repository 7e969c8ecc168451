#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Logging
import SyncEngine

/// `credential-provider`: node mode. Without a subcommand it is the kubelet's image credential provider exec
/// plugin (`get`); `install` puts it on a node.
struct CredentialProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential-provider",
        abstract: "Node mode: the kubelet's image credential provider for Amazon ECR, and its installer.",
        subcommands: [CredentialProviderGetCommand.self, CredentialProviderInstallCommand.self],
        defaultSubcommand: CredentialProviderGetCommand.self
    )
}

/// Reads one CredentialProviderRequest on standard input, writes one CredentialProviderResponse on standard
/// output. Any failure: exit 1, one line on standard error, nothing on standard output.
struct CredentialProviderGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Answer one kubelet CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout).",
        discussion: """
            AWS credentials come from the same settings as the controller (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
            AWS_SESSION_TOKEN, AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, ... as environment variables, set with env \
            in the kubelet's CredentialProviderConfig, or files in --aws-config-dir), else from the AWS shared files \
            (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE). A request with a serviceAccountToken is \
            exchanged for the role in the ServiceAccount's aws-ecr-cred-helper/role-arn or eks.amazonaws.com/role-arn \
            annotation. The region comes from the image's registry host.
            """
    )

    @Option(help: ArgumentHelp("Folder with one file per AWS setting (AWS_ACCESS_KEY_ID, ...), as the controller's /config-aws. Default: none. (AWS_CONFIG_DIR)", valueName: "dir"))
    var awsConfigDir: String?

    @Option(help: "Role to assume with the node's credentials, or with a web identity token file. (AWS_ROLE_ARN)")
    var awsRoleArn: String?

    @Option(help: "The kubelet's cache ends at least this long before a token expires. Default 1h. (REFRESH_MARGIN)")
    var refreshMargin: String?

    @Option(help: "Log level on standard error: trace ... critical. Default critical: only the one failure line. (LOG_LEVEL is not read: the kubelet's own environment is inherited)")
    var logLevel: String?

    func run() async throws {
        try await Self.answer(awsConfigDir: awsConfigDir, awsRoleArn: awsRoleArn, refreshMargin: refreshMargin, logLevel: logLevel)
    }

    /// One request in, one response out; throws one line for anything that goes wrong.
    static func answer(awsConfigDir: String?, awsRoleArn: String?, refreshMargin: String?, logLevel: String?) async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger: Logger
        do {
            let level = try LogSetup.bootstrap(level: logLevel ?? "critical", format: "text")
            var named = Logger(label: "aws-ecr-cred-helper")
            named.logLevel = level
            logger = named
        } catch {
            throw HelperFailure(error.description)
        }
        let request: CredentialProviderAPI.Request
        do {
            request = try CredentialProviderAPI.decodeRequest(readStandardInput(limit: CredentialProviderAPI.maximumRequestSize + 1))
        } catch {
            throw HelperFailure(error.description)
        }
        var flags: [String: String] = [:]
        flags[HelperSettings.Key.roleARN] = awsRoleArn
        flags[HelperSettings.Key.refreshMargin] = refreshMargin
        let source = FileSettingsSource(
            configDirectory: "", awsConfigDirectory: awsConfigDir ?? environment["AWS_CONFIG_DIR"] ?? "",
            environment: environment, flags: flags)
        let (values, problems) = source.rawValues()
        if !problems.isEmpty { throw HelperFailure(problems.joined(separator: "; ")) }
        let settings: NodeSettings
        do {
            settings = try NodeSettings.parse(values)
        } catch {
            throw HelperFailure(error.problems.joined(separator: "; "))
        }
        let provider: NodeCredentialProvider
        do {
            provider = try NodeCredentialProvider(settings: settings, environment: environment, logger: logger)
        } catch {
            throw HelperFailure("\(error)")
        }
        let response: CredentialProviderAPI.Response
        do {
            response = try await provider.answer(request)
        } catch {
            await provider.shutdown()
            throw HelperFailure("\(error)")
        }
        writeStandardOutput(response.json() + "\n")
        // The kubelet waits for the process to end, not just for the answer. Closing the AWS connections
        // politely (TLS close_notify, then waiting for the peer's) only delays that, so the process ends here
        // and the kernel closes the sockets. (Returning instead would also release the HTTP client unshut.)
        Glibc.exit(0)
    }
}

/// The kubelet runs `credential-provider` for every cache miss, so its usual command lines skip ArgumentParser,
/// whose reflection over every command is most of the process's start-up CPU time (see docs/benchmarks.md).
/// Anything else (help, unknown options, `install`) goes through ArgumentParser as usual.
enum CredentialProviderFastPath {
    static let options = ["--aws-config-dir", "--aws-role-arn", "--refresh-margin", "--log-level"]

    /// The exit code when `arguments` (without the program name) is a plain provider call; nil otherwise.
    static func run(arguments: [String]) async -> Int32? {
        guard arguments.first == "credential-provider" else { return nil }
        var rest = arguments.dropFirst()
        if rest.first == "get" { rest = rest.dropFirst() }
        var values: [String: String] = [:]
        while let argument = rest.first {
            rest = rest.dropFirst()
            if let equals = argument.firstIndex(of: "="), options.contains(String(argument[..<equals])) {
                values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
            } else if options.contains(argument), let value = rest.first, !value.hasPrefix("-") {
                values[argument] = value
                rest = rest.dropFirst()
            } else {
                return nil
            }
        }
        do {
            try await CredentialProviderGetCommand.answer(
                awsConfigDir: values["--aws-config-dir"], awsRoleArn: values["--aws-role-arn"],
                refreshMargin: values["--refresh-margin"], logLevel: values["--log-level"])
            return 0
        } catch {
            // The line ArgumentParser would print.
            writeStandardError("Error: \(error)\n")
            return 1
        }
    }
}

/// Reads standard input to its end, at most `limit` bytes (more is left unread; the caller refuses it).
func readStandardInput(limit: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while bytes.count < limit {
        let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, min($0.count, limit - bytes.count)) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// Whole writes to file descriptor 1.
func writeStandardOutput(_ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
