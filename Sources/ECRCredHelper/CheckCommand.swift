#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import KubeClient
import SyncEngine

/// `check`: validates the configuration, makes one AWS call, and asks the API server
/// (SelfSubjectAccessReview) whether every verb the helper needs is allowed; prints the rule to add for
/// anything missing. Exit code 0 only when everything passes.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration, make one AWS call, and check RBAC for every verb the helper needs; print the rule to add for anything missing."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var logging: LoggingOptions

    struct Requirement {
        var what: String
        var verb: String
        var resource: String
        var group: String = ""
        var namespace: String?
        var name: String?
        var rule: String
    }

    func run() async throws {
        let runtime = try Runtime.make(settings, logging)
        var table = TextTable(header: ["CHECK", "RESULT", "DETAIL"])
        var fixes: [String] = []
        var failed = false
        defer { print(table.render()) }

        let helperSettings: HelperSettings
        do {
            helperSettings = try runtime.settings.load()
            table.rows.append(["configuration", "ok", "\(helperSettings.namespaces.include.count) namespace entries, secret \(helperSettings.secretName)"])
        } catch {
            for problem in error.problems { table.rows.append(["configuration", "FAIL", problem]) }
            await runtime.shutdown()
            throw ExitCode(1)
        }

        do {
            let login = try await runtime.tokens.fetchLogin(for: helperSettings.aws)
            let hosts = login.credentials.map(\.host).joined(separator: ",")
            table.rows.append(["aws GetAuthorizationToken", "ok", hosts])
        } catch {
            failed = true
            table.rows.append(["aws GetAuthorizationToken", "FAIL", "\(error)"])
        }

        let environment = runtime.environment
        for requirement in requirements(helperSettings, environment: environment) {
            let scope = requirement.namespace.map { "in \($0)" } ?? "cluster-wide"
            let label = "\(requirement.what) (\(requirement.verb) \(requirement.resource)\(requirement.name.map { "/\($0)" } ?? "") \(scope))"
            do {
                let allowed = try await runtime.kube.canI(
                    verb: requirement.verb, resource: requirement.resource, group: requirement.group,
                    namespace: requirement.namespace, name: requirement.name
                )
                table.rows.append([label, allowed ? "ok" : "FAIL", allowed ? "" : "missing RBAC"])
                if !allowed {
                    failed = true
                    if !fixes.contains(requirement.rule) { fixes.append(requirement.rule) }
                }
            } catch {
                failed = true
                table.rows.append([label, "FAIL", "\(error)"])
            }
        }
        await runtime.shutdown()
        if !fixes.isEmpty {
            table.rows.append(["", "", ""])
            table.rows.append(["add to the ClusterRole", "", ""])
            for fix in fixes { table.rows.append(["  " + fix, "", ""]) }
        }
        if failed { throw ExitCode(1) }
    }

    func requirements(_ settings: HelperSettings, environment: [String: String]) -> [Requirement] {
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
        if let podNamespace = environment["POD_NAMESPACE"] {
            list.append(Requirement(
                what: "record events", verb: "create", resource: "events", namespace: podNamespace,
                rule: "- {apiGroups: [\"\"], resources: [\"events\"], verbs: [\"create\", \"patch\"]}  # in a Role in \(podNamespace)"
            ))
            if ["true", "1", "yes", "on"].contains(environment["LEADER_ELECTION"]?.lowercased() ?? "") {
                let leaseNamespace = environment["LEADER_ELECTION_NAMESPACE"] ?? podNamespace
                let rule = "- {apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\"]}  # in a Role in \(leaseNamespace)"
                for verb in ["get", "create", "update"] {
                    list.append(Requirement(what: "leader election", verb: verb, resource: "leases", group: "coordination.k8s.io", namespace: leaseNamespace, rule: rule))
                }
            }
        }
        return list
    }
}
