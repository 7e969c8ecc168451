import Foundation
import Testing

@testable import KubeClient

/// KUBECONFIG as a list of files, merged by client-go's rules (tools/clientcmd/loader.go), and kubectl's
/// --context and --namespace.
@Suite struct KubeconfigMergeTests {
    static let first = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev
          cluster:
            server: https://dev.example:6443
            certificate-authority: certs/dev-ca.pem
        users:
        - name: me
          user:
            token: first-token
        contexts:
        - name: dev
          context: {cluster: dev, user: me, namespace: team-a}
        """

    static let second = """
        apiVersion: v1
        kind: Config
        current-context: prod
        clusters:
        - name: dev
          cluster:
            server: https://other-dev.example:6443
        - name: prod
          cluster:
            server: https://prod.example:6443
            certificate-authority: certs/prod-ca.pem
        users:
        - name: me
          user:
            token: second-token
            tokenFile: ignored
        - name: ops
          user:
            tokenFile: tokens/ops
        contexts:
        - name: prod
          context: {cluster: prod, user: ops}
        """

    func files() throws -> (TemporaryDirectory, String, String) {
        let directory = try TemporaryDirectory()
        let a = try directory.write("a/config", Self.first)
        try directory.write("a/certs/dev-ca.pem", "DEV CA")
        let b = try directory.write("b/config", Self.second)
        try directory.write("b/certs/prod-ca.pem", "PROD CA")
        try directory.write("b/tokens/ops", "ops-token\n")
        return (directory, a, b)
    }

    @Test func firstFileToNameAnEntryWinsIt() throws {
        let (directory, a, b) = try files()
        defer { directory.remove() }
        let environment = ["KUBECONFIG": "\(a):\(b)", "HOME": directory.path]
        // current-context from the first file that sets one; that file's cluster and user, whole.
        let dev = try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: environment)
        #expect(dev.server == "https://dev.example:6443", "the first file's cluster \"dev\" wins over the second's")
        #expect(dev.caPEM == Array("DEV CA".utf8))
        guard case .bearerToken(let token) = dev.auth else { Issue.record("\(dev.auth)"); return }
        #expect(token == "first-token", "the second file's tokenFile for user \"me\" is discarded with the rest of its entry")
        #expect(dev.namespace == "team-a")
        #expect(dev.origin == "kubeconfig \(a), \(b) (context dev)")

        // An entry only the second file has; its relative paths resolve against the second file's folder.
        let prod = try KubeConfiguration.resolve(kubeconfigPath: nil, context: "prod", environment: environment)
        #expect(prod.server == "https://prod.example:6443")
        #expect(prod.caPEM == Array("PROD CA".utf8))
        guard case .tokenFile(let path) = prod.auth else { Issue.record("\(prod.auth)"); return }
        #expect(path == directory.path + "/b/tokens/ops")
        #expect(prod.namespace == nil)

        // The other order: the second file's current-context and its "dev" cluster.
        let reversed = try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["KUBECONFIG": "\(b):\(a)"])
        #expect(reversed.server == "https://prod.example:6443")
        let otherDev = try KubeConfiguration.resolve(kubeconfigPath: nil, context: "dev", environment: ["KUBECONFIG": "\(b):\(a)"])
        #expect(otherDev.server == "https://other-dev.example:6443")
    }

    @Test func missingAndRepeatedFilesAreSkipped() throws {
        let (directory, a, b) = try files()
        defer { directory.remove() }
        let configuration = try KubeConfiguration.resolve(
            kubeconfigPath: nil, context: "prod", environment: ["KUBECONFIG": "/missing/one::\(a):\(a):/missing/two:\(b)"]
        )
        #expect(configuration.server == "https://prod.example:6443")
        #expect(configuration.origin == "kubeconfig \(a), \(b) (context prod)")
        #expect(throws: KubeConfigurationError("context \"staging\" not found in \(a), \(b); contexts: dev, prod")) {
            try KubeConfiguration.resolve(kubeconfigPath: nil, context: "staging", environment: ["KUBECONFIG": "\(a):\(b)"])
        }
    }

    /// A file that exists but is not a kubeconfig is an error naming it, even in a list.
    @Test func anInvalidFileInTheListIsNamed() throws {
        let (directory, a, _) = try files()
        defer { directory.remove() }
        let bad = try directory.write("bad", "clusters: 3\n")
        #expect(throws: KubeConfigurationError("kubeconfig \(bad): clusters is not a list")) {
            try KubeConfiguration.resolve(kubeconfigPath: nil, context: nil, environment: ["KUBECONFIG": "\(a):\(bad)"])
        }
    }

    /// --kubeconfig names one file: no merge with KUBECONFIG.
    @Test func theFlagNamesOneFile() throws {
        let (directory, a, b) = try files()
        defer { directory.remove() }
        #expect(throws: KubeConfigurationError("context \"prod\" not found in \(a); contexts: dev")) {
            try KubeConfiguration.resolve(kubeconfigPath: a, context: "prod", environment: ["KUBECONFIG": b])
        }
    }

    /// --namespace wins over the context's namespace (client_config.go, `Namespace()`).
    @Test func namespaceOverride() throws {
        let (directory, a, _) = try files()
        defer { directory.remove() }
        let configuration = try KubeConfiguration.resolve(kubeconfigPath: a, context: nil, namespace: "ops", environment: [:])
        #expect(configuration.namespace == "ops")
        #expect(try KubeConfiguration.resolve(kubeconfigPath: a, context: nil, environment: [:]).namespace == "team-a")
    }

    /// A cluster's exec extension reaches the plugin as JSON with its types.
    @Test func execExtensionBecomesJSON() throws {
        let yaml = try #require(try YAMLReader.parse(bytes: Array("""
            audience: 06e3fbd18de8
            port: 443
            enabled: true
            quoted: "true"
            list: [a, 1]
            nothing: ~
            """.utf8)))
        #expect(YAMLJSON.encode(yaml) == #"{"audience":"06e3fbd18de8","port":443,"enabled":true,"quoted":"true","list":["a",1],"nothing":null}"#)
    }
}
