#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// How to reach AWS over HTTP: proxies, trust roots and timeouts.
public struct AWSHTTPSettings: Sendable, Equatable {
    /// An HTTP proxy reached with `CONNECT` (or a SOCKS5 proxy). `description` hides the password.
    public struct Proxy: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, Equatable { case http, socks5 }
        public var kind: Kind
        public var host: String
        public var port: Int
        public var username: String?
        public var password: String?
        /// The variable it came from (for messages).
        public var source: String

        public init(kind: Kind = .http, host: String, port: Int, username: String? = nil, password: String? = nil, source: String = "proxy") {
            self.kind = kind
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.source = source
        }

        public var description: String {
            let auth = username.map { "\($0):<redacted>@" } ?? ""
            let scheme = kind == .socks5 ? "socks5" : "http"
            let h = host.contains(":") ? "[\(host)]" : host
            return "\(scheme)://\(auth)\(h):\(port)"
        }

        /// Parses `http://[user:password@]host[:port][/]`, `host:port`, or `socks5://host[:port]`.
        public static func parse(_ raw: String, source: String) throws -> Proxy {
            func fail(_ why: String) -> AWSError {
                // Never echo the value: it may carry a proxy password.
                AWSError.invalidConfiguration("\(source) \(why)")
            }
            var rest = Substring(raw.trimmingASCIIWhitespace())
            var kind = Kind.http
            if let sep = rest.firstRange(of: "://") {
                let scheme = rest[..<sep.lowerBound].lowercased()
                switch scheme {
                case "http": kind = .http
                case "socks5", "socks5h": kind = .socks5
                case "https":
                    throw fail("uses https://: only plain http:// proxies (HTTP CONNECT, TLS to AWS inside the tunnel) and socks5:// are supported")
                default: throw fail("has an unsupported scheme \"\(scheme)\": use http://host:port")
                }
                rest = rest[sep.upperBound...]
            }
            while rest.hasSuffix("/") { rest = rest.dropLast() }
            if rest.contains("/") || rest.contains("?") { throw fail("must be a proxy URL like http://proxy.example:3128 (no path)") }
            var username: String?
            var password: String?
            if let at = rest.lastIndex(of: "@") {
                let userinfo = rest[..<at]
                rest = rest[rest.index(after: at)...]
                if let colon = userinfo.firstIndex(of: ":") {
                    username = AWSPercentEncoding.decode(userinfo[..<colon])
                    password = AWSPercentEncoding.decode(userinfo[userinfo.index(after: colon)...])
                } else {
                    username = AWSPercentEncoding.decode(userinfo)
                }
            }
            var host: Substring
            var portText: Substring?
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw fail("has a malformed IPv6 address") }
                host = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw fail("is malformed") }
            } else if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" }) else { throw fail("has no host name") }
            var port = kind == .socks5 ? 1080 : 80
            if let portText {
                guard let p = Int(portText), (1...65535).contains(p) else { throw fail("has an invalid port") }
                port = p
            }
            return Proxy(kind: kind, host: String(host), port: port, username: username, password: password, source: source)
        }
    }

    /// Proxy for `https://` endpoints (`HTTPS_PROXY`).
    public var httpsProxy: Proxy?
    /// Proxy for `http://` endpoints (`HTTP_PROXY`).
    public var httpProxy: Proxy?
    /// Hosts reached directly (`NO_PROXY`): names (a name also matches its subdomains; a leading `.` or `*.` is
    /// allowed), IP addresses, IPv4 CIDR blocks, optional `:port`, or `*` for everything.
    public var noProxy: [String]
    /// A PEM file whose certificates replace the system trust roots (`AWS_CA_BUNDLE`), as in the AWS SDKs.
    public var caBundlePath: String?
    /// Time allowed to establish a connection (including a proxy tunnel and TLS).
    public var connectTimeout: Duration
    /// Time allowed for one attempt of a request, from sending to the end of the response.
    public var requestTimeout: Duration
    /// Without `caBundlePath`: trust the system roots through the hashed certificate folder (`/etc/ssl/certs`
    /// with its `<subject hash>.0` links), which TLS reads one root at a time when verifying, instead of parsing
    /// the whole bundle file first (about 140 roots, ~4 ms of CPU per process). For short-lived processes (node
    /// mode runs once per kubelet cache miss); a long-running helper parses the bundle once and is done.
    public var lazySystemTrustRoots = false
    /// The hashed folder for `lazySystemTrustRoots`: `SSL_CERT_DIR` (as OpenSSL reads it), else `/etc/ssl/certs`.
    public var systemCertificateFolder = "/etc/ssl/certs"

    public init(
        httpsProxy: Proxy? = nil,
        httpProxy: Proxy? = nil,
        noProxy: [String] = [],
        caBundlePath: String? = nil,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30)
    ) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
        self.caBundlePath = caBundlePath
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// Reads `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`, `NO_PROXY`/`no_proxy` and `AWS_CA_BUNDLE`
    /// (upper case wins when both are set). Timeouts keep their defaults.
    public static func fromEnvironment(_ env: [String: String]) throws -> AWSHTTPSettings {
        func value(_ names: String...) -> (String, String)? {
            for n in names { if let v = env[n], !v.trimmingASCIIWhitespace().isEmpty { return (n, v) } }
            return nil
        }
        var s = AWSHTTPSettings()
        if let (name, v) = value("HTTPS_PROXY", "https_proxy") { s.httpsProxy = try Proxy.parse(v, source: name) }
        if let (name, v) = value("HTTP_PROXY", "http_proxy") { s.httpProxy = try Proxy.parse(v, source: name) }
        if let (_, v) = value("NO_PROXY", "no_proxy") {
            s.noProxy = v.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        }
        if let (_, v) = value("AWS_CA_BUNDLE") { s.caBundlePath = v.trimmingASCIIWhitespace() }
        if let (_, v) = value("SSL_CERT_DIR") { s.systemCertificateFolder = v.trimmingASCIIWhitespace() }
        return s
    }

    /// The proxy to use for a request to `scheme://host:port`, nil for a direct connection.
    public func proxy(scheme: String, host: String, port: Int?) -> Proxy? {
        let proxy = scheme.lowercased() == "https" ? httpsProxy : httpProxy
        guard let proxy else { return nil }
        return Self.bypassesProxy(host: host, port: port, noProxy: noProxy) ? nil : proxy
    }

    static func bypassesProxy(host rawHost: String, port: Int?, noProxy: [String]) -> Bool {
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        for rawEntry in noProxy {
            var entry = rawEntry.trimmingASCIIWhitespace().lowercased()
            if entry == "*" { return true }
            var entryPort: Int?
            // host:port (not for bare IPv6 addresses)
            if entry.hasPrefix("[") {
                if let close = entry.firstIndex(of: "]") {
                    let after = entry[entry.index(after: close)...]
                    if after.hasPrefix(":") { entryPort = Int(after.dropFirst()) }
                    entry = String(entry[entry.index(after: entry.startIndex)..<close])
                }
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.lastIndex(of: ":") {
                entryPort = Int(entry[entry.index(after: colon)...])
                entry = String(entry[..<colon])
            }
            if let entryPort, let port, entryPort != port { continue }
            if entry.hasPrefix("*.") { entry.removeFirst(2) } else if entry.hasPrefix(".") { entry.removeFirst() }
            while entry.hasSuffix(".") { entry.removeLast() }
            if entry.isEmpty { continue }
            if entry.contains("/") {
                if let match = ipv4(host).flatMap({ ip in cidrContains(entry, ip) }), match { return true }
                continue
            }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    static func ipv4(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard let b = UInt8(p) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }

    static func cidrContains(_ cidr: String, _ ip: UInt32) -> Bool? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let base = ipv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits) else {
            return nil
        }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
        return (base & mask) == (ip & mask)
    }
}

