#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

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
    /// Whether a connection that fails (refused, TLS) is tried again until `connectTimeout`, for a
    /// long-running process that rides out a restarting server. One-shot commands turn it off: a user at
    /// a terminal wants "connection refused" at once, not after the timeout.
    public var retriesFailedConnections = true
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
            namespace = String(String(decoding: try FileAccess.read(namespacePath, purpose: "in-cluster namespace file"), as: UTF8.self).trimmingASCIIWhitespace())
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
    public static func kubeconfig(path: String, context: String? = nil, namespace: String? = nil) throws -> KubeConfiguration {
        try kubeconfig(path: path, context: context, namespace: namespace, home: nil)
    }

    static func kubeconfig(path: String, context: String?, namespace: String? = nil, home: String?) throws(KubeConfigurationError) -> KubeConfiguration {
        let file = try KubeconfigFile.load(path: path)
        if file.isEmpty && file.currentContext == nil { throw KubeConfigurationError("kubeconfig \(path) is empty") }
        return try file.configuration(context: context, namespace: namespace, home: home)
    }

    /// Picks the configuration as kubectl does (client-go tools/clientcmd: loader.go for the files,
    /// merged_client_builder.go for the fallback to in-cluster):
    /// 1. `--kubeconfig` names one file, which must exist; nothing is merged.
    /// 2. Otherwise `$KUBECONFIG`, a ':'-separated list, merged by client-go's rules (`KubeconfigFile.merge`;
    ///    missing files are skipped), or `~/.kube/config` when KUBECONFIG is unset.
    /// 3. When that yields no configuration at all, in-cluster (`KUBERNETES_SERVICE_HOST`).
    /// `context` replaces the current-context and `namespace` the context's namespace (kubectl's
    /// --context and --namespace).
    public static func resolve(
        kubeconfigPath: String?, context: String?, namespace: String? = nil, environment: [String: String]
    ) throws -> KubeConfiguration {
        let home = environment["HOME"]
        if let kubeconfigPath, !kubeconfigPath.isEmpty {
            return try kubeconfig(path: kubeconfigPath, context: context, namespace: namespace, home: home)
        }
        var paths: [String] = []
        var fromVariable = false
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            fromVariable = true
        } else if let home, !home.isEmpty {
            paths = [(home.hasSuffix("/") ? home : home + "/") + ".kube/config"]
        }
        let (merged, missing) = try KubeconfigFile.merge(paths: paths)
        if !merged.isEmpty {
            return try merged.configuration(context: context, namespace: namespace, home: home)
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            var configuration = try inCluster(environment: environment)
            if let namespace, !namespace.isEmpty { configuration.namespace = namespace }
            return configuration
        }
        if fromVariable, merged.paths.isEmpty {
            throw KubeConfigurationError("KUBECONFIG names no existing file: \(missing.joined(separator: ", "))")
        }
        if !merged.paths.isEmpty {
            throw KubeConfigurationError("kubeconfig \(merged.location) holds no clusters, users or contexts")
        }
        throw KubeConfigurationError(
            "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, run in a pod (KUBERNETES_SERVICE_HOST), or create ~/.kube/config"
        )
    }
}
