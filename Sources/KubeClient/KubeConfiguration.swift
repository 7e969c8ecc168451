#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the API server is and how to authenticate to it.
public struct KubeConfiguration: Sendable, CustomStringConvertible {
    /// `https://host:port` (no trailing path).
    public var server: String
    /// The cluster CA bundle (PEM); nil trusts the system roots.
    public var caPEM: [UInt8]?
    public var auth: KubeAuth
    /// The pod's own namespace (in-cluster) or the kubeconfig context's namespace.
    public var namespace: String?
    /// Only when the kubeconfig says `insecure-skip-tls-verify: true`; the client logs a warning.
    public var insecureSkipTLSVerify: Bool
    /// How long a token read from a file is used before the file is read again.
    public var tokenRefreshInterval: Duration = .seconds(60)
    /// How long to keep trying to open a connection (TCP and TLS, retried within this time) before a
    /// request fails with `KubeTransportError`.
    public var connectTimeout: Duration = .seconds(10)
    /// Sent as `User-Agent`; the server's audit log and metrics show it.
    public var userAgent: String = "swift-kubeclient"
    /// Where this configuration came from, for logs: `in-cluster`, `kubeconfig /path (context x)`.
    public var origin: String = "explicit"

    public init(server: String, caPEM: [UInt8]? = nil, auth: KubeAuth = .none, namespace: String? = nil, insecureSkipTLSVerify: Bool = false) {
        self.server = server
        self.caPEM = caPEM
        self.auth = auth
        self.namespace = namespace
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    public var description: String {
        var text = "\(server) (\(origin); auth: \(auth)"
        if let namespace { text += "; namespace: \(namespace)" }
        if insecureSkipTLSVerify { text += "; TLS verification OFF" }
        return text + ")"
    }

    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a pod: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted ServiceAccount's
    /// `token` (re-read as it rotates), `ca.crt` and `namespace`.
    public static func inCluster(
        environment: [String: String],
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> KubeConfiguration {
        guard let rawHost = environment["KUBERNETES_SERVICE_HOST"], !rawHost.isEmpty else {
            throw KubeConfigurationError("not running in a cluster: KUBERNETES_SERVICE_HOST is not set")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubeConfigurationError("in-cluster configuration: KUBERNETES_SERVICE_PORT is not set")
        }
        let host = rawHost.contains(":") && !rawHost.hasPrefix("[") ? "[\(rawHost)]" : rawHost
        let directory = serviceAccountDirectory.hasSuffix("/") ? String(serviceAccountDirectory.dropLast()) : serviceAccountDirectory
        let tokenPath = directory + "/token"
        // Read the token once now so a missing mount fails at start-up, not on the first request.
        _ = try FileAccess.read(tokenPath, purpose: "in-cluster ServiceAccount token file")
        let ca = try FileAccess.read(directory + "/ca.crt", purpose: "in-cluster CA file")
        let namespacePath = directory + "/namespace"
        let namespace: String
        if FileAccess.exists(namespacePath) {
            namespace = String(String(decoding: try FileAccess.read(namespacePath, purpose: "in-cluster namespace file"), as: UTF8.self).trimmingWhitespace())
        } else if let podNamespace = environment["POD_NAMESPACE"], !podNamespace.isEmpty {
            namespace = podNamespace
        } else {
            throw KubeConfigurationError("in-cluster namespace file \(namespacePath) does not exist (and POD_NAMESPACE is not set)")
        }
        var configuration = KubeConfiguration(
            server: "https://\(host):\(port)", caPEM: ca, auth: .tokenFile(tokenPath), namespace: namespace.isEmpty ? nil : namespace
        )
        configuration.origin = "in-cluster"
        return configuration
    }

    /// A kubeconfig file's context (`context`, or the file's `current-context`).
    public static func kubeconfig(path: String, context: String? = nil) throws -> KubeConfiguration {
        try kubeconfig(path: path, context: context, home: nil)
    }

    static func kubeconfig(path: String, context: String?, home: String?) throws -> KubeConfiguration {
        let bytes = try FileAccess.read(path, purpose: "kubeconfig")
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes: bytes)
        } catch {
            throw KubeConfigurationError("kubeconfig \(path) is not valid YAML: \(error)")
        }
        guard let root else { throw KubeConfigurationError("kubeconfig \(path) is empty") }
        let file = try KubeconfigFile(root: root, path: path)
        return try file.configuration(context: context, home: home)
    }

    /// Picks the configuration the way kubectl users expect: the `--kubeconfig` flag, then `$KUBECONFIG`
    /// (the first existing file of its colon-separated list), then in-cluster when `KUBERNETES_SERVICE_HOST`
    /// is set, then `~/.kube/config`.
    public static func resolve(kubeconfigPath: String?, context: String?, environment: [String: String]) throws -> KubeConfiguration {
        let home = environment["HOME"]
        if let kubeconfigPath, !kubeconfigPath.isEmpty {
            return try kubeconfig(path: kubeconfigPath, context: context, home: home)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            if let first = paths.first(where: FileAccess.exists) {
                return try kubeconfig(path: first, context: context, home: home)
            }
            throw KubeConfigurationError("KUBECONFIG names no existing file: \(paths.joined(separator: ", "))")
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return try inCluster(environment: environment)
        }
        if let home, !home.isEmpty {
            let path = (home.hasSuffix("/") ? home : home + "/") + ".kube/config"
            if FileAccess.exists(path) { return try kubeconfig(path: path, context: context, home: home) }
        }
        throw KubeConfigurationError(
            "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, run in a pod (KUBERNETES_SERVICE_HOST), or create ~/.kube/config"
        )
    }
}
