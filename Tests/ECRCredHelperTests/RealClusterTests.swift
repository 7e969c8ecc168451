#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// What a whole control plane does around the helper: the controller manager creating `default`
    /// ServiceAccounts a moment after their namespace, label changes that deselect a namespace, and the API
    /// server itself going away and coming back (that one needs a real server of its own).
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct RealClusterTests {
        /// CI sets REQUIRE_REAL_APISERVER=1: a run without the real server is a failure there, not a skip.
        @Test func realServerIsPresentWhenRequired() {
            if ProcessInfo.processInfo.environment["REQUIRE_REAL_APISERVER"] == "1" {
                #expect(RealAPIServer.isAvailable, "\(RealAPIServer.missingReason)")
            }
        }

        /// `PRUNE_UNSELECTED=true`: a namespace that stops matching the selector loses our secret (and only ours).
        @Test(arguments: APIServerKind.enabled)
        func pruneRemovesTheSecretFromANamespaceThatStopsMatching(_ kind: APIServerKind) async throws {
            let label = "ecr-pull-" + uniqueSuffix(5)
            let rules = PolicyRule.originalHelperRole() + [
                PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"]),
                PolicyRule(resources: ["secrets"], verbs: ["delete"], resourceNames: [HelperWorld.secretName]),
            ]
            let first = "prune-\(label)-a", second = "prune-\(label)-b"
            try await HelperWorld.with(kind, namespaces: ["default"], rules: rules) { world in
                try await world.createNamespace(first, labels: [label: "true"])
                try await world.createNamespace(second, labels: [label: "true"])
                try world.writeAWSFiles()
                try world.writeConfig("NAMESPACE_SELECTOR", "\(label)=true\n")
                try world.writeConfig("SECRET_NAME", world.secretName + "\n")
                try world.writeConfig("PRUNE_UNSELECTED", "true\n")
                try await world.running { process in
                    try await world.waitForSecrets([first, second], process: process)
                    // Relabel: the namespace watch sees it leave the selection.
                    try await world.labelNamespace(second, [label: "false"])
                    try await eventually("the secret pruned from \(second)", timeout: .seconds(20)) {
                        await world.secret(second) == nil
                    }
                    #expect(await world.secret(first) != nil, "the namespace still selected lost its secret")
                    #expect(process.isRunning, "\(process.stderr.suffix(2000))")
                }
            }
        }

        /// The controller manager creates a new namespace's `default` ServiceAccount a moment after the
        /// namespace; the helper reacts to the namespace faster than that. The first pods of a new namespace
        /// pull with that ServiceAccount, so it must get the pull secret within seconds, not at the next
        /// resync. On the real server the controller manager creates it; on the stand-in the test does, after
        /// the helper has written the secret (the losing side of that race, made certain).
        @Test(arguments: APIServerKind.enabled)
        func newNamespacesDefaultServiceAccountIsPatchedOnceItIsCreated(_ kind: APIServerKind) async throws {
            let prefix = "sa-" + uniqueSuffix(5)
            let rules = PolicyRule.originalHelperRole() + [
                PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"]),
                PolicyRule(resources: ["serviceaccounts"], verbs: ["get", "patch"], resourceNames: ["default"]),
            ]
            try await HelperWorld.with(kind, namespaces: ["default"], rules: rules) { world in
                try world.writeOriginalConfig(namespaces: ["\(prefix)-*"])
                try world.writeConfig("PATCH_SERVICE_ACCOUNTS", "true\n")
                try await world.running { process in
                    try await process.waitForLog("sync complete")
                    for suffix in ["a", "b", "c"] {
                        let namespace = "\(prefix)-\(suffix)"
                        try await world.createNamespace(namespace)
                        if kind == .standIn {
                            try await world.waitForSecrets([namespace], process: process)
                            try await world.put("serviceaccounts", namespace: namespace, [
                                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"],
                            ])
                        }
                        try await eventually("default ServiceAccount in \(namespace) lists the pull secret", timeout: .seconds(20), poll: .milliseconds(100)) {
                            let account = try? await world.object("serviceaccounts", namespace: namespace, name: "default")
                            let names = account?["imagePullSecrets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                            return names.contains(world.secretName)
                        }
                    }
                    #expect(process.isRunning, "\(process.stderr.suffix(2000))")
                }
            }
        }

        /// A control-plane restart (upgrade, crash) while `run` is up: the watches come back by themselves
        /// against the same etcd data, and repairs work again without restarting the helper.
        @Test(arguments: APIServerKind.realOnly)
        func apiServerRestartWhileRunning(_ kind: APIServerKind) async throws {
            let server = try await RealAPIServer.startPrivate()
            do {
                try await restartWhileRunning(kind, server)
                await server.stop()
            } catch {
                await server.stop()
                throw error
            }
        }

        private func restartWhileRunning(_ kind: APIServerKind, _ server: RealAPIServer) async throws {
            let rules = PolicyRule.originalHelperRole()
            try await HelperWorld.with(kind, namespaces: ["default", "team-a"], rules: rules, realServer: server) { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(port)"]) { process in
                    try await world.waitForSecrets(["default", "team-a"], process: process)
                    _ = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200)

                    try await server.restart()
                    #expect(process.isRunning, "\(process.stderr.suffix(3000))")
                    // Ready through the outage: the secrets it wrote are still valid.
                    #expect((await HTTPProbe.get(port: port, "/readyz"))?.status == 200)

                    // The secret watch is back: a deleted secret is restored without a restart of the helper.
                    try await world.delete("secrets", namespace: "team-a", name: world.secretName)
                    try await world.waitForSecrets(["team-a"], timeout: .seconds(60), process: process)
                    #expect(process.stderr.components(separatedBy: "starting").count == 2, "the helper restarted")

                    process.terminate()
                    #expect(try await process.wait(timeout: .seconds(20)) == .exited(0), "\(process.stderr.suffix(2000))")
                }
            }
        }
    }
}
