#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeTestServer
import Synchronization
import SyncEngine
import Testing
import TestSupport

/// The fleet's cluster sources, without a server: the Secret formats (Cluster API, Argo CD, plain), the
/// folder, names, the per-cluster namespace annotations, and the shared login.
@Suite struct FleetSourceTests {
    static let kubeconfig = KubeTestServer.kubeconfig(server: "https://10.0.0.1:6443", caPEM: "", token: "s3cret-token")

    @Test func clusterAPIKubeconfigSecretIsACluster() throws {
        let secret = Secret(
            name: "edge-1-kubeconfig", namespace: "fleet", type: "cluster.x-k8s.io/secret",
            data: ["value": Array(Self.kubeconfig.utf8)], labels: [ClusterSecretFormat.clusterAPILabel: "edge-1"])
        let target = try #require(ClusterSecretFormat.target(of: secret))
        #expect(target.name == "edge-1")
        #expect(target.origin == "secret fleet/edge-1-kubeconfig (Cluster API)")
        let configuration = try target.connection.get()
        #expect(configuration.server == "https://10.0.0.1:6443")
        #expect(!"\(target)".contains("s3cret"))
    }

    @Test func clusterAPIsOtherSecretsAreSkipped() {
        for name in ["edge-1-ca", "edge-1-etcd", "edge-1-sa", "edge-1-user-kubeconfig"] {
            let secret = Secret(name: name, namespace: "fleet", data: ["tls.crt": [1], "value": [2]], labels: [ClusterSecretFormat.clusterAPILabel: "edge-1"])
            #expect(ClusterSecretFormat.target(of: secret) == nil, "\(name)")
        }
    }

