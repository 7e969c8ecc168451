import Foundation
import KubeTestServer
import Testing
import TestSupport

@testable import KubeClient

@Suite struct ClientRequestTests {
    @Test func createGetListApplyPatchReplaceDelete() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let created = try await client.create(Secret(name: "s1", namespace: "team-a", type: "Opaque", data: ["k": Array("v1".utf8)], labels: ["app": "x"]))
                #expect(created.metadata.resourceVersion != nil)
                #expect(created.decodedString("k") == "v1")

                let fetched = try await client.get(Secret.self, namespace: "team-a", name: "s1")
                #expect(fetched.metadata.uid == created.metadata.uid)
                #expect(fetched.metadata.labels == ["app": "x"])

                let listed = try await client.list(Secret.self, namespace: nil, fieldSelector: "metadata.name=s1")
                #expect(listed.items.map(\.metadata.namespace) == ["team-a"])
                #expect(listed.metadata.resourceVersion != nil)
                let byLabel = try await client.list(Secret.self, namespace: "team-a", labelSelector: "app in (x, y)")
                #expect(byLabel.items.count == 1)

                let applied = try await client.apply(
                    Secret(name: "s1", namespace: "team-a", type: "Opaque", data: ["k": Array("v2".utf8)]), fieldManager: "kubeclient-tests"
                )
                #expect(applied.decodedString("k") == "v2")
                let stored = await cluster.server.object("secrets", namespace: "team-a", name: "s1")
                #expect(stored?["data"]?["k"]?.stringValue == "djI=")

                struct LabelPatch: Encodable, Sendable {
                    struct Metadata: Encodable, Sendable { var labels: [String: String?] }
                    var metadata: Metadata
                }
                let patched = try await client.mergePatch(Secret.self, namespace: "team-a", name: "s1", patch: LabelPatch(metadata: .init(labels: ["extra": "1"])))
                #expect(patched.metadata.labels?["extra"] == "1")

