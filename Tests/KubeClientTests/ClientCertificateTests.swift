import Foundation
import Testing
import TestSupport

@testable import KubeClient

@Suite struct ClientCertificateTests {
    @Test func presentsTheKubeconfigsClientCertificate() async throws {
        let server = try await MutualTLSServer.start()
        do {
            try await checkClientCertificate(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func checkClientCertificate(_ server: MutualTLSServer) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        let path = try directory.write("config", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: mtls
              cluster:
                server: \(server.url)
                certificate-authority-data: \(base64(server.caPEM))
            users:
            - name: admin
              user:
                client-certificate-data: \(base64(server.clientCertificatePEM))
                client-key-data: \(base64(server.clientKeyPEM))
            contexts:
            - name: mtls
              context: {cluster: mtls, user: admin}
            current-context: mtls
            """)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        let logs = CapturedLogs()
        let client = try KubernetesClient(configuration: configuration, logger: logs.logger())
        let namespace = try await client.get(Namespace.self, namespace: nil, name: "default")
        #expect(namespace.status?.phase == "Active")
        try await client.shutdown()

        // Without the certificate the handshake is refused.
        var anonymous = configuration
        anonymous.auth = .none
        // The client retries the refused handshake until connectTimeout before it reports it.
        anonymous.connectTimeout = .seconds(1)
        let refused = try KubernetesClient(configuration: anonymous, logger: logs.logger())
        await #expect {
            _ = try await refused.get(Namespace.self, namespace: nil, name: "default")
        } throws: { error in
            error is KubeTransportError
        }
        try await refused.shutdown()
        #expect(logs.lines(containingAnyOf: ["PRIVATE KEY", String(server.clientKeyPEM.dropFirst(40).prefix(30))]).isEmpty)
    }

    @Test func invalidKeyMaterialIsReportedWithoutQuotingIt() {
        let configuration = KubeConfiguration(
            server: "https://127.0.0.1:1", auth: .clientCertificate(certificatePEM: Array("not a cert".utf8), keyPEM: Array("not a key".utf8))
        )
        #expect {
            _ = try KubernetesClient(configuration: configuration, logger: CapturedLogs().logger())
        } throws: { error in
            "\(error)".hasPrefix("the client certificate is not valid PEM")
        }
    }
}
