#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeTestServer
import Logging
import Synchronization
import SyncEngine
import Testing
import TestSupport

/// One fleet of several stand-in API servers and (when the run has one) the real kube-apiserver, each
/// reached with the single-cluster helper's small role, served by one `FleetSupervisor`.
@Suite struct FleetTests {
    /// A member cluster: a stand-in, or the real server under an identity of its own.
    struct Cluster: Sendable {
        let name: String
        let standIn: KubeTestServer?
        let real: RealAPIServer?
        let token: String

        var kubeconfig: String {
            standIn?.kubeconfig(token: token) ?? real!.kubeconfig(token: token)
        }

        func secret(_ namespace: String, _ name: String) async -> JSONValue? {
            if let standIn { return await standIn.object("secrets", namespace: namespace, name: name) }
            return try? await real!.object("secrets", namespace: namespace, name: name)
        }

        func createNamespace(_ namespace: String) async throws {
            if let standIn { await standIn.createNamespace(namespace) } else { try await real!.createNamespace(namespace) }
        }
    }

    /// Names kept apart from every other test on the shared real server.
    struct World: Sendable {
        let suffix = uniqueSuffix(5)
        var secretName: String { "fleet-\(suffix)" }
        var prefix: String { "fl-\(suffix)" }
        var namespaces: [String] { ["\(prefix)-a", "\(prefix)-b"] }
        let directory: String
        let logs = CapturedLogs()

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(uniqueSuffix())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        func rules() -> [PolicyRule] {
            PolicyRule.originalHelperRole(secretName: secretName) + [PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"])]
        }

        func settings(_ extra: [String: String] = [:]) -> MemorySettingsSource {
            var values = [
                "NAMESPACES": "\(prefix)-*", "SECRET_NAME": secretName,
                "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "AWS_REGIONS": "us-east-1 eu-west-1",
            ]
            values.merge(extra) { _, new in new }
            return MemorySettingsSource(values)
        }

        func standIn(_ name: String, rules: [PolicyRule]? = nil) async throws -> Cluster {
            let server = try await KubeTestServer.start(KubeTestServerConfiguration(
                users: [TestUser(name: "system:serviceaccount:kube-system:fleet", token: "fleet-token", rules: rules ?? self.rules())],
                namespaces: ["default"] + namespaces))
            return Cluster(name: name, standIn: server, real: nil, token: "fleet-token")
        }

        /// The real server as a member (nil when this run has none).
        func realCluster() async throws -> Cluster? {
            guard let real = RealAPIServer.shared else { return nil }
            for namespace in namespaces { try await real.createNamespace(namespace) }
            let identity = try await real.makeIdentity(name: "fleet-\(suffix)", rules: rules())
            return Cluster(name: "real", standIn: nil, real: real, token: identity.token)
        }

        func writeFile(_ name: String, _ text: String) throws {
            // As Kubernetes does: a new file moved into place.
            let temporary = directory + "/.tmp-" + name
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            _ = rename(temporary, directory + "/" + name)
        }

        func supervisor(settings: any SettingsSource, tokens: SharedTokenSource, status: FleetStatus, sources: ClusterSources? = nil) -> FleetSupervisor {
            FleetSupervisor(
                dependencies: .init(
                    sources: sources ?? ClusterSources(directory: ClustersDirectory(path: directory)), settings: settings, tokens: tokens,
                    status: status, logger: logs.logger(label: "fleet"),
                    makeClient: { configuration, logger in
                        var configuration = configuration
                        configuration.connectTimeout = .seconds(2)
                        return try KubernetesClient(configuration: configuration, logger: logger, requestTimeout: .seconds(5))
                    }),
                tickInterval: .milliseconds(100))
        }

        func waitForSecrets(_ clusters: [Cluster], namespaces: [String]? = nil, timeout: Duration = .seconds(30)) async throws {
            for cluster in clusters {
                for namespace in namespaces ?? self.namespaces {
                    try await eventually("secret \(secretName) in \(cluster.name)/\(namespace)", timeout: timeout, poll: .milliseconds(50)) {
                        await cluster.secret(namespace, secretName) != nil
                    }
                }
            }
        }

        func cleanUp(_ clusters: [Cluster]) async {
            for cluster in clusters {
                try? await cluster.standIn?.stop()
                if let real = cluster.real {
                    for namespace in namespaces { try? await real.delete("namespaces", namespace: nil, name: namespace) }
                }
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The first pass writes every cluster, including the real server, with one token fetch per region for
    /// the whole fleet. A cluster that cannot be reached at all, one that answers nothing (every request
    /// hangs) and one whose role allows nothing delay no one, and /readyz names exactly those three.
    @Test func firstPassWritesEveryClusterWithOneFetchPerRegion() async throws {
        let world = try World()
        var clusters = [try await world.standIn("edge-1"), try await world.standIn("edge-2"), try await world.standIn("edge-3")]
        if let real = try await world.realCluster() { clusters.append(real) }
        let gone = try await world.standIn("gone")
        let goneKubeconfig = gone.kubeconfig
        try await gone.standIn?.stop()
        let slow = try await world.standIn("slow")
        await slow.standIn?.inject(FaultRule(fault: .delay(.seconds(120))))
        let denied = try await world.standIn("denied", rules: [])
        let all = clusters + [slow, denied]
        defer { Task { await world.cleanUp(all) } }
        for cluster in all { try world.writeFile(cluster.name + ".yaml", cluster.kubeconfig) }
        try world.writeFile("gone", goneKubeconfig)

        let counting = CountingTokenSource()
        let tokens = SharedTokenSource(source: counting)
        let status = FleetStatus()
        let supervisor = world.supervisor(settings: world.settings(), tokens: tokens, status: status)
        let task = Task { await supervisor.run() }
        defer { task.cancel() }

        // Well within the slow cluster's request timeout (5 s per request here) and the 30 s its first
        // pass may wait for its lists.
        try await world.waitForSecrets(clusters, timeout: .seconds(15))
        #expect(counting.calls == ["us-east-1": 1, "eu-west-1": 1])
        #expect(await supervisor.served == (all.map(\.name) + ["gone"]).sorted())
        let broken: Set<String> = ["gone", "slow", "denied"]
        try await eventually("the working clusters ready", timeout: .seconds(30), poll: .milliseconds(100)) {
            var readiness: [String: Bool] = [:]
            for cluster in await status.all { readiness[cluster.name] = await cluster.status?.readiness().ready }
            return readiness.filter { !broken.contains($0.key) }.values.allSatisfy { $0 } && readiness.count == all.count + 1
        }
        let (ready, reason) = await status.ready()
        #expect(!ready)
        #expect(reason.contains("3 of \(all.count + 1) clusters not ready"), "\(reason)")
        for name in broken { #expect(reason.contains("\(name):"), "\(reason)") }
        #expect(counting.calls == ["us-east-1": 1, "eu-west-1": 1])
    }

    /// A cluster going away mid-flight: the others still react to new namespaces at once.
    @Test func aClusterGoingAwayDoesNotDelayTheOthers() async throws {
        let world = try World()
        let clusters = [try await world.standIn("a"), try await world.standIn("b"), try await world.standIn("c")]
        defer { Task { await world.cleanUp(clusters) } }
        for cluster in clusters { try world.writeFile(cluster.name, cluster.kubeconfig) }
        let supervisor = world.supervisor(settings: world.settings(), tokens: SharedTokenSource(source: CountingTokenSource()), status: FleetStatus())
        let task = Task { await supervisor.run() }
        defer { task.cancel() }
        try await world.waitForSecrets(clusters)

        try await clusters[1].standIn?.stop()
        let late = "\(world.prefix)-late"
        for cluster in [clusters[0], clusters[2]] { try await cluster.createNamespace(late) }
        try await world.waitForSecrets([clusters[0], clusters[2]], namespaces: [late], timeout: .seconds(10))
    }

    /// Kubeconfig files rotated, added and removed while the fleet runs.
    @Test func kubeconfigFilesRotatedAddedAndRemoved() async throws {
        let world = try World()
        let a = try await world.standIn("a"), b = try await world.standIn("b"), c = try await world.standIn("c")
        defer { Task { await world.cleanUp([a, b, c]) } }
        try world.writeFile("a", a.kubeconfig.replacingOccurrences(of: "fleet-token", with: "revoked-token"))
        try world.writeFile("b", b.kubeconfig)
        let supervisor = world.supervisor(settings: world.settings(), tokens: SharedTokenSource(source: CountingTokenSource()), status: FleetStatus())
        let task = Task { await supervisor.run() }
        defer { task.cancel() }
        try await world.waitForSecrets([b])
        #expect(await a.secret(world.namespaces[0], world.secretName) == nil)

        try world.writeFile("a", a.kubeconfig)
        try await world.waitForSecrets([a])
        try world.writeFile("c.yaml", c.kubeconfig)
        try await world.waitForSecrets([c])
        #expect(unlink(world.directory + "/b") == 0)
        try await eventually("b no longer served", timeout: .seconds(10), poll: .milliseconds(50)) {
            await supervisor.served == ["a", "c"]
        }
    }

    /// Cluster API and Argo CD kubeconfig Secrets in the management cluster: clusters join, a rotated
    /// Secret takes effect, a per-cluster namespace annotation applies, a deleted Secret leaves.
    @Test func kubeconfigSecretsJoinRotateAndLeave() async throws {
        let world = try World()
        let management = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: "system:serviceaccount:fleet:helper", token: "mgmt-token", rules: [
                PolicyRule(resources: ["secrets"], verbs: ["list", "watch"], namespaces: ["fleet-system"]),
            ])],
            namespaces: ["fleet-system"]))
        let capi = try await world.standIn("capi-1")
        let argo: Cluster
        if let real = try await world.realCluster() { argo = real } else { argo = try await world.standIn("argo-1") }
        let members = [capi, argo]
        defer { Task { await world.cleanUp(members); try? await management.stop() } }
        let selector = "fleet-test=\(world.suffix)"

        try await management.put("secrets", namespace: "fleet-system", Self.capiSecret(
            cluster: "capi-1", kubeconfig: capi.kubeconfig.replacingOccurrences(of: "fleet-token", with: "revoked"), label: world.suffix))
        let server = argo.standIn?.url ?? argo.real!.url
        let ca = argo.standIn?.caPEM ?? argo.real!.caPEM
        try await management.put("secrets", namespace: "fleet-system", Self.argoSecret(
            name: "argo-1", server: server, caPEM: ca, token: argo.token, label: world.suffix,
            annotations: [NamespaceOverride.namespacesAnnotation: world.namespaces[1]]))

        let client = try KubernetesClient(
            configuration: KubeConfiguration(server: management.url, caPEM: Array(management.caPEM.utf8), auth: .bearerToken("mgmt-token")),
            logger: world.logs.logger(label: "mgmt"))
        defer { Task { try? await client.shutdown() } }
        let sources = ClusterSources(secrets: .init(client: client, namespace: "fleet-system", selector: selector))
        let status = FleetStatus()
        let supervisor = world.supervisor(settings: world.settings(), tokens: SharedTokenSource(source: CountingTokenSource()), status: status, sources: sources)
        let task = Task { await supervisor.run() }
        defer { task.cancel() }

        // Argo CD's cluster: only the namespace its annotation names.
        try await world.waitForSecrets([argo], namespaces: [world.namespaces[1]])
        #expect(await argo.secret(world.namespaces[0], world.secretName) == nil)
        #expect(await supervisor.served == ["argo-1", "capi-1"])

        // The Cluster API Secret rotated to a working kubeconfig.
        try await management.put("secrets", namespace: "fleet-system", Self.capiSecret(cluster: "capi-1", kubeconfig: capi.kubeconfig, label: world.suffix))
        try await world.waitForSecrets([capi])

        await management.delete("secrets", namespace: "fleet-system", name: "argo-1-secret")
        try await eventually("argo-1 left the fleet", timeout: .seconds(10), poll: .milliseconds(50)) {
            await supervisor.served == ["capi-1"]
        }
    }

