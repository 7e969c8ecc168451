import KubeClient
import Logging
import SyncEngine

/// `sync`: one pass, then exit 0 only if every target namespace holds a fresh secret.
struct SyncCommand: Subcommand {
    static let name = "sync"
    static let abstract = "One pass: write the secret wherever it is missing or stale, print a line per namespace, exit non-zero unless every namespace holds a fresh secret."
    static let discussion = """
        For CronJobs and scripts. Standard output: one line per target namespace, namespace<TAB>written, \
        unchanged, foreign or failed. Standard error: each failure once (namespace: cause and fix), then one \
        summary line; with LOG_FORMAT=json every one of those lines is a JSON object. The pass's own progress \
        is logged only with LOG_LEVEL=debug.
        """
    static let switches = [FleetInvocation.includeLocalSwitch]
    static let concerns: [Setting.Concern] = [.locations, .awsLocation, .kubernetes, .fleet, .fleetCluster, .namespaces, .secret, .aws, .serviceAccounts, .writes, .syncPass, .logging]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every target namespace holds a fresh secret"),
            (1, "nothing could be attempted: a configuration problem, the API server unreachable, or AWS refused the login (one line each)"),
            (2, "some namespaces do not hold a fresh secret (one line each on standard error)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let source = invocation.settings
        // Every configuration problem at once (the pass's --timeout among them), before anything is contacted.
        let (values, _) = source.read()
        var reader = SettingsReader(values)
        let timeout = reader.duration(.syncTimeout, fallback: .seconds(300), minimum: .seconds(1))
        do { _ = try source.load() } catch {
            throw HelperFailure(lines: error.problems + reader.problems.map(\.line))
        }
        if !reader.problems.isEmpty { throw HelperFailure(lines: reader.problems.map(\.line)) }
        if let fleet = try invocation.fleet() {
            try await syncFleet(fleet, timeout: timeout)
            return
        }
        let tokens = try invocation.tokenSource()
        let kube: KubernetesClient
        do { kube = try invocation.oneShotKubeClient() } catch {
            try? await tokens.shutdown()
            throw error
        }
        let report: SyncReport
        do {
            try await KubeReachability.check(kube)
            let controller = SyncController(dependencies: .init(
                kube: kube, tokens: tokens, settings: source, status: HelperStatus(), logger: controllerLogger
            ))
            report = try await controller.syncOnce(timeout: timeout)
        } catch {
            try? await kube.shutdown()
            try? await tokens.shutdown()
            throw error
        }
        try? await kube.shutdown()
        try? await tokens.shutdown()
        for (namespace, outcome) in report.outcomes.sorted(by: { $0.key < $1.key }) {
            print("\(namespace)\t\(outcome.label)")
        }
        for (namespace, line) in Self.problems(report) {
            Console.line(line, level: .error, metadata: ["namespace": "\(namespace)"])
        }
        let summary = Self.summary(report)
        Console.line(summary, level: report.allSucceeded ? .info : .error, metadata: [
            "namespaces": "\(report.outcomes.count)", "failed": "\(report.failed.count)",
            "written": "\(report.written)", "unchanged": "\(report.unchanged)",
        ])
        if !report.allSucceeded { throw ExitStatus(code: 2) }
    }

    /// The controller's log during `sync`: what only it knows (throttling, a failed prune, a watch problem:
    /// notice and above) goes through; its progress (info) and its pass summary, which repeats every
    /// failure `sync` prints itself, do not, unless the user asked for debug detail. The summary is the event
    /// with the `namespaces_failed` metadata (a field, not its text). In `run` that summary is the one line a
    /// pass logs about its failures (bounded: each cause once, with a count and a few names).
    var controllerLogger: Logger {
        let user = invocation.logger
        if user.logLevel <= .debug { return user }
        let json = Console.isJSON
        var logger = Logger(label: Console.label) { label in
            PassLogHandler(base: LineLogHandler(label: label, json: json))
        }
        logger.logLevel = max(user.logLevel, .notice)
        return logger
    }

    /// One line per namespace that is not fine, by namespace.
    static func problems(_ report: SyncReport) -> [(String, String)] {
        report.outcomes.sorted { $0.key < $1.key }.compactMap { namespace, outcome in
            outcome.problem(in: namespace).map { (namespace, $0) }
        }
    }

    static func summary(_ report: SyncReport) -> String {
        let counts = "\(report.written) written, \(report.unchanged) unchanged"
        if report.allSucceeded {
            return "all \(report.outcomes.count) namespaces hold a fresh secret (\(counts))"
        }
        return "\(report.failed.count) of \(report.outcomes.count) namespaces do not hold a fresh secret (\(counts))"
    }
}
