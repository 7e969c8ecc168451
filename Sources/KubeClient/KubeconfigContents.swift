/// Kubeconfigs that are not files: the contents of a Secret (Cluster API's `<cluster>-kubeconfig`, a
/// fleet's kubeconfig Secrets). Relative file references in them cannot be resolved and are refused by
/// the same rules as a file's missing references.
extension KubeConfiguration {
    /// The configuration of `contents` (a kubeconfig document), its `current-context` unless `context` is
    /// given. `origin` names where the bytes came from in every error (`secret ns/name key value`); the
    /// contents themselves never appear in an error.
    public static func kubeconfig(contents: [UInt8], origin: String, context: String? = nil) throws -> KubeConfiguration {
        guard !contents.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            throw KubeConfigurationError("kubeconfig \(origin) is empty")
        }
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes: contents)
        } catch {
            throw KubeConfigurationError("kubeconfig \(origin) is not valid YAML")
        }
        guard let root else { throw KubeConfigurationError("kubeconfig \(origin) is empty") }
        let file = try KubeconfigFile(root: root, path: origin)
        var configuration = try file.configuration(context: context, namespace: nil, home: nil)
        configuration.origin = "kubeconfig \(origin)"
        return configuration
    }
}

extension ExecClusterInfo {
    /// The cluster an exec plugin is told about, for configurations that are not kubeconfig files (Argo CD's
    /// cluster Secrets).
    public init(server: String, certificateAuthorityData: [UInt8]?, insecureSkipTLSVerify: Bool, tlsServerName: String? = nil) {
        self.init(
            server: server, tlsServerName: tlsServerName, insecureSkipTLSVerify: insecureSkipTLSVerify,
            certificateAuthorityData: certificateAuthorityData, proxyURL: nil, disableCompression: false, config: nil)
    }
}
