import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// Docker registry credentials from ECR's GetAuthorizationToken.
public struct ECRAuthorization: Sendable, Equatable, CustomStringConvertible {
    /// Always `AWS` for ECR tokens.
    public var username: String
    /// The registry password. Never logged; `description` hides it.
    public var password: String
    /// `https://<account>.dkr.ecr.<region>.amazonaws.com` (ECR), `https://public.ecr.aws` (ECR Public).
    public var proxyEndpoint: String
    /// When the token stops working (12 hours after issue on AWS); nil when AWS did not say.
    public var expiresAt: Date?

    public init(username: String, password: String, proxyEndpoint: String, expiresAt: Date?) {
        self.username = username
        self.password = password
        self.proxyEndpoint = proxyEndpoint
        self.expiresAt = expiresAt
    }

    /// The registry host name (`proxyEndpoint` without scheme and trailing slash), as used in Docker config keys.
    public var registryHost: String {
        var s = Substring(proxyEndpoint)
        if let r = s.firstRange(of: "://") { s = s[r.upperBound...] }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }

    public var description: String {
        "ECRAuthorization(username: \(username), password: <redacted>, proxyEndpoint: \(proxyEndpoint), expiresAt: \(expiresAt.map(UTCTime.iso8601) ?? "unknown"))"
    }

    /// Decodes an `authorizationToken` (base64 of `user:password`). Throws `.malformedResponse` without ever
    /// putting the token in the message.
    public static func decodeToken(_ token: String, proxyEndpoint: String, expiresAt: Date?) throws -> ECRAuthorization {
        let compact = token.filter { !($0 == "\n" || $0 == "\r" || $0 == " " || $0 == "\t") }
        var padded = compact
        let remainder = padded.utf8.count % 4
        if remainder == 2 { padded += "==" } else if remainder == 3 { padded += "=" }
        guard !compact.isEmpty, remainder != 1, let data = Data(base64Encoded: padded) else {
            throw AWSError.malformed("authorizationToken is not valid base64 (\(compact.utf8.count) characters)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AWSError.malformed("authorizationToken does not decode to UTF-8 text")
        }
        guard let colon = text.firstIndex(of: ":") else {
            throw AWSError.malformed("authorizationToken does not decode to \"user:password\" (no colon)")
        }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard !user.isEmpty, !password.isEmpty else {
            throw AWSError.malformed("authorizationToken has an empty user name or password")
        }
        return ECRAuthorization(username: user, password: password, proxyEndpoint: proxyEndpoint, expiresAt: expiresAt)
    }
}

/// A timestamp as AWS JSON protocols send it: epoch seconds as an integer, a float (`1738598491.5`) or exponent
/// form (`1.7385984915E9`); also tolerated: a numeric string or an ISO-8601 string.
struct FlexibleTimestamp: Decodable, Sendable {
    var date: Date

    /// Epoch seconds AWS can mean: 1970 to the end of year 9999. Anything else is garbage, and would
    /// overflow every calendar computation done with it later.
    static let plausibleSeconds: ClosedRange<Double> = 0...253_402_300_799

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let seconds = try? c.decode(Double.self) {
            guard Self.plausibleSeconds.contains(seconds) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "timestamp \(seconds) is not a date between 1970 and 9999")
            }
            date = Date(timeIntervalSince1970: seconds)
        } else if let text = try? c.decode(String.self) {
            if let seconds = Double(text.trimmingASCIIWhitespace()), seconds.isFinite {
                guard Self.plausibleSeconds.contains(seconds) else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "timestamp \(seconds) is not a date between 1970 and 9999")
                }
                date = Date(timeIntervalSince1970: seconds)
            } else if let d = UTCTime.parseISO8601(text) {
                date = d
            } else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "timestamp \"\(text.prefix(40))\" is neither epoch seconds nor ISO-8601")
            }
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "timestamp is neither a number nor a string")
        }
    }
}

/// Amazon ECR (and ECR Public) authorization tokens over the JSON 1.1 protocol.
public final class ECRClient: Sendable {
    public let transport: AWSHTTPTransport
    public let credentialProvider: any AWSCredentialProvider
    public let endpoints: AWSEndpoints
    let logger: Logger

    static let target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
    static let publicTarget = "SpectrumKairosService.GetAuthorizationToken"

    public init(
        transport: AWSHTTPTransport,
        credentials: any AWSCredentialProvider,
        endpoints: AWSEndpoints = .standard,
        logger: Logger? = nil
    ) {
        self.transport = transport
        self.credentialProvider = credentials
        self.endpoints = endpoints
        self.logger = logger ?? transport.logger
    }

    /// The same client with other credentials (e.g. keys re-read for this cycle); shares the transport.
    public func withCredentials(_ credentials: any AWSCredentialProvider) -> ECRClient {
        ECRClient(transport: transport, credentials: credentials, endpoints: endpoints, logger: logger)
    }

    /// ecr:GetAuthorizationToken in `region`. With no `registryIDs` AWS returns one token for the caller's
    /// default registry (it works for every registry the principal may pull from in that region); with ids,
    /// one entry per id, in order.
    public func getAuthorizationToken(region: String, registryIDs: [String] = []) async throws -> [ECRAuthorization] {
        try await getAuthorizationToken(region: region, registryIDs: registryIDs, credentials: credentialProvider)
    }

