#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import SyncEngine

/// `check`: validates the configuration, makes one AWS call, and asks the API server
/// (SelfSubjectAccessReview) whether every verb the helper needs is allowed; prints the rule to add for
/// anything missing. Exit code 0 only when everything passes.
struct CheckCommand: Subcommand {
    static let name = "check"
    static let abstract = "Validate the configuration, make one AWS call, and check RBAC for every verb the helper needs; print the rule to add for anything missing."
    static let discussion = """
        Run it with the helper's own identity (its kubeconfig or ServiceAccount) before a rollout. It writes \
        nothing. When the configuration is invalid nothing is contacted; when the API server cannot be \
        reached the RBAC rows are skipped.
        """
    static let concerns: [Setting.Concern] = [.locations, .awsLocation, .kubernetes, .namespaces, .secret, .aws, .serviceAccounts, .leaderElection, .pod, .logging]
    static var exitCodes: [(code: Int32, meaning: String)] {
        [
            (0, "every check passed"),
            (1, "something failed: the table's FAIL rows say what, and the rules to add follow it"),
            (64, "the command line could not be parsed"),
        ]
    }

    static let options = [OutputFormat.option([.json, .yaml])]

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    struct Requirement {
        var what: String
        var verb: String
        var resource: String
        var group: String = ""
        var namespace: String?
        var name: String?
        var rule: String
    }

    /// Prints the report, complete or as far as it got, in the format asked for.
    func run() async throws {
        var report = CheckReport()
        let format = OutputFormat(invocation)
        do {
            try await check(into: &report)
        } catch {
            print(report.render(format, passed: false), terminator: "")
            throw error
        }
        print(report.render(format, passed: true), terminator: "")
    }

    func check(into report: inout CheckReport) async throws {

        // The configuration, every problem at once; nothing is contacted while it is invalid.
        let source = invocation.settings
        let (values, readProblems) = source.read()
        var reader = SettingsReader(values)
        let helperSettings = HelperSettings.read(&reader, concerns: Set(Self.concerns).intersection(HelperSettings.concerns))
        let kubeConfiguration: KubeConfiguration?
        var kubeProblem: String?
        do { kubeConfiguration = try invocation.kubeConfiguration() } catch {
            kubeConfiguration = nil
            kubeProblem = "\(error)"
        }
        let process = ProcessSettings.read(
            &reader, concerns: [.leaderElection, .pod], kubeNamespace: kubeConfiguration?.namespace, hostname: nil
        )
        let problems = readProblems.map(\.line) + reader.problems.map(\.line)
        guard problems.isEmpty else {
            for problem in problems { report.add("configuration", .fail, problem) }
            throw ExitStatus(code: 1)
        }
        report.add("configuration", .ok, "\(helperSettings.namespaces.include.count) namespace entries, secret \(helperSettings.secretName)")

        var failed = false
        let tokens = try invocation.tokenSource()
        do {
            let login = try await tokens.fetchLogin(for: helperSettings.aws)
            report.add("aws GetAuthorizationToken", .ok, login.credentials.map(\.host).joined(separator: ","))
        } catch {
            failed = true
            report.add("aws GetAuthorizationToken", .fail, "\(error)")
        }
        try? await tokens.shutdown()

        // The API server once; when it cannot be reached, every rule would say the same.
        guard var configuration = kubeConfiguration else {
            report.add("kubernetes API server", .fail, kubeProblem ?? "")
            report.add("RBAC", .skipped, "no Kubernetes configuration")
            throw ExitStatus(code: 1)
        }
        configuration.retriesFailedConnections = false
        let kube = try KubernetesClient(configuration: configuration, logger: invocation.logger)
        do {
            try await KubeReachability.check(kube)
            report.add("kubernetes API server", .ok, configuration.server)
        } catch {
            try? await kube.shutdown()
            report.add("kubernetes API server", .fail, "\(error)")
            report.add("RBAC", .skipped, "the API server could not be reached")
            throw ExitStatus(code: 1)
        }

        for requirement in requirements(helperSettings, process: process) {
            let scope = requirement.namespace.map { "in \($0)" } ?? "cluster-wide"
            let label = "\(requirement.what) (\(requirement.verb) \(requirement.resource)\(requirement.name.map { "/\($0)" } ?? "") \(scope))"
            do {
                let allowed = try await kube.canI(
                    verb: requirement.verb, resource: requirement.resource, group: requirement.group,
                    namespace: requirement.namespace, name: requirement.name
                )
                report.add(label, allowed ? .ok : .fail, allowed ? "" : "missing RBAC")
                if !allowed {
                    failed = true
                    if !report.rulesToAdd.contains(requirement.rule) { report.rulesToAdd.append(requirement.rule) }
                }
            } catch {
                failed = true
                report.add(label, .fail, "\(error)")
            }
        }
        try? await kube.shutdown()
        if failed { throw ExitStatus(code: 1) }
    }

    func requirements(_ settings: HelperSettings, process: ProcessSettings) -> [Requirement] {
        let name = settings.secretName
        let secretRule = "- {apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"get\", \"list\", \"watch\", \"patch\", \"create\"], resourceNames: [\"\(name)\"]}"
        var list: [Requirement] = [
            Requirement(what: "watch managed secrets", verb: "list", resource: "secrets", name: name, rule: secretRule),
            Requirement(what: "watch managed secrets", verb: "watch", resource: "secrets", name: name, rule: secretRule),
        ]
        let namespaces = settings.namespaces.isExplicitList ? settings.namespaces.explicitNames : []
        if !settings.namespaces.isExplicitList {
            let rule = "- {apiGroups: [\"\"], resources: [\"namespaces\"], verbs: [\"list\", \"watch\"]}"
            list.append(Requirement(what: "match namespaces", verb: "list", resource: "namespaces", rule: rule))
            list.append(Requirement(what: "match namespaces", verb: "watch", resource: "namespaces", rule: rule))
        }
        for namespace in namespaces {
            list.append(Requirement(what: "write secret", verb: "patch", resource: "secrets", namespace: namespace, name: name, rule: secretRule))
            list.append(Requirement(what: "create secret", verb: "create", resource: "secrets", namespace: namespace, name: name, rule: secretRule))
            for account in settings.serviceAccounts {
                let rule = "- {apiGroups: [\"\"], resources: [\"serviceaccounts\"], verbs: [\"get\", \"patch\"], resourceNames: [\"\(account)\"]}"
                list.append(Requirement(what: "patch ServiceAccount", verb: "get", resource: "serviceaccounts", namespace: namespace, name: account, rule: rule))
                list.append(Requirement(what: "patch ServiceAccount", verb: "patch", resource: "serviceaccounts", namespace: namespace, name: account, rule: rule))
            }
        }
        if let podNamespace = process.podNamespace {
            list.append(Requirement(
                what: "record events", verb: "create", resource: "events", namespace: podNamespace,
                rule: "- {apiGroups: [\"\"], resources: [\"events\"], verbs: [\"create\", \"patch\"]}  # in a Role in \(podNamespace)"
            ))
        }
        if let election = process.leaderElection {
            let leaseNamespace = election.namespace
            let rule = "- {apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\"]}  # in a Role in \(leaseNamespace)"
            for verb in ["get", "create", "update"] {
                list.append(Requirement(what: "leader election", verb: verb, resource: "leases", group: "coordination.k8s.io", namespace: leaseNamespace, rule: rule))
            }
        }
        return list
    }
}
