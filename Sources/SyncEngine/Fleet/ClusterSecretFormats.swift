#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient

/// The kubeconfig Secrets a fleet reads (CLUSTER_SECRET_SELECTOR), by format. Pure: a Secret in, a
/// target (or nothing) out.
///
/// | format | recognised by | cluster name | connection |
/// |---|---|---|---|
/// | Cluster API | label `cluster.x-k8s.io/cluster-name: C`, Secret named `C-kubeconfig` | `C` | kubeconfig in key `value` |
/// | Argo CD | label `argocd.argoproj.io/secret-type: cluster` | key `name` | key `server` and JSON key `config` |
/// | plain | anything else with a `kubeconfig` (or `value`) key | the Secret's name | that kubeconfig |
///
/// Cluster API labels its other Secrets of a cluster (`C-ca`, `C-etcd`, `C-sa`, `C-user-kubeconfig`)
/// with the same label: they are not kubeconfigs for the helper and are skipped.
public enum ClusterSecretFormat: String, Sendable {
    case clusterAPI = "Cluster API"
    case argoCD = "Argo CD"
    case plain = "kubeconfig"

    public static let clusterAPILabel = "cluster.x-k8s.io/cluster-name"
    public static let argoCDLabel = "argocd.argoproj.io/secret-type"
    /// Overrides the name a Secret gives its cluster.
    public static let clusterNameAnnotation = "aws-ecr-cred-helper/cluster-name"

    /// The target a Secret describes; nil for a Secret that is not a kubeconfig (Cluster API's other
    /// Secrets, anything without a known key).
    public static func target(of secret: Secret) -> ClusterTarget? {
        let labels = secret.metadata.labels ?? [:]
        let secretName = secret.metadata.name ?? "?"
        let origin = { (format: ClusterSecretFormat) in "secret \(secret.metadata.namespace ?? "?")/\(secretName) (\(format.rawValue))" }
        let override = NamespaceOverride(annotations: secret.metadata.annotations)
        let explicitName = secret.metadata.annotations?[clusterNameAnnotation]

        if labels[argoCDLabel] == "cluster" {
            let name = explicitName ?? secret.decodedData("name").map { String(decoding: $0, as: UTF8.self) } ?? secretName
            let source = origin(.argoCD)
            let digest = ContentDigest.of([secret.decodedData("server") ?? [], secret.decodedData("config") ?? []])
            let connection = ArgoCDClusterConfig.configuration(
                server: secret.decodedData("server").map { String(decoding: $0, as: UTF8.self) },
                config: secret.decodedData("config"), origin: source)
            return make(name: name, origin: source, connection: connection, digest: digest, override: override)
        }
        if let cluster = labels[clusterAPILabel] {
            guard secretName == "\(cluster)-kubeconfig", let value = secret.decodedData("value") else { return nil }
            let source = origin(.clusterAPI)
            return make(name: explicitName ?? cluster, origin: source, connection: kubeconfig(value, origin: source), digest: ContentDigest.of([value]), override: override)
        }
        guard let value = secret.decodedData("kubeconfig") ?? secret.decodedData("value") else { return nil }
        let source = origin(.plain)
        return make(name: explicitName ?? secretName, origin: source, connection: kubeconfig(value, origin: source), digest: ContentDigest.of([value]), override: override)
    }

    static func make(name: String, origin: String, connection: Result<KubeConfiguration, ClusterSourceError>, digest: String, override: NamespaceOverride) -> ClusterTarget {
        let name = String(name.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        var connection = connection
        if !ClusterTarget.isValidName(name) {
            connection = .failure(ClusterSourceError("\(origin): cluster name \"\(name.prefix(80))\" is not a DNS label (lowercase letters, digits and '-', at most 63 characters); set the annotation \(clusterNameAnnotation)"))
        }
        return ClusterTarget(name: name, origin: origin, connection: connection, digest: digest, namespaceOverride: override)
    }

    /// A kubeconfig's current context, with the error's origin and never its contents.
    static func kubeconfig(_ bytes: [UInt8], origin: String) -> Result<KubeConfiguration, ClusterSourceError> {
        do {
            return .success(try KubeConfiguration.kubeconfig(contents: bytes, origin: origin))
        } catch {
            return .failure(ClusterSourceError("\(error)"))
        }
    }
}

/// Argo CD's cluster `config` (its `ClusterConfig`, a subset of client-go's rest.Config): `bearerToken`,
/// `tlsClientConfig` {`caData`, `certData`, `keyData` (base64 PEM), `insecure`, `serverName`},
/// `execProviderConfig` (run as a client-go exec plugin; the command must exist in the helper's image), and
/// `awsAuthConfig`, `username`/`password`, which this helper does not use.
enum ArgoCDClusterConfig {
    struct Config: Decodable {
        struct TLS: Decodable {
            var caData: String?
            var certData: String?
            var keyData: String?
            var insecure: Bool?
            var serverName: String?
        }
        var bearerToken: String?
        var tlsClientConfig: TLS?
        var username: String?
        var password: String?
        var execProviderConfig: ExecProvider?
        var awsAuthConfig: AWSAuth?
        struct ExecProvider: Decodable {
            var command: String?
            var args: [String]?
            var env: [String: String]?
            var apiVersion: String?
            var installHint: String?
        }
        struct AWSAuth: Decodable { var clusterName: String? }
    }

