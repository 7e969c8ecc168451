#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import Logging
import SyncEngine

/// `status`: one row per target namespace: does the secret exist, who manages it, which registries, when
/// it was refreshed and when it expires. In fleet mode one row per cluster, and `--cluster NAME` the
/// namespaces of one. Reads only; makes no AWS call.
struct StatusCommand: Subcommand {
    static let name = "status"
    static let abstract = "Show, per target namespace, whether the secret exists, who manages it, its registries, and when it was refreshed and expires."
    static let discussion = "Reads the cluster only; needs no AWS credentials. EXPIRES is the token's expiry as the helper wrote it. With fleet targets (CLUSTERS_DIR, CLUSTER_SECRET_SELECTOR): a row per cluster; --cluster NAME shows the namespaces of that cluster. -o json or yaml prints the same as one document (docs/output.md), with the same exit codes; -o wide adds columns."
    static let switches = [FleetInvocation.includeLocalSwitch]
    static let options = [OutputFormat.option([.wide, .json, .yaml])]
    static let concerns: [Setting.Concern] = [.locations, .kubernetes, .fleet, .fleetCluster, .namespaces, .secret, .logging]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every target namespace holds an unexpired secret managed by the helper or adoptable by it (in every cluster of a fleet)"),
            (1, "status could not be read: a configuration problem or the API server unreachable (one line)"),
            (2, "some namespace's secret is missing, expired or foreign, or some cluster could not be read (the table says which)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let helperSettings = try invocation.settings.load()
        if let fleet = try invocation.fleet() {
            try await fleetStatus(fleet, settings: helperSettings)
            return
        }
        let kube = try invocation.oneShotKubeClient()
        let rows: [ClusterInspection.Row]
        do {
            try await KubeReachability.check(kube)
            rows = try await ClusterInspection.rows(kube, settings: helperSettings)
        } catch {
            try? await kube.shutdown()
            throw HelperFailure("\(error)")
        }
        try? await kube.shutdown()
        print(StatusReport.namespaces(rows, settings: helperSettings, format: OutputFormat(invocation)), terminator: "")
        if !rows.allSatisfy(\.isFresh) { throw ExitStatus(code: 2) }
    }

    /// A row per cluster, read all at once (an unreachable one fails alone); with --cluster, that
    /// cluster's namespaces as in single-cluster mode.
    func fleetStatus(_ fleet: FleetInvocation, settings: HelperSettings) async throws {
        let format = OutputFormat(invocation)
        let logger = invocation.logger
        let (targets, problems) = try await FleetTargets.list(fleet, logger: logger)
        let base = invocation.settings
        if fleet.settings.cluster != nil, let target = targets.first {
            let (rows, failure) = await Self.inspect(target, base: base, logger: logger)
            if let failure { throw HelperFailure("\(target.name): \(failure)") }
            print(StatusReport.namespaces(rows ?? [], settings: settings, cluster: target.name, format: format), terminator: "")
            if !(rows ?? []).allSatisfy(\.isFresh) { throw ExitStatus(code: 2) }
            return
        }
        typealias Inspected = (summary: ClusterInspection.Summary, rows: [ClusterInspection.Row])
        let clusters = await withTaskGroup(of: Inspected.self) { group in
            for target in targets {
                group.addTask {
                    let server = (try? target.connection.get())?.server ?? "-"
                    let (rows, failure) = await Self.inspect(target, base: base, logger: logger)
                    if let failure { return (ClusterInspection.unreadable(cluster: target.name, server: server, source: target.origin, reason: failure), []) }
                    return (ClusterInspection.summary(cluster: target.name, server: server, source: target.origin, rows: rows ?? []), rows ?? [])
                }
            }
            var all: [Inspected] = []
            for await inspected in group { all.append(inspected) }
            return all.sorted { $0.summary.cluster < $1.summary.cluster }
        }
        let summaries = clusters.map(\.summary)
        print(StatusReport.clusters(clusters, problems: problems, settings: settings, format: format), terminator: "")
        for summary in summaries where summary.condition == .unreadable {
            Console.line("\(summary.cluster): \(summary.state)", level: .error, metadata: ["cluster": "\(summary.cluster)"])
        }
        for problem in problems { Console.line(problem, level: .error) }
        if !summaries.allSatisfy(\.isOK) || !problems.isEmpty { throw ExitStatus(code: 2) }
    }

    /// One cluster's rows, or why they could not be read (one line).
    static func inspect(_ target: ClusterTarget, base: FileSettingsSource, logger: Logger) async -> (rows: [ClusterInspection.Row]?, failure: String?) {
        let configuration: KubeConfiguration
        switch target.connection {
        case .failure(let error): return (nil, error.description)
        case .success(let value): configuration = value
        }
        let settings: HelperSettings
        do {
            settings = try OverriddenSettingsSource(base: base, override: target.namespaceOverride).load()
        } catch {
            return (nil, error.problems.joined(separator: "; "))
        }
        let client: KubernetesClient
        do { client = try FleetInvocation.oneShotClient(configuration, logger) } catch { return (nil, "\(error)") }
        defer { Task { try? await client.shutdown() } }
        if let problem = await FleetSync.reachability(client) { return (nil, problem) }
        do {
            return (try await ClusterInspection.rows(client, settings: settings), nil)
        } catch {
            return (nil, "\(error)")
        }
    }
}
