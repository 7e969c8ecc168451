import Foundation
import KubeTestServer
import TestSupport
import Testing
import Yams

extension HelperBinaryTests {
    /// `render`: the manifests a sync would write, as YAML a GitOps tool can apply, without touching a cluster.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct RenderCommandTests {
        @Test func rendersOneDockerConfigSecretPerNamespaceWithoutTouchingTheCluster() async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a", "team-b"])

                // The kubeconfig points at a live server: it must see no request at all.
                let result = try await world.run("render")
                #expect(result.exitCode == 0, "\(result)")
                let requests = await world.server.requests()
                #expect(requests.isEmpty, "render talked to the cluster: \(requests)")
                try checkManifests(result.stdout, namespaces: ["default", "team-a", "team-b"], world: world)

                // And with a kubeconfig pointing at a closed port, it works just the same.
                let closed = world.directory + "/closed-kubeconfig"
                let port = try HTTPProbe.freePort()
                try KubeTestServer.kubeconfig(server: "https://127.0.0.1:\(port)", caPEM: world.server.caPEM, token: world.token)
                    .write(toFile: closed, atomically: true, encoding: .utf8)
                let offline = try await world.run(
                    "render",
                    ["--config-dir", world.configDirectory, "--aws-config-dir", world.awsConfigDirectory, "--kubeconfig", closed],
                    locations: false
                )
                #expect(offline.exitCode == 0, "\(offline)")
                try checkManifests(offline.stdout, namespaces: ["default", "team-a", "team-b"], world: world)
                #expect(!offline.output.contains(world.token))
                #expect(!offline.stderr.contains(world.moto.allowed.secretAccessKey))
            }
        }

        @Test func refusesNamespacePatternsItCannotResolveOffline() async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["team-*"])
                let result = try await world.run("render")
                #expect(result.exitCode != 0, "\(result)")
                #expect(result.stderr.contains("NAMESPACES"), "\(result)")
                #expect(await world.server.requests().isEmpty)
            }
        }

        /// Parses the output with Yams (an independent YAML implementation) and checks each document.
        private func checkManifests(_ yaml: String, namespaces: [String], world: HelperWorld) throws {
            var documents = try Yams.load_all(yaml: yaml)
            var seen: [String] = []
            while let document = documents.next() {
                let secret = try #require(document as? [String: Any], "a document is not a mapping: \(String(describing: document))")
                #expect(secret["apiVersion"] as? String == "v1")
                #expect(secret["kind"] as? String == "Secret")
                #expect(secret["type"] as? String == "kubernetes.io/dockerconfigjson")
                let metadata = try #require(secret["metadata"] as? [String: Any])
                #expect(metadata["name"] as? String == HelperWorld.secretName)
                let namespace = try #require(metadata["namespace"] as? String)
                seen.append(namespace)
                let labels = try #require(metadata["labels"] as? [String: Any])
                #expect(labels["app.kubernetes.io/managed-by"] as? String == "aws-ecr-cred-helper")
                let data = try #require(secret["data"] as? [String: Any])
                let encoded = try #require(data[".dockerconfigjson"] as? String)
                let json = try #require(Data(base64Encoded: encoded), "not base64: \(encoded)")
                let config = try JSONDecoder().decode(DockerConfig.self, from: json)
                let host = "https://\(world.moto.account).dkr.ecr.\(world.moto.region).amazonaws.com"
                let entry = try #require(config.auths[host], "\(config.auths.keys)")
                #expect(entry.auth == Data("AWS:\(entry.password)".utf8).base64EncodedString())
            }
            #expect(documents.error == nil, "YAML error: \(String(describing: documents.error))")
            #expect(seen == namespaces)
        }
    }
}