    static func configuration(server: String?, config: [UInt8]?, origin: String) -> Result<KubeConfiguration, ClusterSourceError> {
        guard let server, !server.isEmpty else {
            return .failure(ClusterSourceError("\(origin) has no key server: add the cluster's API server URL"))
        }
        guard let config, !config.isEmpty else {
            return .failure(ClusterSourceError("\(origin) has no key config: add the JSON with bearerToken and tlsClientConfig"))
        }
        let parsed: Config
        do {
            parsed = try JSONDecoder().decode(Config.self, from: Data(config))
        } catch {
            return .failure(ClusterSourceError("\(origin): key config is not the JSON Argo CD expects (bearerToken, tlsClientConfig)"))
        }
        if parsed.awsAuthConfig != nil {
            return .failure(ClusterSourceError("\(origin) uses awsAuthConfig (argocd-k8s-auth), which this helper does not run: give it a bearerToken or client certificate, or a kubeconfig Secret"))
        }
        var caPEM: [UInt8]?
        var certificate: [UInt8]?
        var key: [UInt8]?
        for (field, text) in [("caData", parsed.tlsClientConfig?.caData), ("certData", parsed.tlsClientConfig?.certData), ("keyData", parsed.tlsClientConfig?.keyData)] {
            guard let text, !text.isEmpty else { continue }
            guard let bytes = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                return .failure(ClusterSourceError("\(origin): tlsClientConfig.\(field) is not base64"))
            }
            switch field {
            case "caData": caPEM = Array(bytes)
            case "certData": certificate = Array(bytes)
            default: key = Array(bytes)
            }
        }
        let auth: KubeAuth
        if let exec = parsed.execProviderConfig {
            // Run as client-go runs it for Argo CD: the plugin must exist in the helper's image.
            guard let command = exec.command, !command.isEmpty else {
                return .failure(ClusterSourceError("\(origin): execProviderConfig has no command"))
            }
            let apiVersion = exec.apiVersion ?? ExecConfig.apiVersions[0]
            guard ExecConfig.apiVersions.contains(apiVersion) else {
                return .failure(ClusterSourceError("\(origin): execProviderConfig.apiVersion \(apiVersion) is not one of \(ExecConfig.apiVersions.joined(separator: ", "))"))
            }
            auth = .exec(ExecConfig(
                command: command, args: exec.args ?? [], env: (exec.env ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) },
                apiVersion: apiVersion, installHint: exec.installHint,
                cluster: ExecClusterInfo(server: server, certificateAuthorityData: caPEM, insecureSkipTLSVerify: parsed.tlsClientConfig?.insecure ?? false, tlsServerName: parsed.tlsClientConfig?.serverName),
                user: origin))
        } else if let token = parsed.bearerToken, !token.isEmpty {
            auth = .bearerToken(token)
        } else if let certificate, let key {
            auth = .clientCertificate(certificatePEM: certificate, keyPEM: key)
        } else if parsed.username != nil || parsed.password != nil {
            return .failure(ClusterSourceError("\(origin) uses username/password, which Kubernetes no longer accepts: give it a bearerToken or client certificate"))
        } else {
            return .failure(ClusterSourceError("\(origin): config has neither bearerToken nor tlsClientConfig certData and keyData"))
        }
        var configuration = KubeConfiguration(server: server, caPEM: caPEM, auth: auth, insecureSkipTLSVerify: parsed.tlsClientConfig?.insecure ?? false)
        configuration.origin = origin
        return .success(configuration)
    }
}
