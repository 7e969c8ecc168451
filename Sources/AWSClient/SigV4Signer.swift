import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// AWS Signature Version 4 (header-based, `AWS4-HMAC-SHA256`).
///
/// The canonical request follows the AWS specification and botocore's `SigV4Auth` (the differential test in
/// `AWSClientTests` checks this over many generated requests):
/// - the URL path is normalized (dot segments removed, repeated slashes collapsed) and URI-encoded again
///   (AWS's "encode twice" rule for every service but S3; turn `uriEncodePath` off for S3-style paths);
/// - the query string is split into parameters, each name and value percent-decoded and re-encoded with the
///   AWS unreserved set, then sorted by name and value (a parameter without `=` has an empty value);
/// - every header is signed except hop-by-hop / tracing headers (`user-agent`, `connection`, `expect`,
///   `x-amzn-trace-id`, ...); names are lower-cased, values trimmed and inner runs of white space folded to
///   one space, repeated headers joined with `,`; `host` comes from the URL unless the caller gives one;
/// - the payload hash is SHA-256 of the body unless an `X-Amz-Content-SHA256` header is given.
public struct SigV4Signer: Sendable {
    public var region: String
    public var service: String
    /// Normalize and URI-encode the path (every service except S3).
    public var uriEncodePath: Bool

    public init(region: String, service: String, uriEncodePath: Bool = true) {
        self.region = region
        self.service = service
        self.uriEncodePath = uriEncodePath
    }

    /// Headers botocore never signs (they may change in transit).
    static let unsignedHeaders: Set<String> = [
        "authorization", "baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
        "proxy-authorization", "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade",
        "user-agent", "x-amzn-trace-id",
    ]

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The result of signing: the headers to send and the intermediate values (for tests and debugging;
    /// `canonicalRequest` contains the session token when there is one, so never log it).
    public struct SignedRequest: Sendable {
        /// Every header to send: the caller's headers (minus any stale `Authorization`/`X-Amz-Date`), `Host`,
        /// `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials) and `Authorization`.
        public var headers: [(name: String, value: String)]
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var credentialScope: String
        public var amzDate: String
        public var authorization: String
        public var payloadHash: String

        /// The value of the first header called `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.name.lowercased() == lower }?.value
        }
    }

    public enum SigningError: Error, Sendable, CustomStringConvertible {
        case invalidURL(String)
        public var description: String {
            switch self {
            case .invalidURL(let reason): return "cannot sign request: \(reason)"
            }
        }
    }

