/// How to start a `KubeTestServer`.
public struct KubeTestServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// HTTPS with a generated (or given) certificate; false serves plain HTTP (debugging only).
    public var tls: Bool
    public var users: [TestUser]
    /// Namespaces that exist at start.
    public var namespaces: [String]
    /// How many past watch events a watch can resume from; older resourceVersions get 410 Gone.
    public var watchHistoryLimit: Int
    /// Period of BOOKMARK events on watches that asked for them (`allowWatchBookmarks=true`).
    public var bookmarkInterval: Duration
    /// Serving certificate chain and key (PEM). When nil, a CA and a serving certificate are generated.
    public var certificatePEM: String?
    public var keyPEM: String?
    /// The CA that signed `certificatePEM` (defaults to `certificatePEM` itself, for a self-signed one).
    public var caPEM: String?
    /// The token of the always-present all-powerful user; generated when nil.
    public var adminToken: String?
    /// How many requests the request log keeps (the oldest are dropped).
    public var requestLogLimit: Int
    /// Give every new namespace a `default` ServiceAccount, as a cluster's controller manager does (off: a bare
    /// API server, where new namespaces have none).
    public var defaultServiceAccounts: Bool = false
    /// API Priority and Fairness for throttled users: seats, reject or queue (off when nil).
    public var throttle: ThrottleConfiguration?

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        tls: Bool = true,
        users: [TestUser] = [],
        namespaces: [String] = ["default", "kube-system", "kube-public"],
        watchHistoryLimit: Int = 1000,
        bookmarkInterval: Duration = .seconds(10),
        certificatePEM: String? = nil,
        keyPEM: String? = nil,
        caPEM: String? = nil,
        adminToken: String? = nil,
        requestLogLimit: Int = 100_000
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.users = users
        self.namespaces = namespaces
        self.watchHistoryLimit = watchHistoryLimit
        self.bookmarkInterval = bookmarkInterval
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        self.caPEM = caPEM
        self.adminToken = adminToken
        self.requestLogLimit = requestLogLimit
    }
}
