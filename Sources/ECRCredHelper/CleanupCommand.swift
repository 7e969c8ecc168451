import KubeClient
import Logging
import SyncEngine

/// `cleanup`: for uninstall. Deletes the secrets this helper manages (found by name across all namespaces,
/// deleted only when labelled as ours) and removes its ServiceAccount references. Nothing else is touched.
struct CleanupCommand: Subcommand {
    static let name = "cleanup"
    static let abstract = "Remove the secrets this helper manages (and its imagePullSecrets entries) from every namespace; nothing it does not own is touched."
    static let discussion = "For uninstalling. Needs no AWS credentials. A secret of that name without the helper's managed-by label is kept and listed."
    static let concerns: [Setting.Concern] = [.locations, .kubernetes, .fleet, .fleetCluster, .secret, .serviceAccounts, .logging]
    static let switches = [Switch(name: "dry-run", help: "Only print what would be removed.")]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every managed secret is gone (or, with --dry-run, was listed)"),
            (1, "something could not be removed or listed (one line each)"),
            (64, "the command line could not be parsed"),
        ]
    }

    let invocation: Invocation
    var dryRun: Bool { invocation.switches.contains("dry-run") }
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let settings = try invocation.settings.load()
        let secretName = settings.secretName
        let accounts = settings.serviceAccounts
        if let fleet = try invocation.fleet() {
            try await cleanupFleet(fleet, secretName: secretName, accounts: accounts)
            return
        }
        let kube = try invocation.oneShotKubeClient()
        var failures = 0
        do {
            try await KubeReachability.check(kube)
            let list = try await kube.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=\(secretName)")
            let patcher = ServiceAccountPatcher(client: kube, logger: invocation.logger)
            for secret in list.items.sorted(by: { ($0.metadata.namespace ?? "") < ($1.metadata.namespace ?? "") }) {
                guard let namespace = secret.metadata.namespace else { continue }
                guard secret.metadata.labels?[DesiredSecret.managedByLabel] == "aws-ecr-cred-helper" else {
                    print("\(namespace)\tkept (not managed by aws-ecr-cred-helper)")
                    continue
                }
                if dryRun {
                    print("\(namespace)\twould remove")
                    continue
                }
                do {
                    try await patcher.remove(secretName: secretName, serviceAccounts: accounts, namespace: namespace)
                    try await kube.delete(Secret.self, namespace: namespace, name: secretName)
                    print("\(namespace)\tremoved")
                } catch {
                    failures += 1
                    Console.line("\(namespace): \(error)", metadata: ["namespace": "\(namespace)"])
                }
            }
        } catch let failure as HelperFailure {
            try? await kube.shutdown()
            throw failure
        } catch {
            try? await kube.shutdown()
            throw HelperFailure("\(error) (cleanup needs list and delete on secrets named \(secretName))")
        }
        try? await kube.shutdown()
        if failures > 0 { throw ExitStatus(code: 1) }
    }

    /// In fleet mode: every cluster, or only `--cluster NAME`. Standard output: cluster<TAB>namespace<TAB>what was done.
    func cleanupFleet(_ fleet: FleetInvocation, secretName: String, accounts: [String]) async throws {
        let logger = invocation.logger
        let (targets, problems) = try await FleetTargets.list(fleet, logger: logger)
        var failures = problems.count
        for problem in problems { Console.line(problem) }
        for target in targets {
            let failure: String?
            switch target.connection {
            case .failure(let error): failure = error.description
            case .success(let configuration):
                do {
                    let client = try FleetInvocation.oneShotClient(configuration, logger)
                    if let problem = await FleetSync.reachability(client) {
                        failure = problem
                    } else {
                        do {
                            let results = try await ClusterCleanup.run(client, secretName: secretName, serviceAccounts: accounts, dryRun: dryRun, logger: logger)
                            for (namespace, outcome) in results {
                                if case .failed(let reason) = outcome {
                                    failures += 1
                                    Console.line("\(target.name): \(namespace): \(reason)", metadata: ["cluster": "\(target.name)", "namespace": "\(namespace)"])
                                } else {
                                    print("\(target.name)\t\(namespace)\t\(outcome.text)")
                                }
                            }
                            failure = nil
                        } catch {
                            failure = "\(error) (cleanup needs list and delete on secrets named \(secretName))"
                        }
                    }
                    try? await client.shutdown()
                } catch {
                    failure = "\(error)"
                }
            }
            if let failure {
                failures += 1
                Console.line("\(target.name): \(failure)", metadata: ["cluster": "\(target.name)"])
            }
        }
        if failures > 0 { throw ExitStatus(code: 1) }
    }
}
