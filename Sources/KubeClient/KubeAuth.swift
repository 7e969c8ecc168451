/// How the client proves its identity to the API server.
/// `description` never prints a token or key.
public enum KubeAuth: Sendable, CustomStringConvertible {
    case none
    /// A fixed bearer token (kubeconfig `token`).
    case bearerToken(String)
    /// A token file re-read periodically and after a 401 (projected ServiceAccount tokens rotate).
    case tokenFile(String)
    /// A TLS client certificate and its private key, both PEM.
    case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])

    public var description: String {
        switch self {
        case .none: "none"
        case .bearerToken: "bearer token"
        case .tokenFile(let path): "token file \(path)"
        case .clientCertificate: "client certificate"
        }
    }
}
