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
    static let rules = PolicyRule.originalHelperRole() + [
        PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"])
    ]

    /// On the real server the request log is not there to read: what each replica wrote is told by the
    /// Lease, the secrets and the standby's own probes instead.
    @Test(arguments: APIServerKind.enabled)
    func onlyTheLeaderWritesAndAnotherTakesOverOnStopAndOnCrash(_ kind: APIServerKind) async throws {
        try await HelperWorld.with(kind, namespaces: ["default", "kube-system", "team-a"], rules: Self.rules) { world in
            let (replicaBUser, tokenB) = try await world.makeUser("aws-ecr-cred-helper-b", rules: Self.rules)
            try world.writeOriginalConfig(namespaces: ["default", "team-a"])
            // Each replica has its own identity (its user in the request log, its pod name in the Lease).
            let kubeconfigB = world.directory + "/kubeconfig-b"
            try world.writeKubeconfig(to: kubeconfigB, token: tokenB)
            let common = ["LEADER_ELECTION": "true", "POD_NAMESPACE": "kube-system", "LEADER_ELECTION_LEASE_NAME": world.leaseName]
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
            if kind == .standIn {
                let seen = await world.leaseRequests(replicaBUser)
                try await eventually("replica-b competing for the lease", timeout: .seconds(20)) {
                    await world.leaseRequests(replicaBUser) >= seen + 3
                }
            } else {
                _ = try await HTTPProbe.waitFor(port: portB, "/readyz", status: 200)
            }
            // There is work (a deleted secret): the leader repairs it, the standby does not touch it.
            try await world.delete("secrets", namespace: "team-a", name: world.secretName)
            try await world.waitForSecrets(["team-a"], process: a)
            #expect(await world.leaseHolder() == "replica-a")
            if kind == .standIn {
                #expect(await world.secretWrites(user: replicaBUser).isEmpty, "the standby wrote secrets")
            }
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
            try await world.delete("secrets", namespace: "default", name: world.secretName)
            try await world.waitForSecrets(["default"], process: b)
            if kind == .standIn {
                #expect(await world.secretWrites(user: replicaBUser).contains { $0.namespace == "default" }, "the new leader did not write")
            }
            try await eventually("replica-b's leader gauge at 1") { await leaderGauge() == 1 }

            // A crash (SIGKILL: no release): a fresh replica-a waits out the lease duration, then takes over.
            let a2 = try replicaA()
            defer { a2.killNow() }
            if kind == .standIn {
                let seenA = await world.leaseRequests(world.helperUser)
                try await eventually("the new replica-a competing", timeout: .seconds(20)) {
                    await world.leaseRequests(world.helperUser) >= seenA + 2
                }
            }
            #expect(await world.leaseHolder() == "replica-b")
            b.killNow()
            #expect(await b.exited() == .signaled(SIGKILL))
            try await eventually("replica-a leading after replica-b crashed", timeout: .seconds(40)) { await world.leaseHolder() == "replica-a" }
            try await world.delete("secrets", namespace: "team-a", name: world.secretName)
            try await world.waitForSecrets(["team-a"], process: a2)

            a2.terminate()
            #expect(try await a2.wait(timeout: .seconds(20)) == .exited(0), "\(a2.stderr.suffix(2000))")
        }
    }
}
