#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SyncEngine

/// `credential-provider` (also `credential-provider get`): node mode, the kubelet's image credential provider
/// exec plugin. Reads one CredentialProviderRequest on standard input, writes one CredentialProviderResponse on
/// standard output. Any failure: exit 1, one line on standard error, nothing on standard output.
/// `credential-provider install` (CredentialProviderInstallCommand) puts it on a node.
struct CredentialProviderGetCommand: Subcommand {
    static let name = "credential-provider"
    static let aliases = ["credential-provider get"]
    static let abstract = "Node mode: answer one kubelet CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout)."
    static let discussion = """
        AWS credentials come from the same settings as the controller (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
        AWS_SESSION_TOKEN, AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, ... as environment variables, set with env \
        in the kubelet's CredentialProviderConfig, or files in --aws-config-dir; REFRESH_MARGIN likewise, or a \
        file in --config-dir; node mode reads either folder only when given), else from the AWS shared files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE). A \
        request with a serviceAccountToken is exchanged for the role in the ServiceAccount's \
        aws-ecr-cred-helper/role-arn or eks.amazonaws.com/role-arn annotation. The region comes from the image's \
        registry host. The log level is --log-level only (default critical: just the one failure line). \
        'aws-ecr-cred-helper credential-provider install --help' shows how to put it on a node.
        """
    static let concerns: [Setting.Concern] = []
    static var settings: [Setting] { NodeSettings.settings }
    static let readsLoggingSettings = false
    static var unusedDefaults: [Setting] { [.configDirectory, .awsConfigDirectory] }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        try await Self.answer(invocation)
    }

    /// One request in, one response out; throws one line for anything that goes wrong.
    static func answer(_ invocation: Invocation) async throws {
        let environment = invocation.environment
        let logger = invocation.logger
        let request: CredentialProviderAPI.Request
        do {
            request = try CredentialProviderAPI.decodeRequest(readStandardInput(limit: CredentialProviderAPI.maximumRequestSize + 1))
        } catch {
            throw HelperFailure(error.description)
        }
        // The controller's folders only when given: a node has no /config or /config-aws.
        var source = invocation.source(concerns: [])
        source.only = NodeSettings.settings
        source.configDirectory = (invocation.flags[.configDirectory] ?? environment[Setting.configDirectory.key] ?? "").trimmingASCIIWhitespace()
        source.awsConfigDirectory = (invocation.flags[.awsConfigDirectory] ?? environment[Setting.awsConfigDirectory.key] ?? "").trimmingASCIIWhitespace()
        let (values, problems) = source.read()
        if !problems.isEmpty { throw HelperFailure(problems.map(\.line).joined(separator: "; ")) }
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
