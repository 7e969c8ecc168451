#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// `aws-ecr-cred-helper`: keeps Amazon ECR pull secrets fresh in Kubernetes namespaces.
/// With no arguments it runs (`run`), so a container needs no args.
@main
struct HelperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws-ecr-cred-helper",
        abstract: "Keeps Amazon ECR pull secrets (kubernetes.io/dockerconfigjson) fresh in many namespaces.",
        discussion: """
            Settings come from files in --config-dir (/config) and --aws-config-dir (/config-aws), one file per \
            setting as the original helper mounted them, then from environment variables of the same names, \
            then from flags (a flag wins). They are re-read on every cycle.
            """,
        version: HelperVersion.current,
        subcommands: [RunCommand.self, SyncCommand.self, RenderCommand.self, CheckCommand.self, StatusCommand.self,
                      CleanupCommand.self, CredentialProviderCommand.self, VersionCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// The kubelet's calls of `credential-provider` take a short way past ArgumentParser (start-up time).
    static func main() async {
        if let code = await CredentialProviderFastPath.run(arguments: Array(CommandLine.arguments.dropFirst())) {
            Glibc.exit(code)
        }
        await main(nil)
    }
}

enum HelperVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("aws-ecr-cred-helper \(HelperVersion.current)")
    }
}
