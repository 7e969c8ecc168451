#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeTestServer
import TestSupport
import Testing

/// Two replicas with `LEADER_ELECTION=true`: one Lease holder writes, the other waits; a graceful stop
/// hands over at once, a crash within the lease duration.
@Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
struct LeaderElectionTests {
    static let replicaBUser = "system:serviceaccount:kube-system:aws-ecr-cred-helper-b"
    static let rules = PolicyRule.originalHelperRole() + [
        PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"])
    ]

    @Test func onlyTheLeaderWritesAndAnotherTakesOverOnStopAndOnCrash() async throws {
        let tokenB = "kube-token-b-" + UUID().uuidString.lowercased()
        try await HelperWorld.with(
            namespaces: ["default", "kube-system", "team-a"], rules: Self.rules,
            extraUsers: [TestUser(name: Self.replicaBUser, token: tokenB, rules: Self.rules)]
        ) { world in
            try world.writeOriginalConfig(namespaces: ["default", "team-a"])
            // Each replica has its own identity (its user in the request log, its pod name in the Lease).
            let kubeconfigB = world.directory + "/kubeconfig-b"
            try world.server.writeKubeconfig(to: kubeconfigB, token: tokenB)
            let common = ["LEADER_ELECTION": "true", "POD_NAMESPACE": "kube-system"]
            func replicaA() throws -> ChildProcess {
                try world.launch("run", environment: common.merging(["POD_NAME": "replica-a"]) { $1 })
            }
            let portB = try HTTPProbe.freePort()
            func replicaB() throws -> ChildProcess {
                try world.launch(
                    "run", ["--config-dir", world.configDirectory, "--aws-config-dir", world.awsConfigDirectory, "--kubeconfig", kubeconfigB],
                    environment: common.merging(["POD_NAME": "replica-b", "HTTP_PORT": "\(portB)"]) { $1 }, locations: false
                )
            }
            @Sendable func leaderGauge() async -> Double? {
                guard let answer = await HTTPProbe.get(port: portB, "/metrics") else { return nil }
                return PrometheusText(answer.body).values("aws_ecr_cred_helper_leader").first?.value
            }

            let a = try replicaA()
            defer { a.killNow() }
            try await eventually("replica-a leading", timeout: .seconds(20)) { await world.leaseHolder() == "replica-a" }
            try await world.waitForSecrets(["default", "team-a"], process: a)

            let b = try replicaB()
            defer { b.killNow() }
            let seen = await world.leaseRequests(Self.replicaBUser)
            try await eventually("replica-b competing for the lease", timeout: .seconds(20)) {
                await world.leaseRequests(Self.replicaBUser) >= seen + 3
            }
            // There is work (a deleted secret): the leader repairs it, the standby does not touch it.
            await world.server.delete("secrets", namespace: "team-a", name: HelperWorld.secretName)
            try await world.waitForSecrets(["team-a"], process: a)
            #expect(await world.leaseHolder() == "replica-a")
            #expect(await world.secretWrites(user: Self.replicaBUser).isEmpty, "the standby wrote secrets")
            // A standby is ready (it has nothing to serve until it leads) and says it is not the leader.
            let standbyReady = try await HTTPProbe.waitFor(port: portB, "/readyz", status: 200)
            #expect(standbyReady.body.contains("standby"), "\(standbyReady.body)")
            #expect(await leaderGauge() == 0)

            // Graceful stop: the leader finishes, releases the Lease, and the standby takes over at once
            // (well within the 15 s lease duration it would otherwise wait out).
            a.terminate()
            let stopped = try await a.wait(timeout: .seconds(20))
            #expect(stopped == .exited(0), "\(a.stderr.suffix(2000))")
            #expect(a.stderr.contains("released the leader lease"), "\(a.stderr.suffix(2000))")
            try await eventually("replica-b leading after the release", timeout: .seconds(10)) { await world.leaseHolder() == "replica-b" }
            await world.server.delete("secrets", namespace: "default", name: HelperWorld.secretName)
            try await world.waitForSecrets(["default"], process: b)
            #expect(await world.secretWrites(user: Self.replicaBUser).contains { $0.namespace == "default" }, "the new leader did not write")
            try await eventually("replica-b's leader gauge at 1") { await leaderGauge() == 1 }

            // A crash (SIGKILL: no release): a fresh replica-a waits out the lease duration, then takes over.
            let a2 = try replicaA()
            defer { a2.killNow() }
            let seenA = await world.leaseRequests(HelperWorld.helperUser)
            try await eventually("the new replica-a competing", timeout: .seconds(20)) {
                await world.leaseRequests(HelperWorld.helperUser) >= seenA + 2
            }
            #expect(await world.leaseHolder() == "replica-b")
            b.killNow()
            #expect(b.poll() == .signaled(SIGKILL))
            try await eventually("replica-a leading after replica-b crashed", timeout: .seconds(40)) { await world.leaseHolder() == "replica-a" }
            let writesBefore = await world.secretWrites().count
            await world.server.delete("secrets", namespace: "team-a", name: HelperWorld.secretName)
            try await world.waitForSecrets(["team-a"], process: a2)
            #expect(await world.secretWrites().count > writesBefore)

            a2.terminate()
            #expect(try await a2.wait(timeout: .seconds(20)) == .exited(0), "\(a2.stderr.suffix(2000))")
        }
    }
}
