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

    func run() async throws {
        let runtime = try Runtime.make(settings, logging)
        let controller = SyncController(dependencies: .init(
            kube: runtime.kube, tokens: runtime.tokens, settings: runtime.settings, status: HelperStatus(), logger: runtime.logger
        ))
        let report: SyncReport
        do {
            report = try await controller.syncOnce()
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