    /// Against moto (signature checking on): three clusters, two regions, one GetAuthorizationToken per
    /// region for the whole fleet, and the same registry password in every cluster.
    @Test(.enabled(if: MotoEnvironment.current != nil, Comment(rawValue: MotoEnvironment.missingReason)))
    func oneRealFetchPerRegionForTheFleet() async throws {
        let moto = try #require(MotoEnvironment.current)
        let world = try World()
        let clusters = [try await world.standIn("m-1"), try await world.standIn("m-2"), try await world.standIn("m-3")]
        defer { Task { await world.cleanUp(clusters) } }
        for cluster in clusters { try world.writeFile(cluster.name, cluster.kubeconfig) }
        let ecr = try ECRTokenSource(environment: ["AWS_ENDPOINT_URL": moto.endpoint], logger: world.logs.logger(label: "aws"))
        defer { Task { try? await ecr.shutdown() } }
        let counting = CountingWrapper(inner: ecr)
        let settings = world.settings([
            "AWS_ACCESS_KEY_ID": moto.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.allowed.secretAccessKey,
            "AWS_REGIONS": "\(moto.region) eu-west-1",
        ])
        let supervisor = world.supervisor(settings: settings, tokens: SharedTokenSource(source: counting), status: FleetStatus())
        let task = Task { await supervisor.run() }
        defer { task.cancel() }
        try await world.waitForSecrets(clusters)
        #expect(counting.calls == [moto.region: 1, "eu-west-1": 1])
        var passwords: Set<String> = []
        for cluster in clusters {
            let data = await cluster.secret(world.namespaces[0], world.secretName)?["data"]?[".dockerconfigjson"]?.stringValue
            passwords.insert(try #require(data))
        }
        #expect(passwords.count == 1, "every cluster holds the one login")
    }

    /// Scale-out: two replicas with membership Leases in a management stand-in share four clusters, each
    /// served by exactly one; when one replica stops, the other takes its clusters.
    @Test func twoReplicasShareTheFleetAndTakeOver() async throws {
        let world = try World()
        let clusters = [try await world.standIn("s-1"), try await world.standIn("s-2"), try await world.standIn("s-3"), try await world.standIn("s-4")]
        let management = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: "system:serviceaccount:fleet:helper", token: "mgmt-token", rules: [
                PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "delete"], namespaces: ["fleet-system"]),
            ])],
            namespaces: ["fleet-system"]))
        defer { Task { await world.cleanUp(clusters); try? await management.stop() } }
        for cluster in clusters { try world.writeFile(cluster.name, cluster.kubeconfig) }
        let client = try KubernetesClient(
            configuration: KubeConfiguration(server: management.url, caPEM: Array(management.caPEM.utf8), auth: .bearerToken("mgmt-token")),
            logger: world.logs.logger(label: "mgmt"))
        defer { Task { try? await client.shutdown() } }

        func replica(_ identity: String) -> (FleetSupervisor, FleetMembership) {
            let membership = FleetMembership(
                client: client, namespace: "fleet-system", group: "g-\(world.suffix)", identity: identity,
                leaseDuration: .seconds(3), renewDeadline: .seconds(2), retryPeriod: .milliseconds(300), logger: world.logs.logger(label: identity))
            let supervisor = FleetSupervisor(
                dependencies: .init(
                    sources: ClusterSources(directory: ClustersDirectory(path: world.directory)), settings: world.settings(),
                    tokens: SharedTokenSource(source: CountingTokenSource()), status: FleetStatus(),
                    assignment: MembershipAssignment(membership: membership), logger: world.logs.logger(label: identity)),
                tickInterval: .milliseconds(100))
            return (supervisor, membership)
        }
        let (one, oneMembership) = replica("replica-1")
        let (two, twoMembership) = replica("replica-2")
        let oneLease = Task { try? await oneMembership.run() }
        let twoLease = Task { try? await twoMembership.run() }
        let oneTask = Task { await one.run() }
        let twoTask = Task { await two.run() }
        defer { for task in [oneTask, twoTask] { task.cancel() }; twoLease.cancel() }

        let names = Set(clusters.map(\.name))
        try await eventually("the clusters split between the two replicas", timeout: .seconds(20), poll: .milliseconds(50)) {
            let a = Set(await one.served), b = Set(await two.served)
            return a.isDisjoint(with: b) && a.union(b) == names && !a.isEmpty && !b.isEmpty
        }
        try await world.waitForSecrets(clusters)

        // Replica 1 goes away (its Lease released on the way out): replica 2 serves every cluster.
        oneTask.cancel()
        await oneTask.value
        oneLease.cancel()
        await oneLease.value
        try await eventually("replica 2 serves all", timeout: .seconds(10), poll: .milliseconds(50)) {
            Set(await two.served) == names
        }
    }

    static func capiSecret(cluster: String, kubeconfig: String, label: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Secret", "type": "cluster.x-k8s.io/secret",
            "metadata": [
                "name": .string("\(cluster)-kubeconfig"),
                "labels": [ClusterSecretFormat.clusterAPILabel: .string(cluster), "fleet-test": .string(label)],
            ],
            "data": ["value": .string(Data(kubeconfig.utf8).base64EncodedString())],
        ]
    }

    static func argoSecret(name: String, server: String, caPEM: String, token: String, label: String, annotations: [String: String]) -> JSONValue {
        let config = #"{"bearerToken":"\#(token)","tlsClientConfig":{"insecure":false,"caData":"\#(Data(caPEM.utf8).base64EncodedString())"}}"#
        var annotationsJSON: [String: JSONValue] = [:]
        for (key, value) in annotations { annotationsJSON[key] = .string(value) }
        return [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": [
                "name": .string("\(name)-secret"),
                "labels": [ClusterSecretFormat.argoCDLabel: "cluster", "fleet-test": .string(label)],
                "annotations": .object(annotationsJSON),
            ],
            "data": [
                "name": .string(Data(name.utf8).base64EncodedString()),
                "server": .string(Data(server.utf8).base64EncodedString()),
                "config": .string(Data(config.utf8).base64EncodedString()),
            ],
        ]
    }
}

/// Counts the fetches that reach the inner source, per region.
final class CountingWrapper: RegistryTokenSource {
    let inner: any RegistryTokenSource
    let counts = Mutex<[String: Int]>([:])
    init(inner: any RegistryTokenSource) { self.inner = inner }
    var calls: [String: Int] { counts.withLock { $0 } }

    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        counts.withLock { for region in access.regions { $0[region, default: 0] += 1 } }
        return try await inner.fetchLogin(for: access)
    }
}
