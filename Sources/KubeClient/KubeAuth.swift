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
    /// A client-go exec credential plugin (`users[].user.exec`): run for a token or a client certificate,
    /// cached until the answer's expiry, run again after a 401.
    case exec(ExecConfig)

    public var description: String {
        switch self {
        case .none: "none"
        case .bearerToken: "bearer token"
        case .tokenFile(let path): "token file \(path)"
        case .clientCertificate: "client certificate"
        case .exec(let config): "exec plugin \(config.command)"
        }
    }
}