                var stale = created
                stale.data = ["k": Base64Bytes("stale")]
                await #expect {
                    _ = try await client.replace(stale)
                } throws: { error in
                    (error as? KubeAPIError)?.isConflict == true
                }
                var fresh = patched
                fresh.data = ["k": Base64Bytes("v3")]
                let replaced = try await client.replace(fresh)
                #expect(replaced.decodedString("k") == "v3")

                try await client.delete(Secret.self, namespace: "team-a", name: "s1")
                await #expect {
                    _ = try await client.get(Secret.self, namespace: "team-a", name: "s1")
                } throws: { error in
                    (error as? KubeAPIError)?.isNotFound == true
                }
            }
        }
    }

    @Test func clusterScopedNamespacesAndOtherKinds() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                let namespaces = try await client.list(Namespace.self, namespace: nil)
                #expect(Set(namespaces.items.compactMap(\.metadata.name)).isSuperset(of: ["default", "team-a"]))
                _ = try await client.create(Namespace(name: "fresh", labels: ["env": "test"]))
                let fresh = try await client.get(Namespace.self, namespace: nil, name: "fresh")
                #expect(fresh.metadata.labels?["env"] == "test")

                let account = try await client.apply(
                    ServiceAccount(metadata: ObjectMeta(name: "builder", namespace: "team-a"), imagePullSecrets: [LocalObjectReference(name: "registry-aws-ecr")]),
                    fieldManager: "kubeclient-tests"
                )
                #expect(account.imagePullSecrets == [LocalObjectReference(name: "registry-aws-ecr")])

                let event = try await client.create(
                    Event(
                        metadata: ObjectMeta(name: "e1", namespace: "team-a"),
                        involvedObject: ObjectReference(apiVersion: "v1", kind: "Secret", name: "s", namespace: "team-a"),
                        reason: "Synced", message: "planted", type: "Normal", count: 1,
                        firstTimestamp: KubeTime.time(Date()), lastTimestamp: KubeTime.time(Date()),
                        source: .init(component: "aws-ecr-cred-helper"), reportingComponent: "aws-ecr-cred-helper", reportingInstance: "pod-1"
                    )
                )
                #expect(event.reason == "Synced")
                #expect(event.involvedObject.name == "s")
            }
        }
    }

    @Test func originalHelperRoleAppliesItsOwnSecretOnly() async throws {
        let user = TestUser(name: "helper", token: "helper-token", rules: PolicyRule.originalHelperRole(secretName: "registry-aws-ecr"))
        try await LiveCluster.run(users: [user]) { cluster in
            try await cluster.withClient(auth: .bearerToken("helper-token")) { client in
                let secret = Secret(name: "registry-aws-ecr", namespace: "team-a", type: "Opaque", data: ["a": [1, 2, 3]])
                let created = try await client.apply(secret, fieldManager: "helper")
                #expect(created.decodedData("a") == [1, 2, 3])

                await #expect {
                    _ = try await client.create(secret)
                } throws: { error in
                    (error as? KubeAPIError)?.isAlreadyExists == true
                }

                let other = Secret(name: "someone-else", namespace: "team-a", data: ["a": [1]])
                await #expect {
                    _ = try await client.apply(other, fieldManager: "helper")
                } throws: { error in
                    guard let error = error as? KubeAPIError, error.isForbidden else { return false }
                    return error.description.hasPrefix("forbidden: cannot apply secrets/someone-else in namespace team-a (RBAC:")
                }

                await #expect {
                    _ = try await client.apply(Secret(name: "registry-aws-ecr", namespace: "missing-ns", data: [:]), fieldManager: "helper")
                } throws: { error in
                    (error as? KubeAPIError)?.isNotFound == true
                }

                await #expect {
                    _ = try await client.mergePatch(Secret.self, namespace: "team-b", name: "registry-aws-ecr", patch: ["type": "Opaque"])
                } throws: { error in
                    (error as? KubeAPIError)?.isNotFound == true
                }

                await #expect {
                    _ = try await client.list(Namespace.self, namespace: nil)
                } throws: { error in
                    (error as? KubeAPIError)?.isForbidden == true
                }

                #expect(try await client.canI(verb: "create", resource: "secrets", namespace: "team-a"))
                #expect(try await client.canI(verb: "get", resource: "secrets", namespace: "team-a", name: "registry-aws-ecr"))
                #expect(try await !client.canI(verb: "list", resource: "namespaces", namespace: nil))
            }
        }
    }

    @Test func throttlingAndServerErrorsAreRetryableWithRetryAfter() async throws {
        try await LiveCluster.run { cluster in
            try await cluster.withClient { client in
                await cluster.server.inject(FaultRule(method: "GET", pathContains: "/namespaces/default", fault: .status(429, retryAfterSeconds: 2), times: 1))
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    guard let error = error as? KubeAPIError else { return false }
                    return error.statusCode == 429 && error.isRetryable && error.retryAfter == .seconds(2)
                }
                await cluster.server.inject(FaultRule(method: "GET", pathContains: "/namespaces/default", fault: .status(503), times: 1))
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    guard let error = error as? KubeAPIError else { return false }
                    return error.statusCode == 503 && error.isRetryable
                }
                // The faults were used up: the next request goes through.
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
            }
        }
    }

    @Test func transportFailuresNameTheServer() async throws {
        try await LiveCluster.run { cluster in
            // Not trusting the server's CA: a TLS failure.
            var untrusted = cluster.configuration()
            untrusted.caPEM = nil
            // Not retried until the connect timeout: on a loaded machine the timeout could come before the
            // first handshake failed, and the error would be the timeout instead of the TLS failure.
            untrusted.retriesFailedConnections = false
            try await cluster.withClient(configuration: untrusted) { client in
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    guard let error = error as? KubeTransportError else { return false }
                    return error.kind == .tls && error.description.contains(cluster.server.url)
                }
            }
            var quick = cluster.configuration()
            quick.connectTimeout = .milliseconds(1500)
            try await cluster.withClient(configuration: quick) { client in
                await cluster.server.inject(FaultRule(method: "GET", pathContains: "/namespaces/default", fault: .dropConnection, times: 1))
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    (error as? KubeTransportError)?.isRetryable == true
                }
                try await cluster.server.stop()
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    guard let error = error as? KubeTransportError else { return false }
                    return error.kind == .unreachable && error.description.hasPrefix("cannot reach the Kubernetes API server at \(cluster.server.url)")
                }
            }
        }
    }

    @Test func unauthorizedRereadsTheTokenFileAndRetriesOnce() async throws {
        let first = TestUser(name: "rotating", token: "token-one", rules: [.everything])
        let second = TestUser(name: "rotating-next", token: "token-two", rules: [.everything])
        try await LiveCluster.run(users: [first, second]) { cluster in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tokenPath = try directory.write("token", "token-one\n")
            try await cluster.withClient(auth: .tokenFile(tokenPath)) { client in
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                // The kubelet rotates the projected token; the old one stops working.
                try directory.write("token", "token-two\n")
                await cluster.server.removeToken("token-one")
                await cluster.server.resetRequests()
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                let statuses = await cluster.server.requests().map(\.status)
                #expect(statuses == [401, 200])

                // Both tokens revoked: one retry, then the 401 surfaces.
                await cluster.server.removeToken("token-two")
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    (error as? KubeAPIError)?.isUnauthorized == true
                }
            }
            #expect(cluster.logs.lines(containingAnyOf: ["token-one", "token-two"]).isEmpty)
        }
    }

    @Test func kubeconfigWrittenByTheServerWorksEndToEnd() async throws {
        try await LiveCluster.run { cluster in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.path + "/kubeconfig"
            try cluster.server.writeKubeconfig(to: path, token: cluster.server.adminToken, namespace: "team-b")
            let configuration = try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["KUBECONFIG": path, "HOME": "/nonexistent"])
            #expect(configuration.namespace == "team-b")
            try await cluster.withClient(configuration: configuration) { client in
                let namespace = try await client.get(Namespace.self, namespace: nil, name: "team-b")
                #expect(namespace.metadata.name == "team-b")
            }
        }
    }

    @Test func inClusterConfigurationWorksEndToEnd() async throws {
        try await LiveCluster.run { cluster in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try directory.write("token", cluster.server.adminToken + "\n")
            try directory.write("ca.crt", cluster.server.caPEM)
            try directory.write("namespace", "team-a")
            let configuration = try KubeConfiguration.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "\(cluster.server.port)"],
                serviceAccountDirectory: directory.path
            )
            try await cluster.withClient(configuration: configuration) { client in
                let secret = try await client.apply(
                    Secret(name: "planted", namespace: configuration.namespace, data: ["k": [7]]), fieldManager: "in-cluster"
                )
                #expect(secret.metadata.namespace == "team-a")
            }
        }
    }

    @Test func insecureSkipTLSVerifyConnectsWithoutTheCAAndWarns() async throws {
        try await LiveCluster.run { cluster in
            let configuration = KubeConfiguration(server: cluster.server.url, caPEM: nil, auth: .bearerToken(cluster.server.adminToken), insecureSkipTLSVerify: true)
            try await cluster.withClient(configuration: configuration) { client in
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
            }
            #expect(cluster.logs.all.contains { $0.hasPrefix("warning") && $0.contains("TLS verification of the Kubernetes API server is OFF") })
        }
    }

    @Test func logsNeverHoldTokensOrSecretData() async throws {
        try await LiveCluster.run { cluster in
            let secretValue = "very-secret-password-value"
            let encoded = Data(secretValue.utf8).base64EncodedString()
            try await cluster.withClient { client in
                _ = try await client.apply(Secret(name: "s", namespace: "team-a", data: ["password": Array(secretValue.utf8)]), fieldManager: "t")
                _ = try await client.get(Secret.self, namespace: "team-a", name: "s")
                _ = try await client.list(Secret.self, namespace: "team-a")
                _ = try? await client.get(Secret.self, namespace: "team-a", name: "missing")
            }
            #expect(!cluster.logs.all.isEmpty, "requests are logged at debug level")
            #expect(cluster.logs.lines(containingAnyOf: [cluster.server.adminToken, secretValue, encoded, "Bearer"]).isEmpty)
            #expect(cluster.logs.all.contains { $0.contains("verb=apply") && $0.contains("status=") && $0.contains("path=/api/v1/namespaces/team-a/secrets/s") })
        }
    }
}
