#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// An AWS call that failed, classified. `description` is one line naming the cause and the fix; it never
/// contains a secret access key, session token, web identity token or ECR password.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The principal lacks permission (AccessDenied, AccessDeniedException, UnauthorizedOperation).
        case accessDenied
        /// AWS does not know the access key id (InvalidClientTokenId, UnrecognizedClientException).
        case invalidClientTokenId
        /// The secret does not match the access key (SignatureDoesNotMatch, InvalidSignatureException).
        case signatureDoesNotMatch
        /// Temporary credentials have expired (ExpiredToken, ExpiredTokenException).
        case expiredToken
        /// STS rejected the web identity token (InvalidIdentityToken, IDPRejectedClaim, ...).
        case invalidIdentityToken
        /// AWS asked to slow down (ThrottlingException, TooManyRequestsException, HTTP 429, ...).
        case throttling
        /// HTTP 5xx or an internal failure on AWS's side.
        case serverError
        /// The request did not get an HTTP answer (connection refused/reset, DNS, proxy).
        case network
        /// TLS handshake or certificate verification failed.
        case tls
        /// The request or the connection timed out.
        case timeout
        /// AWS answered, but not in the expected shape (or a token could not be decoded).
        case malformedResponse
        /// The local clock is too far from AWS's (RequestTimeTooSkewed, "Signature expired").
        case clockSkew
        /// Our configuration is invalid (region, endpoint, keys, files); nothing was sent.
        case invalidConfiguration
        /// Any other AWS error code.
        case other
    }

    public var kind: Kind
    /// The AWS error code (`AccessDenied`, `ThrottlingException`, ...), if AWS sent one.
    public var code: String?
    /// The HTTP status, if there was a response.
    public var statusCode: Int?
    /// AWS's message (secrets scrubbed), or a transport error's text.
    public var message: String
    /// The request id AWS returned (quote it to AWS support).
    public var requestID: String?
    /// `ecr:GetAuthorizationToken`, `sts:AssumeRole`, ...
    public var operation: String?
    public var region: String?
    public var endpoint: String?
    /// The access key id, shortened (`AKIA…MPLE`).
    public var keyID: String?
    /// How many attempts were made before giving up.
    public var attempts: Int
    /// Extra context for the fix (e.g. the token file path).
    public var hint: String?
    /// AWS's clock, when a clock-skew error told it (from the `Date` header or the message).
    public var serverTime: Date?

    public init(
        kind: Kind,
        code: String? = nil,
        statusCode: Int? = nil,
        message: String = "",
        requestID: String? = nil,
        operation: String? = nil,
        region: String? = nil,
        endpoint: String? = nil,
        keyID: String? = nil,
        attempts: Int = 1,
        hint: String? = nil
    ) {
        self.kind = kind
        self.code = code
        self.statusCode = statusCode
        self.message = message
        self.requestID = requestID
        self.operation = operation
        self.region = region
        self.endpoint = endpoint
        self.keyID = keyID
        self.attempts = attempts
        self.hint = hint
    }

    public static func invalidConfiguration(_ message: String) -> AWSError {
        AWSError(kind: .invalidConfiguration, message: message, attempts: 0)
    }

    static func malformed(_ message: String, operation: String? = nil, statusCode: Int? = nil, requestID: String? = nil)
        -> AWSError
    {
        AWSError(kind: .malformedResponse, statusCode: statusCode, message: message, requestID: requestID, operation: operation)
    }

    /// Whether trying again later can help (throttling, 5xx, network, timeouts, clock skew). Never for
    /// authentication/authorization failures or configuration errors.
    public var isRetryable: Bool {
        switch kind {
        case .throttling, .serverError, .network, .timeout, .clockSkew: return true
        case .other:
            if let code, AWSErrorClassifier.transientCodes.contains(code) { return true }
            return false
        case .accessDenied, .invalidClientTokenId, .signatureDoesNotMatch, .expiredToken, .invalidIdentityToken, .tls,
            .malformedResponse, .invalidConfiguration:
            return false
        }
    }

    /// True for errors that mean the credentials themselves are wrong or not allowed.
    public var isCredentialProblem: Bool {
        switch kind {
        case .accessDenied, .invalidClientTokenId, .signatureDoesNotMatch, .expiredToken, .invalidIdentityToken: return true
        default: return false
        }
    }

    private var codeSuffix: String {
        var parts: [String] = []
        if let code { parts.append(code) }
        if let statusCode { parts.append("HTTP \(statusCode)") }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    private var call: String { operation ?? "the AWS call" }
    private var inRegion: String { region.map { " in \($0)" } ?? "" }
    private var key: String { keyID.map { " \($0)" } ?? "" }
    private var awsSays: String {
        let m = message.trimmingASCIIWhitespace()
        return m.isEmpty ? "" : " AWS says: \(m)"
    }
    private var requestIDSuffix: String { requestID.map { " [request id \($0)]" } ?? "" }
    private var attemptsText: String { attempts > 1 ? " after \(attempts) attempts" : "" }

    public var description: String {
        let text: String
        switch kind {
        case .accessDenied:
            text =
                "AWS denied \(call)\(inRegion) for access key\(key)\(codeSuffix): the IAM user or role lacks permission; grant \(operation ?? "the action") in its IAM policy (and check SCPs/permission boundaries).\(awsSays)"
        case .invalidClientTokenId:
            text =
                "AWS does not recognize the access key\(key)\(codeSuffix) calling \(call)\(inRegion): the key id is wrong, deleted or inactive, belongs to another partition (China/GovCloud), or temporary credentials lack their session token; check AWS_ACCESS_KEY_ID (and AWS_SESSION_TOKEN)."
        case .signatureDoesNotMatch:
            text =
                "AWS rejected the secret access key for key\(key)\(codeSuffix) calling \(call)\(inRegion): the secret does not belong to the access key; check AWS_SECRET_ACCESS_KEY (no extra characters, the pair from the same IAM access key)."
        case .expiredToken:
            text =
                "the temporary credentials for key\(key) have expired\(codeSuffix) calling \(call)\(inRegion): obtain fresh ones (re-run AssumeRole / refresh AWS_SESSION_TOKEN), or use long-term keys or a role to assume."
        case .invalidIdentityToken:
            text =
                "STS rejected the web identity token\(codeSuffix) for \(call)\(inRegion): check AWS_WEB_IDENTITY_TOKEN_FILE holds a current token and that the IAM role trusts its OIDC issuer and audience.\(awsSays)"
        case .throttling:
            text =
                "AWS throttled \(call)\(inRegion)\(codeSuffix)\(attemptsText): too many requests; it will be retried later (reduce the refresh rate if this persists)."
        case .serverError:
            text =
                "AWS failed to serve \(call)\(inRegion)\(codeSuffix)\(attemptsText): a problem on AWS's side; it will be retried later.\(awsSays)"
        case .network:
            text =
                "cannot reach \(endpoint ?? "AWS") for \(call)\(attemptsText): \(message); check network access, DNS and HTTPS_PROXY/NO_PROXY."
        case .tls:
            text =
                "TLS with \(endpoint ?? "AWS") failed for \(call): \(message); if a proxy or private endpoint uses its own CA, point AWS_CA_BUNDLE at a PEM file containing it."
        case .timeout:
            text =
                "\(call) to \(endpoint ?? "AWS") timed out\(attemptsText): \(message); check network access and HTTPS_PROXY/NO_PROXY."
        case .malformedResponse:
            text =
                "unexpected response to \(call)\(inRegion)\(codeSuffix) from \(endpoint ?? "AWS"): \(message); check that the endpoint (AWS_ENDPOINT_URL*) is an AWS API."
        case .clockSkew:
            text =
                "AWS rejected \(call)\(inRegion) because the local clock is off\(codeSuffix)\(hint.map { " (\($0))" } ?? ""): synchronize the system clock (NTP).\(awsSays)"
        case .invalidConfiguration:
            text = "invalid AWS configuration: \(message)"
        case .other:
            text =
                "AWS returned an error for \(call)\(inRegion)\(codeSuffix)\(attemptsText):\(awsSays.isEmpty ? " no details" : awsSays); check the request parameters (registry ids, role ARN)."
        }
        var out = text
        if let hint, kind != .clockSkew { out += " (\(hint))" }
        out += requestIDSuffix
        return Self.oneLine(out)
    }

    static func oneLine(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        var lastSpace = false
        for ch in s {
            if ch.isNewline || ch == "\t" {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.append(ch)
                lastSpace = ch == " "
            }
        }
        return out
    }

    /// Replaces any occurrence of `secrets` in the message (defense in depth).
    mutating func scrub(_ secrets: [String]) {
        for secret in secrets where secret.count >= 8 {
            message = message.replacing(secret, with: "<redacted>")
            if let h = hint { hint = h.replacing(secret, with: "<redacted>") }
        }
    }
}