    @Test func argoCDClusterSecretWithTokenAndCA() throws {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let config = #"{"bearerToken":"argo-token","tlsClientConfig":{"insecure":false,"caData":"\#(Data(ca.utf8).base64EncodedString())"}}"#
        let secret = Secret(
            name: "cluster-prod", namespace: "argocd",
            data: ["name": Array("prod-eu".utf8), "server": Array("https://prod.example:6443".utf8), "config": Array(config.utf8)],
            labels: [ClusterSecretFormat.argoCDLabel: "cluster"],
            annotations: [NamespaceOverride.namespacesAnnotation: "team-a team-b"])
        let target = try #require(ClusterSecretFormat.target(of: secret))
        #expect(target.name == "prod-eu")
        let configuration = try target.connection.get()
        #expect(configuration.server == "https://prod.example:6443")
        #expect(configuration.caPEM == Array(ca.utf8))
        if case .bearerToken(let token) = configuration.auth { #expect(token == "argo-token") } else { Issue.record("auth \(configuration.auth)") }
        #expect(target.namespaceOverride.namespaces == "team-a team-b")
    }

    @Test func argoCDClusterSecretsTheHelperCannotUseSayWhy() {
        let cases: [(String, String)] = [
            (#"{"awsAuthConfig":{"clusterName":"x"}}"#, "awsAuthConfig"),
            (#"{"execProviderConfig":{"args":["x"]}}"#, "execProviderConfig has no command"),
            (#"{"username":"admin","password":"pw"}"#, "username/password"),
            (#"{"tlsClientConfig":{}}"#, "neither bearerToken"),
            ("not json", "not the JSON"),
        ]
        for (config, expected) in cases {
            let secret = Secret(
                name: "c", namespace: "argocd", data: ["name": Array("c".utf8), "server": Array("https://c".utf8), "config": Array(config.utf8)],
                labels: [ClusterSecretFormat.argoCDLabel: "cluster"])
            let problem = ClusterSecretFormat.target(of: secret)?.problem ?? ""
            #expect(problem.contains(expected) && problem.contains("secret argocd/c"), "\(problem)")
            #expect(!problem.contains("pw"))
        }
    }

    @Test func argoCDExecProviderIsAnExecPlugin() throws {
        let config = #"{"execProviderConfig":{"command":"/bin/get-token","args":["--cluster","c"],"env":{"A":"1"},"apiVersion":"client.authentication.k8s.io/v1beta1"},"tlsClientConfig":{"insecure":true}}"#
        let secret = Secret(
            name: "c", namespace: "argocd", data: ["name": Array("c".utf8), "server": Array("https://c:6443".utf8), "config": Array(config.utf8)],
            labels: [ClusterSecretFormat.argoCDLabel: "cluster"])
        let configuration = try #require(ClusterSecretFormat.target(of: secret)).connection.get()
        guard case .exec(let exec) = configuration.auth else { Issue.record("auth \(configuration.auth)"); return }
        #expect(exec.command == "/bin/get-token" && exec.args == ["--cluster", "c"] && exec.apiVersion == "client.authentication.k8s.io/v1beta1")
        #expect(exec.env.map(\.name) == ["A"] && exec.cluster.server == "https://c:6443" && exec.cluster.insecureSkipTLSVerify)
    }

    @Test func plainKubeconfigSecretAndNames() throws {
        let plain = Secret(name: "site-7", namespace: "fleet", data: ["kubeconfig": Array(Self.kubeconfig.utf8)])
        #expect(ClusterSecretFormat.target(of: plain)?.name == "site-7")
        let renamed = Secret(name: "x", namespace: "fleet", data: ["kubeconfig": Array(Self.kubeconfig.utf8)], annotations: [ClusterSecretFormat.clusterNameAnnotation: "Bad_Name"])
        let problem = try #require(ClusterSecretFormat.target(of: renamed)?.problem)
        #expect(problem.contains("not a DNS label"), "\(problem)")
        let broken = Secret(name: "broken", namespace: "fleet", data: ["kubeconfig": Array("token: s3cret-token\n: [".utf8)])
        let brokenProblem = try #require(ClusterSecretFormat.target(of: broken)?.problem)
        #expect(brokenProblem.contains("secret fleet/broken") && !brokenProblem.contains("s3cret"), "\(brokenProblem)")
        #expect(ClusterSecretFormat.target(of: Secret(name: "other", namespace: "fleet", data: ["x": [1]])) == nil)
    }

    @Test func rotatingAKubeconfigMakesAnotherTarget() {
        let a = Secret(name: "s", namespace: "f", data: ["kubeconfig": Array(Self.kubeconfig.utf8)])
        let b = Secret(name: "s", namespace: "f", data: ["kubeconfig": Array(Self.kubeconfig.replacingOccurrences(of: "s3cret-token", with: "rotated").utf8)])
        #expect(ClusterSecretFormat.target(of: a) == ClusterSecretFormat.target(of: a))
        #expect(ClusterSecretFormat.target(of: a) != ClusterSecretFormat.target(of: b))
    }

    @Test func duplicateNamesServeTheFirstAndNameTheOther() {
        let one = ClusterTarget(name: "a", origin: "file /c/a", connection: .failure(.init("x")), digest: "1")
        let two = ClusterTarget(name: "a", origin: "secret f/a (kubeconfig)", connection: .failure(.init("x")), digest: "2")
        let (targets, problems) = ClusterSources.combine(local: nil, files: [one], secrets: [two])
        #expect(targets.map(\.origin) == ["file /c/a"])
        #expect(problems.count == 1 && problems[0].contains("already used by file /c/a"))
    }

    @Test func folderNamesClustersByFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(uniqueSuffix())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["edge-1", "edge-2.yaml", "edge-3.kubeconfig", ".hidden"] {
            try Self.kubeconfig.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        let before = ClustersDirectory(path: directory).fingerprint()
        let targets = try ClustersDirectory(path: directory).read()
        #expect(targets.map(\.name) == ["edge-1", "edge-2", "edge-3"])
        #expect(targets.allSatisfy { $0.problem == nil })
        try "rotated".write(toFile: directory + "/edge-1", atomically: true, encoding: .utf8)
        #expect(ClustersDirectory(path: directory).fingerprint() != before)
        #expect(throws: ClusterSourceError.self) { try ClustersDirectory(path: directory + "/missing").read() }
    }

    @Test func namespaceAnnotationsReplaceTheFleetsSelection() throws {
        let base = MemorySettingsSource([
            "NAMESPACES": "default team-a", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_DEFAULT_REGION": "us-east-1",
        ])
        let overridden = try OverriddenSettingsSource(base: base, override: NamespaceOverride(namespaces: "apps-*", excludeNamespaces: "apps-old")).load()
        #expect(overridden.namespaces.selects(name: "apps-1", labels: [:]))
        #expect(!overridden.namespaces.selects(name: "apps-old", labels: [:]))
        #expect(!overridden.namespaces.selects(name: "default", labels: [:]))
        #expect(try OverriddenSettingsSource(base: base, override: NamespaceOverride()).load().namespaces.explicitNames == ["default", "team-a"])
        let bad = NamespaceOverride(namespaces: "Not_Valid", namespaceSelector: "a in (")
        #expect {
            try OverriddenSettingsSource(base: base, override: bad).load()
        } throws: { error in
            let problems = (error as? ConfigurationError)?.problems ?? []
            return problems.count == 2 && problems[0].contains(NamespaceOverride.namespacesAnnotation)
        }
    }

    @Test func theFleetSharesOneFetchPerRegion() async throws {
        let counting = CountingTokenSource()
        let shared = SharedTokenSource(source: counting)
        let access = AWSAccessFixture.make(regions: ["us-east-1", "eu-west-1"])
        // Fifty clusters asking at once: one fetch per region.
        try await withThrowingTaskGroup(of: RegistryLogin.self) { group in
            for _ in 0..<50 { group.addTask { try await shared.fetchLogin(for: access) } }
            for try await login in group { #expect(login.credentials.count == 2) }
        }
        #expect(counting.calls == ["eu-west-1": 1, "us-east-1": 1])
        // Later askers within the login's fresh time get the same login.
        _ = try await shared.fetchLogin(for: access)
        #expect(counting.calls == ["eu-west-1": 1, "us-east-1": 1])
        // Other keys (a rotation) are another login.
        var rotated = access
        rotated.accessKeyID = "AKIAROTATED000000000"
        _ = try await shared.fetchLogin(for: rotated)
        #expect(counting.calls == ["eu-west-1": 2, "us-east-1": 2])
    }

    @Test func aFailedFetchIsSharedForAMoment() async throws {
        let counting = CountingTokenSource()
        counting.failing.withLock { $0 = true }
        let shared = SharedTokenSource(source: counting, failureHold: .seconds(60))
        let access = AWSAccessFixture.make(regions: ["us-east-1"])
        for _ in 0..<10 { await #expect(throws: (any Error).self) { try await shared.fetchLogin(for: access) } }
        #expect(counting.calls == ["us-east-1": 1])
    }
}

/// Counts fetches per region.
final class CountingTokenSource: RegistryTokenSource {
    let state = Mutex<[String: Int]>([:])
    let failing = Mutex(false)
    var calls: [String: Int] { state.withLock { $0 } }

    func fetchLogin(for access: AWSAccess) async throws -> RegistryLogin {
        state.withLock { for region in access.regions { $0[region, default: 0] += 1 } }
        if failing.withLock({ $0 }) { throw FixedTokenSource.Failure(description: "AWS is down (test)") }
        let now = Date()
        return RegistryLogin(credentials: access.regions.map {
            RegistryCredential(registry: "https://123456789012.dkr.ecr.\($0).amazonaws.com", username: "AWS", password: Sensitive("t"), expiresAt: now.addingTimeInterval(43200), region: $0)
        }, fetchedAt: now)
    }
}

enum AWSAccessFixture {
    static func make(regions: [String]) -> AWSAccess {
        let settings = MemorySettingsSource([
            "NAMESPACES": "default", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_REGIONS": regions.joined(separator: " "),
        ])
        return try! settings.load().aws
    }
}
