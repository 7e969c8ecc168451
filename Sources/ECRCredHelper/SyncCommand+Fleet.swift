import KubeClient
import Logging
import SyncEngine

extension SyncCommand {
    /// `sync` over the fleet (or `--cluster NAME`): every cluster at once, one token fetch per region.
    /// Standard output: cluster<TAB>namespace<TAB>outcome; standard error: each failure once, prefixed by its
    /// cluster, then one summary line.
    func syncFleet(_ fleet: FleetInvocation, timeout: Duration) async throws {
        let (targets, problems) = try await FleetTargets.list(fleet, logger: invocation.logger)
        for problem in problems { Console.line(problem, level: .error) }
        let ecr = try invocation.tokenSource()
        let results = await FleetSync.syncOnce(
            targets: targets, settings: invocation.settings, tokens: SharedTokenSource(source: ecr), timeout: timeout,
            logger: controllerLogger, makeClient: FleetInvocation.oneShotClient)
        try? await ecr.shutdown()
        var failedClusters = 0
        var namespaces = 0
        var failedNamespaces = 0
        for result in results {
            if let failure = result.failure {
                failedClusters += 1
                Console.line("\(result.name): \(failure)", level: .error, metadata: ["cluster": "\(result.name)"])
                continue
            }
            guard let report = result.report else { continue }
            for (namespace, outcome) in report.outcomes.sorted(by: { $0.key < $1.key }) {
                print("\(result.name)\t\(namespace)\t\(outcome.label)")
            }
            for (namespace, line) in Self.problems(report) {
                Console.line("\(result.name): \(line)", level: .error, metadata: ["cluster": "\(result.name)", "namespace": "\(namespace)"])
            }
            namespaces += report.outcomes.count
            failedNamespaces += report.failed.count
        }
        let ok = failedClusters == 0 && failedNamespaces == 0 && problems.isEmpty
        let summary = ok
            ? "all \(results.count) clusters hold a fresh secret in all \(namespaces) namespaces"
            : "\(failedClusters) of \(results.count) clusters could not be synced; \(failedNamespaces) of \(namespaces) namespaces do not hold a fresh secret"
        Console.line(summary, level: ok ? .info : .error, metadata: [
            "clusters": "\(results.count)", "clusters_failed": "\(failedClusters)", "namespaces": "\(namespaces)", "failed": "\(failedNamespaces)",
        ])
        if !ok { throw ExitStatus(code: 2) }
    }
}