/// Turns an AWS error response (JSON or XML) into an `AWSError`.
enum AWSErrorClassifier {
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "EC2ThrottledException", "PriorRequestNotComplete",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError", "InternalError", "InternalFailure",
        "ServiceUnavailable", "ServiceUnavailableException", "ServerException", "InternalServerError",
        "InternalServerException",
    ]
    static let accessDeniedCodes: Set<String> = [
        "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
        "UnauthorizedException", "NotAuthorized",
    ]
    static let unknownKeyCodes: Set<String> = [
        "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException", "IncompleteSignature",
        "IncompleteSignatureException",
    ]
    static let expiredCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"]
    static let identityTokenCodes: Set<String> = [
        "InvalidIdentityToken", "InvalidIdentityTokenException", "IDPRejectedClaim", "IDPRejectedClaimException",
        "PackedPolicyTooLarge",
    ]
    static let skewCodes: Set<String> = ["RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"]

    struct Parsed: Equatable {
        var code: String?
        var message: String?
        var requestID: String?
    }

    /// Reads code, message and request id from either error shape:
    /// JSON (`{"__type": "ns#Code", "message": ...}` and header `x-amzn-ErrorType: Code:uri`) or
    /// XML (`<ErrorResponse><Error><Code>` or moto's `<ErrorResponse><Errors><Error><Code>`).
    static func parse(headers: [(String, String)], body: [UInt8]) -> Parsed {
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1
        }
        var parsed = Parsed()
        parsed.requestID = header("x-amzn-requestid") ?? header("x-amz-request-id")
        if let t = header("x-amzn-errortype"), !t.isEmpty {
            parsed.code = normalizeCode(t)
        }
        let text = String(decoding: body, as: UTF8.self).trimmingASCIIWhitespace()
        if text.hasPrefix("{") {
            if let json = try? JSONDecoder().decode(JSONErrorBody.self, from: Data(text.utf8))
            {
                if parsed.code == nil, let t = json.type ?? json.code { parsed.code = normalizeCode(t) }
                parsed.message = json.message
            }
        } else if text.hasPrefix("<") {
            let xml = MiniXML(text)
            if parsed.code == nil { parsed.code = xml.first("Code") }
            parsed.message = xml.first("Message")
            if parsed.requestID == nil { parsed.requestID = xml.first("RequestId") ?? xml.first("RequestID") }
        }
        if let c = parsed.code, c.isEmpty { parsed.code = nil }
        return parsed
    }

    /// `com.amazon.coral.service#AccessDeniedException` / `AccessDeniedException:http://...` -> `AccessDeniedException`.
    static func normalizeCode(_ raw: String) -> String {
        var s = Substring(raw.trimmingASCIIWhitespace())
        if let colon = s.firstIndex(of: ":") { s = s[..<colon] }
        if let hash = s.lastIndex(of: "#") { s = s[s.index(after: hash)...] }
        return String(s)
    }

    struct JSONErrorBody: Decodable {
        var type: String?
        var code: String?
        var message: String?
        enum CodingKeys: String, CodingKey {
            case type = "__type", code, Code, message, Message, errorMessage
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try? c.decodeIfPresent(String.self, forKey: .type)
            code = (try? c.decodeIfPresent(String.self, forKey: .code)) ?? (try? c.decodeIfPresent(String.self, forKey: .Code))
            message =
                (try? c.decodeIfPresent(String.self, forKey: .message))
                ?? (try? c.decodeIfPresent(String.self, forKey: .Message))
                ?? (try? c.decodeIfPresent(String.self, forKey: .errorMessage))
        }
    }

    static func isSkewMessage(_ message: String?) -> Bool {
        guard let m = message?.lowercased() else { return false }
        return m.contains("signature expired") || m.contains("signature not yet current")
            || m.contains("request time too skewed") || m.contains("is now earlier than")
            || m.contains("too skewed") || m.contains("clock skew")
    }

    /// The kind for an error response.
    static func kind(code: String?, message: String?, status: Int) -> AWSError.Kind {
        if let code {
            if skewCodes.contains(code) { return .clockSkew }
            if (code == "SignatureDoesNotMatch" || code == "InvalidSignatureException" || code == "AuthFailure"
                || code == "InvalidClientTokenId")
                && isSkewMessage(message)
            {
                return .clockSkew
            }
            if throttlingCodes.contains(code) { return .throttling }
            if accessDeniedCodes.contains(code) { return .accessDenied }
            if code == "SignatureDoesNotMatch" || code == "InvalidSignatureException" { return .signatureDoesNotMatch }
            if unknownKeyCodes.contains(code) { return .invalidClientTokenId }
            if expiredCodes.contains(code) { return .expiredToken }
            if identityTokenCodes.contains(code) { return .invalidIdentityToken }
            if transientCodes.contains(code) { return status >= 500 ? .serverError : .other }
        }
        if status == 429 { return .throttling }
        if status >= 500 { return .serverError }
        return .other
    }

    /// A short, single-line excerpt of a body that was not an AWS error document (e.g. a proxy's HTML page).
    static func excerpt(_ body: [UInt8], limit: Int = 160) -> String {
        let text = AWSError.oneLine(String(decoding: body.prefix(limit * 4), as: UTF8.self))
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// Tries to find AWS's current time in a skew message, e.g.
    /// `Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)`.
    static func serverTime(fromSkewMessage message: String?) -> Date? {
        guard let message else { return nil }
        // The timestamp inside "(... - 15 min.)" or "(... + 15 min.)" is the server's clock.
        if let open = message.lastIndex(of: "(") {
            let inner = message[message.index(after: open)...]
            if let stamp = inner.split(separator: " ").first, let d = UTCTime.parseAmzDate(String(stamp)) { return d }
        }
        return nil
    }
}