    /// Signs a request. `url` is the URL as sent on the wire (`scheme://host[:port]/path?query`; the path and
    /// query already percent-encoded, as an HTTP client sends them).
    public func sign(
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        date: Date,
        credentials: AWSCredentials
    ) throws -> SignedRequest {
        let parts = try Self.splitURL(url)
        let amzDate = UTCTime.amzDate(date)
        let scopeDate = String(amzDate.prefix(8))

        // Headers to send: drop what we set ourselves.
        var sent: [(name: String, value: String)] = []
        let hasToken = (credentials.sessionToken?.isEmpty == false)
        for h in headers {
            let lower = h.name.trimmingASCIIWhitespace().lowercased()
            if lower == "authorization" || lower == "x-amz-date" { continue }
            if hasToken && lower == "x-amz-security-token" { continue }
            sent.append(h)
        }
        if !sent.contains(where: { $0.name.trimmingASCIIWhitespace().lowercased() == "host" }) {
            sent.insert((name: "Host", value: parts.hostHeader), at: 0)
        }
        sent.append((name: "X-Amz-Date", value: amzDate))
        if hasToken, let token = credentials.sessionToken {
            sent.append((name: "X-Amz-Security-Token", value: token))
        }

        let canonical = canonicalRequest(method: method, path: parts.path, query: parts.query, headers: sent, body: body)
        let (canonicalRequest, signedHeaders, payloadHash) = (canonical.request, canonical.signedHeaders, canonical.payloadHash)

        let credentialScope = "\(scopeDate)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            amzDate,
            credentialScope,
            Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        let key = Self.signingKey(secret: credentials.secretAccessKey, date: scopeDate, region: region, service: service)
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(credentialScope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        sent.append((name: "Authorization", value: authorization))

        return SignedRequest(
            headers: sent,
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders,
            credentialScope: credentialScope,
            amzDate: amzDate,
            authorization: authorization,
            payloadHash: payloadHash
        )
    }

    /// The canonical request of headers as sent (the caller has added `Host`, `X-Amz-Date` and any other header
    /// to sign): shared by the HMAC signature here and the X.509 one of IAM Roles Anywhere (`SigV4X509Signer`).
    struct CanonicalRequest {
        var request: String
        var signedHeaders: String
        var payloadHash: String
    }

    func canonicalRequest(method: String, path: String, query: String, headers sent: [(name: String, value: String)], body: [UInt8])
        -> CanonicalRequest
    {
        var grouped: [String: [String]] = [:]
        var order: [String] = []
        for h in sent {
            let lower = h.name.trimmingASCIIWhitespace().lowercased()
            if Self.unsignedHeaders.contains(lower) { continue }
            if grouped[lower] == nil { order.append(lower) }
            grouped[lower, default: []].append(Self.trimAll(h.value))
        }
        let names = order.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let payloadHash: String
        if let given = sent.first(where: { $0.name.trimmingASCIIWhitespace().lowercased() == "x-amz-content-sha256" }) {
            payloadHash = given.value
        } else if body.isEmpty {
            payloadHash = Self.emptyPayloadHash
        } else {
            payloadHash = Hex.encode(SHA256.hash(data: body))
        }

        let request = [
            method.uppercased(),
            canonicalURI(path),
            Self.canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        return CanonicalRequest(request: request, signedHeaders: signedHeaders, payloadHash: payloadHash)
    }

    /// The derived signing key `kSigning` (exposed for tests).
    public static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ message: String) -> SymmetricKey {
            SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)))
        }
        let kDate = hmac(SymmetricKey(data: Array("AWS4\(secret)".utf8)), date)
        let kRegion = hmac(kDate, region)
        let kService = hmac(kRegion, service)
        return hmac(kService, "aws4_request")
    }

    // MARK: - Canonical pieces

    func canonicalURI(_ rawPath: String) -> String {
        guard uriEncodePath else { return rawPath.isEmpty ? "/" : rawPath }
        return AWSPercentEncoding.encode(Self.removeDotSegments(rawPath), keepSlash: true)
    }

    /// RFC 3986 dot-segment removal plus collapsing of empty segments (what AWS services expect).
    static func removeDotSegments(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = (path.hasSuffix("/") && !output.isEmpty) ? "/" : ""
        return first + output.joined(separator: "/") + last
    }

    /// Canonical query string from a raw (wire) query: parameters decoded, re-encoded, sorted by name then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring
            let value: Substring
            if let eq = piece.firstIndex(of: "=") {
                key = piece[..<eq]
                value = piece[piece.index(after: eq)...]
            } else {
                key = piece
                value = ""
            }
            pairs.append(
                (
                    AWSPercentEncoding.encode(AWSPercentEncoding.decode(key)),
                    AWSPercentEncoding.encode(AWSPercentEncoding.decode(value))
                ))
        }
        pairs.sort { a, b in
            if a.0 != b.0 { return a.0.utf8.lexicographicallyPrecedes(b.0.utf8) }
            return a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Builds a query string (AWS encoding) from parameters, in the given order.
    public static func encodeQuery(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { "\(AWSPercentEncoding.encode($0.name))=\(AWSPercentEncoding.encode($0.value))" }
            .joined(separator: "&")
    }

    /// Trims the value and folds inner runs of white space into one space (botocore: `' '.join(v.split())`).
    static func trimAll(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if isPythonWhitespace(scalar) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1C-0x1F.
    private static func isPythonWhitespace(_ s: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(s.value) || s.properties.isWhitespace
    }

    struct URLParts {
        var scheme: String
        var hostHeader: String
        var path: String
        var query: String
    }

    /// Splits `scheme://[userinfo@]host[:port][/path][?query][#fragment]` without normalizing anything.
    static func splitURL(_ url: String) throws -> URLParts {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw SigningError.invalidURL("URL has no scheme")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let afterAuthority = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { throw SigningError.invalidURL("URL has no host") }
        var host: Substring
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw SigningError.invalidURL("bad IPv6 host") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var hostHeader = host.lowercased()
        if let p = port, !p.isEmpty {
            let isDefault = (scheme == "http" && p == "80") || (scheme == "https" && p == "443")
            if !isDefault { hostHeader += ":\(p)" }
        }
        let path: Substring
        let query: Substring
        if let q = afterAuthority.firstIndex(of: "?") {
            path = afterAuthority[..<q]
            query = afterAuthority[afterAuthority.index(after: q)...]
        } else {
            path = afterAuthority
            query = ""
        }
        return URLParts(scheme: scheme, hostHeader: hostHeader, path: String(path), query: String(query))
    }
}
