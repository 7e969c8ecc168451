import Foundation
import KubeClient
import KubeTestServer
import TestSupport
import Testing

/// What the client sends, checked where it matters: on the real kube-apiserver as well as the stand-in.
/// The first build's apply bodies escaped every `/` as `\/` (legal JSON); the real server parses apply
/// bodies with go-yaml, which rejects that escape, so every write failed on every real cluster while the
/// stand-in accepted it.
@Suite("Request bodies on both servers")
struct RealServerRequestTests {
    /// A secret shaped like the helper's: label keys, annotation values and data holding `/`.
    static func slashySecret(namespace: String) -> Secret {
        Secret(
            name: "registry-aws-ecr", namespace: namespace, type: "Opaque",
            data: ["k": Array("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/x".utf8)],
            labels: ["app.kubernetes.io/name": "aws-ecr-cred-helper", "app.kubernetes.io/managed-by": "aws-ecr-cred-helper"],
            annotations: ["aws-ecr-cred-helper/registries": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"]
        )
    }

    @Test func noBodyEscapesASlash() throws {
        let encoder = KubernetesClient.makeEncoder()
        let text = String(decoding: try encoder.encode(Self.slashySecret(namespace: "team-a")), as: UTF8.self)
        #expect(text.contains("app.kubernetes.io/name"), "\(text)")
        #expect(!text.contains(#"\/"#), "\(text)")
    }

    /// The helper's own request shapes under the original ClusterRole, on each server: apply (create and
    /// update) of a secret full of `/`, the refusals a name-limited role gets, and a merge patch.
    @Test(arguments: APIServerKind.enabled)
    func applyWithSlashesUnderTheOriginalRole(_ kind: APIServerKind) async throws {
        let id = uniqueSuffix()
        let namespace = "client-\(id)"
        let rules = PolicyRule.originalHelperRole(secretName: "registry-aws-ecr")
        try await withClient(kind, namespace: namespace, rules: rules, id: id) { client in
            let secret = Self.slashySecret(namespace: namespace)
            let created = try await client.apply(secret, fieldManager: "aws-ecr-cred-helper")
            #expect(created.metadata.labels?["app.kubernetes.io/name"] == "aws-ecr-cred-helper")
            #expect(created.metadata.annotations == secret.metadata.annotations)
            let updated = try await client.apply(
                Secret(name: "registry-aws-ecr", namespace: namespace, type: "Opaque", data: ["k": Array("v/2".utf8)],
                       labels: secret.metadata.labels),
                fieldManager: "aws-ecr-cred-helper")
            #expect(updated.decodedData("k") == Array("v/2".utf8))
            // The encoded-once fan-out path sends the same bytes.
            let body = try client.encodedBody(Secret(name: "registry-aws-ecr", namespace: nil, type: "Opaque", data: ["k": Array("/".utf8)], labels: secret.metadata.labels))
            try await client.apply(body, namespace: namespace, name: "registry-aws-ecr", fieldManager: "aws-ecr-cred-helper")
            #expect(try await client.get(Secret.self, namespace: namespace, name: "registry-aws-ecr").decodedData("k") == Array("/".utf8))

            await #expect {
                _ = try await client.apply(Secret(name: "someone-else", namespace: namespace, data: ["a": [1]]), fieldManager: "x")
            } throws: { error in
                (error as? KubeAPIError)?.isForbidden == true
            }
            await #expect {
                _ = try await client.mergePatch(Secret.self, namespace: "missing-\(id)", name: "registry-aws-ecr", patch: ["type": "Opaque"])
            } throws: { error in
                (error as? KubeAPIError)?.isNotFound == true
            }
            #expect(try await client.canI(verb: "create", resource: "secrets", namespace: namespace))
            #expect(try await !client.canI(verb: "list", resource: "namespaces", namespace: nil))
        }
    }

    /// A list with `limit` comes in pages joined by continue tokens, on both servers: the reflectors list
    /// 500 at a time, so the stand-in must page as the real server does for memory figures to compare.
    @Test(arguments: APIServerKind.enabled)
    func listsComeInPages(_ kind: APIServerKind) async throws {
        let id = uniqueSuffix()
        let namespace = "pages-\(id)"
        let rules = [PolicyRule(resources: ["secrets"], verbs: ["create", "list"])]
        try await withClient(kind, namespace: namespace, rules: rules, id: id) { client in
            let names = (0..<5).map { "paged-\($0)" }
            for name in names { _ = try await client.create(Secret(name: name, namespace: namespace, data: ["k": [1]])) }
            var seen: [String] = []
            var pages = 0
            var token: String?
            var versions: Set<String> = []
            repeat {
                let page = try await client.listPage(Secret.self, namespace: namespace, limit: 2, continueToken: token)
                pages += 1
                #expect(page.items.count <= 2)
                seen += page.items.compactMap(\.metadata.name).filter { $0.hasPrefix("paged-") }
                if let version = page.metadata.resourceVersion { versions.insert(version) }
                token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil && pages < 10
            #expect(seen.sorted() == names)
            #expect(pages >= 3)
            #expect(versions.count == 1, "every page answers the first page's resourceVersion")
        }
    }

    private func withClient(
        _ kind: APIServerKind, namespace: String, rules: [PolicyRule], id: String, _ body: (KubernetesClient) async throws -> Void
    ) async throws {
        let logs = CapturedLogs()
        switch kind {
        case .standIn:
            let token = "token-\(id)"
            try await LiveCluster.run(users: [TestUser(name: "helper", token: token, rules: rules)], namespaces: ["default", namespace]) { cluster in
                try await cluster.withClient(auth: .bearerToken(token)) { client in try await body(client) }
            }
        case .real:
            let server = try #require(RealAPIServer.shared)
            try await server.createNamespace(namespace)
            let identity = try await server.makeIdentity(name: "client-\(id)", rules: rules)
            let configuration = KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: .bearerToken(identity.token))
            let client = try KubernetesClient(configuration: configuration, logger: logs.logger(label: "kube"))
            do {
                try await body(client)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}
