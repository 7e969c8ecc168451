import ArgumentParser
import SyncEngine

/// `sync`: one pass, then exit 0 only if every target namespace holds a fresh secret.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "One pass: write the secret everywhere it is missing or stale, print a per-namespace summary, exit non-zero unless every namespace is fresh."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "How long writes the API server throttles (429, 5xx) are retried before giving up on them, e.g. 5m, 90s. Default 5m.")
    var timeout: String?

    func run() async throws {
        let deadline: Duration
        if let timeout {
            guard let parsed = DurationParsing.parse(timeout), parsed > .zero else {
                throw HelperFailure("--timeout \"\(timeout)\" is not a duration like 5m, 90s or 300")
            }
            deadline = parsed
        } else {
            deadline = .seconds(300)
        }
        let runtime = try Runtime.make(settings, logging)
        let controller = SyncController(dependencies: .init(
            kube: runtime.kube, tokens: runtime.tokens, settings: runtime.settings, status: HelperStatus(), logger: runtime.logger
        ))
        let report: SyncReport
        do {
            report = try await controller.syncOnce(timeout: deadline)
        } catch let error as ConfigurationError {
            await runtime.shutdown()
            throw HelperFailure(error.problems.joined(separator: "\n"))
        } catch {
            await runtime.shutdown()
            throw HelperFailure("\(error)")
        }
        await runtime.shutdown()
        for (namespace, outcome) in report.outcomes.sorted(by: { $0.key < $1.key }) {
            print("\(namespace)\t\(outcome.label)")
        }
        for line in report.problemLines { printError(line) }
        if !report.allSucceeded {
            printError("\(report.failed.count) of \(report.outcomes.count) namespaces do not hold a fresh secret")
            throw ExitCode(2)
        }
    }
}
