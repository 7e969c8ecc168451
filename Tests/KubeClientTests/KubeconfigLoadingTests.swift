import Foundation
import Testing

@testable import KubeClient

@Suite struct KubeconfigLoadingTests {
    @Test func kindKubeconfigUsesClientCertificateAndCAData() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", KubeconfigFixtures.kind)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        #expect(configuration.server == "https://127.0.0.1:36283")
        #expect(String(decoding: try #require(configuration.caPEM), as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
        guard case .clientCertificate(let certificate, let key) = configuration.auth else {
            Issue.record("expected a client certificate, got \(configuration.auth)")
            return
        }
        #expect(String(decoding: certificate, as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(String(decoding: key, as: UTF8.self).hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(configuration.namespace == nil)
        #expect(!configuration.insecureSkipTLSVerify)
    }

    @Test func jsonKubeconfigWithTokenAndNamespace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config.json", KubeconfigFixtures.json)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        #expect(configuration.server == "https://kubernetes.docker.internal:6443")
        #expect(configuration.namespace == "kube-system")
        guard case .bearerToken(let token) = configuration.auth else {
            Issue.record("expected a bearer token")
            return
        }
        #expect(token == "abc.def.ghi")
        #expect(!"\(configuration)".contains("abc.def.ghi"))
    }

    @Test func relativeFilesResolveAgainstTheKubeconfigFolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("certs/prod-ca.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
        let path = try directory.write("nested/config", KubeconfigFixtures.handEdited.replacingOccurrences(of: "certs/prod-ca.pem", with: "../certs/prod-ca.pem"))
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        #expect(configuration.server == "https://[fd00::10]:6443")
        #expect(configuration.namespace == "team-a")
        #expect(String(decoding: try #require(configuration.caPEM), as: UTF8.self).contains("BEGIN CERTIFICATE"))
        guard case .bearerToken(let token) = configuration.auth else {
            Issue.record("expected a bearer token")
            return
        }
        #expect(token == "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.payload#with:colons")
    }

    @Test func explicitContextAndInsecureFlag() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", KubeconfigFixtures.handEdited)
        let configuration = try KubeConfiguration.kubeconfig(path: path, context: "staging")
        #expect(configuration.server == "https://staging.example.com")
        #expect(configuration.insecureSkipTLSVerify)
        #expect(configuration.caPEM == nil)
    }

    @Test func tokenFileIsResolvedAndKept() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("token", "t0ken\n")
        let path = try directory.write("config", """
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            users: [{name: u, user: {tokenFile: token}}]
            contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
            current-context: x
            """)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        guard case .tokenFile(let file) = configuration.auth else {
            Issue.record("expected a token file")
            return
        }
        #expect(file == directory.path + "/token")
    }

    @Test func clientCertificateFilesAreRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("client.crt", "CERT")
        try directory.write("client.key", "KEY")
        try directory.write("ca.crt", "CA")
        let text = KubeconfigFixtures.minikube
            .replacingOccurrences(of: "/home/user/.minikube/profiles/minikube/", with: "")
            .replacingOccurrences(of: "/home/user/.minikube/ca.crt", with: "ca.crt")
        let path = try directory.write("config", text)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        #expect(configuration.caPEM == Array("CA".utf8))
        #expect(configuration.namespace == "default")
        guard case .clientCertificate(let certificate, let key) = configuration.auth else {
            Issue.record("expected a client certificate")
            return
        }
        #expect(certificate == Array("CERT".utf8))
        #expect(key == Array("KEY".utf8))
    }

    // MARK: Errors

    @Test func missingFile() {
        #expect(throws: KubeConfigurationError("kubeconfig /nonexistent/kubeconfig does not exist")) {
            try KubeConfiguration.kubeconfig(path: "/nonexistent/kubeconfig")
        }
    }

    @Test func missingContextListsTheContexts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", KubeconfigFixtures.handEdited)
        #expect(throws: KubeConfigurationError("context \"nope\" not found in \(path); contexts: team-a@prod, staging")) {
            try KubeConfiguration.kubeconfig(path: path, context: "nope")
        }
    }

    @Test func missingClusterAndUser() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", """
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            users: [{name: u, user: {token: secret-token}}]
            contexts:
            - {name: no-cluster, context: {cluster: gone, user: u}}
            - {name: no-user, context: {cluster: c, user: ghost}}
            """)
        #expect(throws: KubeConfigurationError("cluster \"gone\" (of context \"no-cluster\") not found in \(path); clusters: c")) {
            try KubeConfiguration.kubeconfig(path: path, context: "no-cluster")
        }
        #expect(throws: KubeConfigurationError("user \"ghost\" (of context \"no-user\") not found in \(path); users: u")) {
            try KubeConfiguration.kubeconfig(path: path, context: "no-user")
        }
        #expect(throws: KubeConfigurationError("kubeconfig \(path) has no current-context; pass a context with --context (contexts: no-cluster, no-user)")) {
            try KubeConfiguration.kubeconfig(path: path)
        }
    }

    @Test func unreadableCAFileIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", KubeconfigFixtures.handEdited)
        #expect(throws: KubeConfigurationError("certificate-authority file of cluster \"prod\" \(directory.path)/certs/prod-ca.pem does not exist")) {
            try KubeConfiguration.kubeconfig(path: path)
        }
    }

    /// EKS's `aws eks get-token` entry, as `aws eks update-kubeconfig` writes it.
    @Test func eksExecPluginIsRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", KubeconfigFixtures.exec)
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        guard case .exec(let exec) = configuration.auth else { Issue.record("\(configuration.auth)"); return }
        #expect(exec.command == "aws")
        #expect(exec.args == ["--region", "us-east-1", "eks", "get-token", "--cluster-name", "demo"])
        #expect(exec.env.map(\.name) == ["AWS_PROFILE"] && exec.env.map(\.value) == ["prod"])
        #expect(exec.apiVersion == "client.authentication.k8s.io/v1beta1")
        // v1beta1 without interactiveMode: IfAvailable (client-go api/v1/defaults.go).
        #expect(exec.interactiveMode == .ifAvailable)
        #expect(!exec.provideClusterInfo)
        #expect(exec.cluster.server == "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com")
        #expect("\(configuration.auth)" == "exec plugin aws")
    }

    @Test func invalidYAMLNamesTheFileAndLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "clusters:\n- name: a\n  cluster: &x {}\n")
        #expect(throws: KubeConfigurationError("kubeconfig \(path) is not valid YAML: line 3, column 12: anchors (&) are not supported")) {
            try KubeConfiguration.kubeconfig(path: path)
        }
    }

    // MARK: resolve

    @Test func resolveOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let flag = try directory.write("flag", KubeconfigFixtures.kind)
        let fromEnvironment = try directory.write("env", KubeconfigFixtures.k3s)
        try directory.write("home/.kube/config", KubeconfigFixtures.json)
        let home = directory.path + "/home"

        let byFlag = try KubeConfiguration.resolve(kubeconfigPath: flag, context: nil, environment: ["KUBECONFIG": fromEnvironment, "HOME": home])
        #expect(byFlag.server == "https://127.0.0.1:36283")

        let byEnvironment = try KubeConfiguration.resolve(
            kubeconfigPath: nil, context: nil,
            environment: ["KUBECONFIG": "/missing/one:\(fromEnvironment):\(flag)", "HOME": home, "KUBERNETES_SERVICE_HOST": "10.0.0.1"]
        )
        #expect(byEnvironment.server == "https://127.0.0.1:6443")

        let byHome = try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["HOME": home])
        #expect(byHome.server == "https://kubernetes.docker.internal:6443")

        #expect(throws: KubeConfigurationError("KUBECONFIG names no existing file: /a, /b")) {
            try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["KUBECONFIG": "/a:/b", "HOME": home])
        }
        #expect {
            try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["HOME": directory.path + "/nohome"])
        } throws: { error in
            "\(error)".hasPrefix("no Kubernetes configuration found")
        }
    }

    /// As client-go's DeferredLoadingClientConfig: a kubeconfig that exists wins; in-cluster is the fallback
    /// when the files give no configuration at all.
    @Test func resolveFallsBackToInClusterOnlyWithoutAKubeconfig() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("home/.kube/config", KubeconfigFixtures.json)
        let inPod = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let byHome = try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: inPod.merging(["HOME": directory.path + "/home"]) { $1 })
        #expect(byHome.server == "https://kubernetes.docker.internal:6443")
        // Without one, in-cluster is chosen (and fails on the missing ServiceAccount files, which proves it).
        for environment in [inPod.merging(["HOME": directory.path + "/nohome"]) { $1 }, inPod.merging(["KUBECONFIG": "/missing"]) { $1 }] {
            #expect {
                try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: environment)
            } throws: { error in
                "\(error)".contains("/var/run/secrets/kubernetes.io/serviceaccount/token")
            }
        }
    }
}

@Suite struct InClusterConfigurationTests {
    @Test func readsServiceAccountFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("token", "tok")
        try directory.write("ca.crt", "CA")
        try directory.write("namespace", "kube-system\n")
        let configuration = try KubeConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory.path
        )
        #expect(configuration.server == "https://10.96.0.1:443")
        #expect(configuration.caPEM == Array("CA".utf8))
        #expect(configuration.namespace == "kube-system")
        guard case .tokenFile(let path) = configuration.auth else {
            Issue.record("expected a token file")
            return
        }
        #expect(path == directory.path + "/token")
    }

    @Test func bracketsIPv6Hosts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("token", "tok")
        try directory.write("ca.crt", "CA")
        try directory.write("namespace", "ns")
        let configuration = try KubeConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"], serviceAccountDirectory: directory.path
        )
        #expect(configuration.server == "https://[fd00:10:96::1]:6443")
    }

    @Test func namesTheMissingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        #expect(throws: KubeConfigurationError("in-cluster ServiceAccount token file \(directory.path)/token does not exist")) {
            try KubeConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path)
        }
        try directory.write("token", "tok")
        #expect(throws: KubeConfigurationError("in-cluster CA file \(directory.path)/ca.crt does not exist")) {
            try KubeConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path)
        }
        try directory.write("ca.crt", "CA")
        #expect(throws: KubeConfigurationError("in-cluster namespace file \(directory.path)/namespace does not exist (and POD_NAMESPACE is not set)")) {
            try KubeConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory.path)
        }
        #expect(throws: KubeConfigurationError("not running in a cluster: KUBERNETES_SERVICE_HOST is not set")) {
            try KubeConfiguration.inCluster(environment: [:], serviceAccountDirectory: directory.path)
        }
    }
}