/// AWS "standard" retry mode: up to `maxAttempts` attempts, exponential backoff with full jitter, and a
/// client-wide retry token bucket that stops retries when many calls fail at once.
public struct AWSRetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxBackoff: Duration
    /// Initial and maximum capacity of the retry token bucket.
    public var retryQuota: Int
    /// Tokens a retry costs, and a retry after a timeout.
    public var retryCost: Int
    public var timeoutRetryCost: Int
    /// Tokens returned by a call that succeeded on its first attempt.
    public var noRetryIncrement: Int

    public init(
        maxAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(20),
        retryQuota: Int = 500,
        retryCost: Int = 5,
        timeoutRetryCost: Int = 10,
        noRetryIncrement: Int = 1
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
        self.retryQuota = retryQuota
        self.retryCost = retryCost
        self.timeoutRetryCost = timeoutRetryCost
        self.noRetryIncrement = noRetryIncrement
    }

    public static let standard = AWSRetryPolicy()

    /// No retries at all (one attempt).
    public static let none = AWSRetryPolicy(maxAttempts: 1)

    /// Reads `AWS_MAX_ATTEMPTS` (a positive integer) and `AWS_RETRY_MODE` (`standard`; `legacy` and `adaptive`
    /// are accepted and behave like `standard`).
    public static func fromEnvironment(_ env: [String: String]) throws -> AWSRetryPolicy {
        var policy = AWSRetryPolicy.standard
        if let raw = env["AWS_MAX_ATTEMPTS"], !raw.trimmingASCIIWhitespace().isEmpty {
            guard let n = Int(raw.trimmingASCIIWhitespace()), (1...20).contains(n) else {
                throw AWSError.invalidConfiguration("AWS_MAX_ATTEMPTS=\"\(Printable.escape(raw))\" must be a whole number from 1 to 20")
            }
            policy.maxAttempts = n
        }
        if let raw = env["AWS_RETRY_MODE"], !raw.trimmingASCIIWhitespace().isEmpty {
            guard ["standard", "legacy", "adaptive"].contains(raw.trimmingASCIIWhitespace().lowercased()) else {
                throw AWSError.invalidConfiguration("AWS_RETRY_MODE=\"\(Printable.escape(raw))\" must be standard, legacy or adaptive")
            }
        }
        return policy
    }

    /// The delay before retry number `retry` (1 = the first retry): `random * base * 2^(retry-1)`, capped.
    public func backoff(retry: Int, random: Double) -> Duration {
        let exponent = Double(1 << min(max(retry - 1, 0), 30))
        let seconds = min(random * baseDelay.seconds * exponent, maxBackoff.seconds)
        return .nanoseconds(Int64(max(0, seconds) * 1e9))
    }
}

/// The retry token bucket of the standard retry mode.
struct RetryTokenBucket: Sendable {
    let capacity: Int
    private(set) var available: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.available = capacity
    }

    /// Takes `cost` tokens for a retry; false (no retry) when the bucket cannot pay.
    mutating func acquire(_ cost: Int) -> Bool {
        guard available >= cost else { return false }
        available -= cost
        return true
    }

    /// After a successful call: give back the last retry's cost, or `increment` when there was no retry.
    mutating func succeeded(lastRetryCost: Int?, increment: Int) {
        available = min(capacity, available + (lastRetryCost ?? increment))
    }
}
