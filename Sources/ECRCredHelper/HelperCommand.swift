#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import SyncEngine

/// `aws-ecr-cred-helper`: keeps Amazon ECR pull secrets fresh in Kubernetes namespaces. With no arguments
/// it runs (`run`), so a container needs no args.
///
/// The command line is parsed here rather than by a generic argument parser: a command's flags are the
/// flags of its settings' declarations (`Setting`), which such a parser can only take as one hand-written
/// property per flag and command.
@main
enum HelperMain {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        let request: Invocation.Request
        do {
            request = try Invocation.parse(Array(CommandLine.arguments.dropFirst()), environment: environment)
        } catch {
            Console.useJSON(environment["LOG_FORMAT"]?.trimmingASCIIWhitespace().lowercased() == "json")
            Console.failure(["\(error)"])
            exit(ExitStatus.usage)
        }
        switch request {
        case .help(let topic):
            print(topic.map(HelpText.command) ?? HelpText.overview(), terminator: "")
        case .version:
            print("aws-ecr-cred-helper \(HelperVersion.current)")
        case .run(let invocation):
            // Logging first, so that every later line (problems included) has the chosen format.
            var loggingSource = invocation.source(concerns: [.logging])
            if !invocation.command.readsLoggingSettings {
                // Only the command's own --log-level, by default critical (see `readsLoggingSettings`).
                loggingSource.environment = [:]
                loggingSource.flags = [.logLevel: invocation.flags[.logLevel] ?? "critical"]
            }
            var reader = SettingsReader(loggingSource.read().0)
            let logging = LoggingSettings.read(&reader)
            Console.useJSON(logging.json)
            if !reader.problems.isEmpty {
                Console.failure(reader.problems.map(\.line))
                exit(ExitStatus.failure)
            }
            var invocation = invocation
            invocation.logger = LogSetup.bootstrap(logging)
            for line in invocation.absentSettingsFolders() { invocation.logger.warning("\(line)") }
            do {
                try await invocation.command.init(invocation).run()
            } catch let status as ExitStatus {
                exit(status.code)
            } catch let failure as HelperFailure {
                Console.failure(failure.lines)
                exit(failure.status)
            } catch let error as ConfigurationError {
                Console.failure(error.problems)
                exit(ExitStatus.failure)
            } catch {
                Console.failure(["\(error)"])
                exit(ExitStatus.failure)
            }
        }
    }
}

/// An exit status without a message (the command has printed what it has to say).
struct ExitStatus: Error {
    var code: Int32
    static let failure: Int32 = 1
    /// The command line could not be parsed (as sysexits' EX_USAGE).
    static let usage: Int32 = 64
}

/// One line (or several) naming the cause and the fix, printed as `Error: ...` (or JSON lines); exit 1
/// unless `status` says otherwise.
struct HelperFailure: Error, CustomStringConvertible {
    let lines: [String]
    var status: Int32 = ExitStatus.failure
    init(_ description: String, status: Int32 = ExitStatus.failure) {
        self.lines = description.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        self.status = status
    }
    init(lines: [String], status: Int32 = ExitStatus.failure) {
        self.lines = lines
        self.status = status
    }
    var description: String { lines.joined(separator: "\n") }

    /// A command line that parsed but makes no sense (exit 64, as a parse error).
    static func usage(_ line: String) -> HelperFailure { HelperFailure(line, status: ExitStatus.usage) }
}

enum HelperVersion {
    static let current = "0.1.0"
}

struct VersionCommand: Subcommand {
    static let name = "version"
    static let abstract = "Print the version."
    static let concerns: [Setting.Concern] = []
    static var exitCodes: [(code: Int32, meaning: String)] { [(0, "always")] }

    init(_ invocation: Invocation) {}

    func run() async throws {
        print("aws-ecr-cred-helper \(HelperVersion.current)")
    }
}
