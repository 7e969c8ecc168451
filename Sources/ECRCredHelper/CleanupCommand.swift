#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KubeClient
import Logging
import NIOPosix
import SyncEngine

/// `cleanup`: for uninstall. Removes this installation's secrets (labelled with its INSTANCE, or without an
/// installation label in the namespaces it selects) and the `imagePullSecrets` entries it claims, in one
/// cluster or each cluster of a fleet through the same `ClusterCleanup`. Nothing else is touched.
struct CleanupCommand: Subcommand {
    static let name = "cleanup"
    static let abstract = "Remove this installation's secrets (and its imagePullSecrets entries) from the namespaces it selects; nothing another installation or anyone else wrote is touched."
    static let discussion = """
        For uninstalling. Needs no AWS credentials. Removes secrets labelled with this INSTANCE in the namespaces \
        NAMESPACES, NAMESPACE_SELECTOR and EXCLUDE_NAMESPACES select (--all-namespaces: in every namespace), \
        and secrets without an installation label (written by earlier versions) in the selected namespaces. \
        On a terminal it shows what it will remove and asks; --yes does not ask; without a terminal and without \
        --yes it only lists, as --dry-run. Ends with one summary line.
        """
    static let concerns: [Setting.Concern] = [.locations, .kubernetes, .fleet, .fleetCluster, .namespaces, .secret, .serviceAccounts, .logging]
    static let switches = [
        Switch(name: "dry-run", help: "Only print what would be removed."),
        Switch(name: "yes", help: "Remove without asking (needed without a terminal)."),
        Switch(name: "all-namespaces", help: "Also remove this installation's labelled secrets from namespaces its settings no longer select (never another installation's)."),
        FleetInvocation.includeLocalSwitch,
    ]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every secret of this installation is gone; or it was only listed (--dry-run, or neither --yes nor a terminal); or the question was answered no"),
            (1, "something could not be removed or listed (one line each)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    var allNamespaces: Bool { invocation.switches.contains("all-namespaces") }
    init(_ invocation: Invocation) { self.invocation = invocation }

    /// One cluster's part: its name in a fleet (nil alone), its client, its scope and its plan.
    struct ClusterWork {
        var name: String?
        var client: KubernetesClient
        var scope: ClusterCleanup.Scope
        var plan: ClusterCleanup.Plan
    }

    /// How the removal was confirmed.
    enum Mode: Equatable {
        case remove
        case dryRun
        /// No terminal and no --yes: list, and say how to confirm.
        case unconfirmed
        /// Asked on the terminal, and the answer was not yes.
        case declined
    }

    func run() async throws {
        let settings = try loadSettings()
        let scope = ClusterCleanup.Scope(
            installation: settings.installation, secretName: settings.secretName, serviceAccounts: settings.serviceAccounts,
            namespaces: settings.namespaces, allNamespaces: allNamespaces)
        var failures = 0
        var work: [ClusterWork] = []
        if let fleet = try invocation.fleet() {
            let (targets, problems) = try await FleetTargets.list(fleet, logger: invocation.logger)
            failures += problems.count
            for problem in problems { Console.line(problem) }
            for target in targets {
                switch await planCluster(target, scope: scope) {
                case .success(let cluster): work.append(cluster)
                case .failure(let failure):
                    failures += 1
                    Console.line("\(target.name): \(failure.description)", metadata: ["cluster": "\(target.name)"])
                }
            }
        } else {
            let kube = try invocation.oneShotKubeClient()
            do {
                try await KubeReachability.check(kube)
                work.append(ClusterWork(name: nil, client: kube, scope: scope, plan: try await ClusterCleanup.plan(kube, scope: scope)))
            } catch let failure as HelperFailure {
                try? await kube.shutdown()
                throw failure
            } catch {
                try? await kube.shutdown()
                throw HelperFailure("\(error) (\(Self.permissionHint(scope)))")
            }
        }
        let toRemove = work.reduce(0) { $0 + $1.plan.toRemove }
        let mode = try await confirm(work, scope: scope, toRemove: toRemove)
        if mode == .declined {
            for cluster in work { try? await cluster.client.shutdown() }
            Swift.print("nothing was removed")
            return
        }
        var report = CleanupReport()
        let progress = Progress(total: toRemove)
        for cluster in work {
            let result = await ClusterCleanup.execute(
                cluster.client, plan: cluster.plan, scope: cluster.scope, dryRun: mode != .remove, logger: invocation.logger,
                progress: { [done = report.secrets] in progress.report(done + $0) })
            printLines(cluster.name, result)
            report = report + result
            try? await cluster.client.shutdown()
        }
        Swift.print(report.summary(dryRun: mode != .remove))
        if let hint = report.otherInstallationsHint(scope.installation) { Console.line(hint, level: .notice) }
        if mode == .unconfirmed {
            Console.line("nothing was removed: no terminal to ask on; run again with --yes to remove them", level: .notice)
        }
        if failures + report.failures > 0 { throw ExitStatus(code: 1) }
    }

    /// The settings; with `--all-namespaces` NAMESPACES may be missing (then only this installation's
    /// labelled secrets go, since no namespace is selected to adopt unlabelled ones in).
    func loadSettings() throws -> HelperSettings {
        let source = invocation.settings
        switch Result(catching: { () throws(ConfigurationError) -> HelperSettings in try source.load() }) {
        case .success(let settings): return settings
        case .failure(let error):
            guard allNamespaces, error.issues.allSatisfy({ $0.setting == .namespaces && $0.kind == .missing }) else { throw error }
            var withoutNamespaces = source
            withoutNamespaces.concerns.remove(.namespaces)
            return try withoutNamespaces.load()
        }
    }

    /// One fleet cluster reached and planned, or why not.
    /// A cluster whose kubeconfig Secret names its own namespaces (NamespaceOverride) is cleaned up in those,
    /// as `run` and `sync` serve them.
    func planCluster(_ target: ClusterTarget, scope: ClusterCleanup.Scope) async -> Result<ClusterWork, HelperFailure> {
        var scope = scope
        if !target.namespaceOverride.isEmpty {
            switch target.namespaceOverride.selection() {
            case .success(let selection): scope.namespaces = selection
            case .failure(let error): return .failure(HelperFailure(error.description))
            }
        }
        switch target.connection {
        case .failure(let error): return .failure(HelperFailure(error.description))
        case .success(let configuration):
            let client: KubernetesClient
            do { client = try FleetInvocation.oneShotClient(configuration, invocation.logger) } catch { return .failure(HelperFailure("\(error)")) }
            if let problem = await FleetSync.reachability(client) {
                try? await client.shutdown()
                return .failure(HelperFailure(problem))
            }
            do {
                return .success(ClusterWork(name: target.name, client: client, scope: scope, plan: try await ClusterCleanup.plan(client, scope: scope)))
            } catch {
                try? await client.shutdown()
                return .failure(HelperFailure("\(error) (\(Self.permissionHint(scope)))"))
            }
        }
    }

    static func permissionHint(_ scope: ClusterCleanup.Scope) -> String {
        scope.namespaces.labelSelector == nil
            ? "cleanup needs list and delete on secrets named \(scope.secretName)"
            : "cleanup needs list and delete on secrets named \(scope.secretName), and list on namespaces for NAMESPACE_SELECTOR"
    }

    /// --dry-run; --yes; on a terminal, the plan and a y/N question; else the plan and a hint.
    func confirm(_ work: [ClusterWork], scope: ClusterCleanup.Scope, toRemove: Int) async throws -> Mode {
        if invocation.switches.contains("dry-run") { return .dryRun }
        if invocation.switches.contains("yes") || toRemove == 0 { return .remove }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return .unconfirmed }
        for cluster in work {
            for (namespace, action) in cluster.plan.actions where action == .remove {
                Swift.print(([cluster.name, namespace, "will remove"] as [String?]).compactMap { $0 }.joined(separator: "\t"))
            }
        }
        let clusters = work.count > 1 ? " in \(work.count) clusters" : ""
        // The question on standard error without a line break, so the answer is typed after it.
        LineLogHandler.write("Remove \(toRemove) secret\(toRemove == 1 ? "" : "s") of installation \(scope.installation)\(clusters), and the ServiceAccount entries it added? [y/N] ")
        // Waiting for the user must not hold a thread of the cooperative pool.
        let answer = try await NIOThreadPool.singleton.runIfActive { readLine(strippingNewline: true) }
        guard let answer, ["y", "yes"].contains(answer.trimmingASCIIWhitespace().lowercased()) else { return .declined }
        return .remove
    }