    /// As above, with credentials for this call only.
    public func getAuthorizationToken(
        region: String,
        registryIDs: [String] = [],
        credentials: any AWSCredentialProvider
    ) async throws -> [ECRAuthorization] {
        for id in registryIDs {
            guard id.count == 12, id.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw AWSError.invalidConfiguration("registry id \"\(Printable.escape(id))\" is not a 12-digit AWS account id")
            }
        }
        let endpoint = try endpoints.resolve(.ecr, region: region)
        let body: [UInt8]
        if registryIDs.isEmpty {
            body = Array("{}".utf8)
        } else {
            body = Array("{\"registryIds\":[\(registryIDs.map { "\"\($0)\"" }.joined(separator: ","))]}".utf8)
        }
        let request = AWSHTTPTransport.Request(
            operation: "ecr:GetAuthorizationToken",
            endpoint: endpoint,
            headers: [
                (name: "Content-Type", value: "application/x-amz-json-1.1"),
                (name: "X-Amz-Target", value: Self.target),
            ],
            body: body)
        let response = try await transport.send(request, credentials: credentials, logger: logger)
        let result: [ECRAuthorization]
        do {
            result = try Self.decodeResponse(response.body, operation: request.operation)
        } catch var e as AWSError {
            e.requestID = response.requestID
            e.region = region
            e.endpoint = endpoint.url
            e.statusCode = response.status
            throw e
        }
        if result.isEmpty {
            throw AWSError.malformed("authorizationData is empty", operation: request.operation, requestID: response.requestID)
        }
        if !registryIDs.isEmpty, result.count != registryIDs.count {
            logger.warning(
                "ECR returned a different number of tokens than registry ids requested",
                metadata: ["requested": "\(registryIDs.count)", "returned": "\(result.count)"])
        }
        logger.debug(
            "ECR authorization token received",
            metadata: [
                "registries": "\(result.map(\.registryHost).joined(separator: ","))",
                "expiresAt": "\(result.first?.expiresAt.map(UTCTime.iso8601) ?? "unknown")",
                "aws.requestID": "\(response.requestID ?? "-")",
            ])
        return result
    }

    /// ecr-public:GetAuthorizationToken (always us-east-1). The token also needs `sts:GetServiceBearerToken`.
    public func getPublicAuthorizationToken(credentials: (any AWSCredentialProvider)? = nil) async throws -> ECRAuthorization {
        let endpoint = try endpoints.resolve(.ecrPublic, region: "us-east-1")
        let request = AWSHTTPTransport.Request(
            operation: "ecr-public:GetAuthorizationToken",
            endpoint: endpoint,
            headers: [
                (name: "Content-Type", value: "application/x-amz-json-1.1"),
                (name: "X-Amz-Target", value: Self.publicTarget),
            ],
            body: Array("{}".utf8))
        let response = try await transport.send(request, credentials: credentials ?? credentialProvider, logger: logger)
        do {
            return try Self.decodePublicResponse(response.body, operation: request.operation)
        } catch var e as AWSError {
            e.requestID = response.requestID
            e.endpoint = endpoint.url
            e.statusCode = response.status
            throw e
        }
    }

    struct Response: Decodable {
        struct Entry: Decodable {
            var authorizationToken: String?
            var expiresAt: FlexibleTimestamp?
            var proxyEndpoint: String?
        }
        var authorizationData: [Entry]?
    }

    struct PublicResponse: Decodable {
        var authorizationData: Response.Entry?
    }

    static func decodeResponse(_ body: [UInt8], operation: String = "ecr:GetAuthorizationToken") throws -> [ECRAuthorization] {
        let decoded: Response
        do {
            decoded = try JSONDecoder().decode(Response.self, from: Data(body))
        } catch {
            throw AWSError.malformed("the response is not the expected JSON (\(DecodingProblem.describe(error)))", operation: operation)
        }
        guard let entries = decoded.authorizationData else {
            throw AWSError.malformed("the response has no authorizationData", operation: operation)
        }
        return try entries.enumerated().map { index, entry in
            guard let token = entry.authorizationToken else {
                throw AWSError.malformed("authorizationData[\(index)] has no authorizationToken", operation: operation)
            }
            guard let endpoint = entry.proxyEndpoint, !endpoint.isEmpty else {
                throw AWSError.malformed("authorizationData[\(index)] has no proxyEndpoint", operation: operation)
            }
            do {
                return try ECRAuthorization.decodeToken(token, proxyEndpoint: endpoint, expiresAt: entry.expiresAt?.date)
            } catch var e as AWSError {
                e.operation = operation
                throw e
            }
        }
    }

    static func decodePublicResponse(_ body: [UInt8], operation: String = "ecr-public:GetAuthorizationToken") throws -> ECRAuthorization {
        let decoded: PublicResponse
        do {
            decoded = try JSONDecoder().decode(PublicResponse.self, from: Data(body))
        } catch {
            throw AWSError.malformed("the response is not the expected JSON (\(DecodingProblem.describe(error)))", operation: operation)
        }
        guard let entry = decoded.authorizationData, let token = entry.authorizationToken else {
            throw AWSError.malformed("the response has no authorizationData.authorizationToken", operation: operation)
        }
        do {
            return try ECRAuthorization.decodeToken(token, proxyEndpoint: "https://public.ecr.aws", expiresAt: entry.expiresAt?.date)
        } catch var e as AWSError {
            e.operation = operation
            throw e
        }
    }
}