    /// `<namespace>\t<outcome>`, or `<cluster>\t<namespace>\t<outcome>` in a fleet; failures on stderr.
    func printLines(_ cluster: String?, _ report: CleanupReport) {
        for (namespace, outcome) in report.lines {
            if case .failed(let reason) = outcome {
                let prefix = cluster.map { "\($0): " } ?? ""
                var metadata: Logger.Metadata = ["namespace": "\(namespace)"]
                if let cluster { metadata["cluster"] = "\(cluster)" }
                Console.line("\(prefix)\(namespace): \(reason)", metadata: metadata)
            } else {
                Swift.print(([cluster, namespace, outcome.text] as [String?]).compactMap { $0 }.joined(separator: "\t"))
            }
        }
    }

    /// A line on standard error every so many removals: every 100 on a terminal, every 1,000 on a long
    /// run elsewhere (a log), none on a short one.
    struct Progress: Sendable {
        let total: Int
        let every: Int?

        init(total: Int) {
            self.total = total
            if isatty(STDERR_FILENO) == 1 && total > 100 {
                every = 100
            } else if total >= 2000 {
                every = 1000
            } else {
                every = nil
            }
        }

        func report(_ done: Int) {
            guard let every, done % every == 0, done < total else { return }
            Console.line("removed \(done) of \(total) secrets", level: .notice)
        }
    }
}
