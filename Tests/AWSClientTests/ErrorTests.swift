import Foundation
import Testing

@testable import AWSClient

@Suite struct ErrorParsingTests {
    func parse(_ body: String, headers: [(String, String)] = []) -> AWSErrorClassifier.Parsed {
        AWSErrorClassifier.parse(headers: headers, body: Array(body.utf8))
    }

    @Test func jsonShape() {
        let p = parse(
            #"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:iam::1:user/x is not authorized"}"#,
            headers: [("x-amzn-RequestId", "req-1")])
        #expect(p.code == "AccessDeniedException")
        #expect(p.message == "User: arn:aws:iam::1:user/x is not authorized")
        #expect(p.requestID == "req-1")
        // Capitalized Message, plain __type.
        let q = parse(#"{"__type":"ThrottlingException","Message":"Rate exceeded"}"#)
        #expect(q.code == "ThrottlingException")
        #expect(q.message == "Rate exceeded")
    }

    @Test func errorTypeHeaderWins() {
        let p = parse(
            #"{"__type":"Other","message":"m"}"#,
            headers: [("X-Amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/")])
        #expect(p.code == "InvalidSignatureException")
        #expect(p.message == "m")
    }

    @Test func xmlShapes() {
        let aws = parse(
            """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>
                <Message>The request signature we calculated does not match &amp; so on &lt;x&gt; &#65;&#x42;</Message></Error>
              <RequestId>4f1c-abc</RequestId>
            </ErrorResponse>
            """)
        #expect(aws.code == "SignatureDoesNotMatch")
        #expect(aws.message == "The request signature we calculated does not match & so on <x> AB")
        #expect(aws.requestID == "4f1c-abc")
        let moto = parse(
            #"<?xml version="1.0" encoding="utf-8"?>\#n<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#
        )
        #expect(moto.code == "InvalidClientTokenId")
        #expect(moto.message == "The security token included in the request is invalid.")
        let s3 = parse("<Error><Code>RequestTimeTooSkewed</Code><Message><![CDATA[The difference <is> large]]></Message><RequestID>r</RequestID></Error>")
        #expect(s3.code == "RequestTimeTooSkewed")
        #expect(s3.message == "The difference <is> large")
        #expect(s3.requestID == "r")
    }

    @Test func unparseableBodies() {
        #expect(parse("<html><body>Bad Gateway</body></html>").code == nil)
        #expect(parse("").code == nil)
        #expect(parse("{not json").code == nil)
        #expect(AWSErrorClassifier.excerpt(Array(String(repeating: "x\n", count: 500).utf8)).count <= 161)
    }

    @Test(arguments: [
        ("AccessDenied", "", 403, AWSError.Kind.accessDenied),
        ("AccessDeniedException", "", 400, .accessDenied),
        ("InvalidClientTokenId", "The security token included in the request is invalid.", 403, .invalidClientTokenId),
        ("UnrecognizedClientException", "The security token included in the request is invalid.", 400, .invalidClientTokenId),
        ("SignatureDoesNotMatch", "The request signature we calculated does not match", 403, .signatureDoesNotMatch),
        ("InvalidSignatureException", "The request signature we calculated does not match", 400, .signatureDoesNotMatch),
        ("InvalidSignatureException", "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)", 400, .clockSkew),
        ("SignatureDoesNotMatch", "Signature not yet current: 20150830T123600Z is still later than 20150830T122100Z (20150830T120600Z + 15 min.)", 403, .clockSkew),
        ("RequestTimeTooSkewed", "", 403, .clockSkew),
        ("RequestExpired", "", 400, .clockSkew),
        ("ExpiredToken", "", 400, .expiredToken),
        ("ExpiredTokenException", "", 400, .expiredToken),
        ("InvalidIdentityToken", "", 400, .invalidIdentityToken),
        ("ThrottlingException", "", 400, .throttling),
        ("Throttling", "", 400, .throttling),
        ("TooManyRequestsException", "", 429, .throttling),
        ("InternalFailure", "", 500, .serverError),
        ("ServiceUnavailable", "", 503, .serverError),
        ("InvalidParameterException", "", 400, .other),
        ("RepositoryNotFoundException", "", 400, .other),
    ])
    func classification(code: String, message: String, status: Int, kind: AWSError.Kind) {
        #expect(AWSErrorClassifier.kind(code: code, message: message, status: status) == kind)
    }

    @Test func classificationWithoutCode() {
        #expect(AWSErrorClassifier.kind(code: nil, message: nil, status: 502) == .serverError)
        #expect(AWSErrorClassifier.kind(code: nil, message: nil, status: 429) == .throttling)
        #expect(AWSErrorClassifier.kind(code: nil, message: nil, status: 403) == .other)
    }

    @Test func retryability() {
        for kind in [AWSError.Kind.throttling, .serverError, .network, .timeout, .clockSkew] {
            #expect(AWSError(kind: kind).isRetryable, "\(kind)")
        }
        for kind in [
            AWSError.Kind.accessDenied, .invalidClientTokenId, .signatureDoesNotMatch, .expiredToken, .invalidIdentityToken, .tls,
            .malformedResponse, .invalidConfiguration,
        ] {
            #expect(!AWSError(kind: kind).isRetryable, "\(kind)")
        }
        #expect(AWSError(kind: .other, code: "IDPCommunicationError").isRetryable)
        #expect(!AWSError(kind: .other, code: "ValidationError").isRetryable)
    }

    @Test func skewServerTimeFromMessage() {
        let t = AWSErrorClassifier.serverTime(
            fromSkewMessage: "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)")
        #expect(t == UTCTime.parseAmzDate("20150830T130600Z"))
        #expect(AWSErrorClassifier.serverTime(fromSkewMessage: "nothing here") == nil)
    }

    @Test func descriptionsNameCauseAndFixOnOneLine() {
        func error(_ kind: AWSError.Kind, _ code: String? = nil) -> AWSError {
            AWSError(
                kind: kind, code: code, statusCode: 403, message: "line one\nline two", requestID: "rid-9",
                operation: "ecr:GetAuthorizationToken", region: "eu-west-1", endpoint: "https://api.ecr.eu-west-1.amazonaws.com",
                keyID: AWSCredentials.redact(keyID: "AKIAIOSFODNN7EXAMPLE"))
        }
        let cases: [(AWSError, [String])] = [
            (error(.signatureDoesNotMatch, "SignatureDoesNotMatch"), ["secret access key", "AKIA…MPLE", "AWS_SECRET_ACCESS_KEY", "SignatureDoesNotMatch"]),
            (error(.invalidClientTokenId, "InvalidClientTokenId"), ["does not recognize", "AWS_ACCESS_KEY_ID"]),
            (error(.accessDenied, "AccessDenied"), ["denied", "ecr:GetAuthorizationToken", "IAM policy"]),
            (error(.expiredToken, "ExpiredToken"), ["expired", "AWS_SESSION_TOKEN"]),
            (error(.throttling, "ThrottlingException"), ["throttled"]),
            (error(.serverError, "InternalFailure"), ["AWS's side"]),
            (error(.network), ["cannot reach", "HTTPS_PROXY"]),
            (error(.tls), ["TLS", "AWS_CA_BUNDLE"]),
            (error(.timeout), ["timed out"]),
            (error(.malformedResponse), ["unexpected response", "AWS_ENDPOINT_URL"]),
            (error(.clockSkew, "RequestTimeTooSkewed"), ["clock", "NTP"]),
            (error(.invalidIdentityToken, "InvalidIdentityToken"), ["web identity token", "AWS_WEB_IDENTITY_TOKEN_FILE"]),
            (error(.other, "ValidationError"), ["ValidationError"]),
        ]
        for (e, needles) in cases {
            let d = e.description
            #expect(!d.contains("\n"), "\(d)")
            #expect(d.contains("rid-9"))
            for n in needles { #expect(d.contains(n), "\(e.kind): \(d) lacks \(n)") }
            #expect(!d.contains("AKIAIOSFODNN7EXAMPLE"))
        }
    }

    @Test func scrubRemovesSecrets() {
        var e = AWSError(kind: .other, message: "echo of wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY and token FQoGZXIvYXdzEXAMPLE")
        e.scrub(["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLE", "short"])
        #expect(!e.description.contains("wJalrXUtnFEMI"))
        #expect(!e.description.contains("FQoGZXIvYXdzEXAMPLE"))
        #expect(e.description.contains("<redacted>"))
    }

    @Test func miniXMLNesting() {
        let xml = MiniXML("<a><b><c>1</c></b><x:c attr=\"q\">2</x:c><Arn>outer</Arn><AssumedRoleUser><Arn>inner</Arn></AssumedRoleUser><e/></a>")
        #expect(xml.first("c") == "1")
        #expect(xml.first("Arn", within: "AssumedRoleUser") == "inner")
        #expect(xml.first("e") == "")
        #expect(xml.first("missing") == nil)
    }
}

@Suite struct ResponseDecodingTests {
    static let token = Data("AWS:s3cr3t-passw0rd".utf8).base64EncodedString()

    func decode(_ json: String) throws -> [ECRAuthorization] {
        try ECRClient.decodeResponse(Array(json.utf8))
    }

    @Test(arguments: [
        ("1738598491", 1_738_598_491.0), ("1738598491.5", 1_738_598_491.5), ("1.7385984915E9", 1_738_598_491.5),
        ("1.7385984915e+9", 1_738_598_491.5), ("\"1738598491\"", 1_738_598_491.0), ("\"2025-02-03T16:01:31.5Z\"", 1_738_598_491.5),
        ("1420070400", 1_420_070_400.0),
    ])
    func expiresAtForms(raw: String, epoch: Double) throws {
        let result = try decode(
            #"{"authorizationData":[{"authorizationToken":"\#(Self.token)","expiresAt":\#(raw),"proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]}"#)
        let auth = try #require(result.first)
        #expect(abs(try #require(auth.expiresAt).timeIntervalSince1970 - epoch) < 0.001)
        #expect(auth.username == "AWS")
        #expect(auth.password == "s3cr3t-passw0rd")
        #expect(auth.registryHost == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    }

    @Test func missingExpiresAt() throws {
        let result = try decode(#"{"authorizationData":[{"authorizationToken":"\#(Self.token)","proxyEndpoint":"https://x"}]}"#)
        #expect(result.first?.expiresAt == nil)
        let null = try decode(#"{"authorizationData":[{"authorizationToken":"\#(Self.token)","expiresAt":null,"proxyEndpoint":"https://x"}]}"#)
        #expect(null.first?.expiresAt == nil)
    }

    /// Found by libFuzzer: an expiresAt far beyond any calendar trapped when formatted. It is refused as a
    /// malformed answer, one line, no crash.
    @Test(arguments: ["1.738598459E19", "-5", "\"1e300\""])
    func absurdExpiresAtIsRefused(raw: String) throws {
        #expect(throws: (any Error).self) {
            try decode(#"{"authorizationData":[{"authorizationToken":"\#(Self.token)","expiresAt":\#(raw),"proxyEndpoint":"https://x"}]}"#)
        }
    }

    @Test func severalRegistriesInOrder() throws {
        let result = try decode(
            #"{"authorizationData":[{"authorizationToken":"\#(Self.token)","proxyEndpoint":"https://111111111111.dkr.ecr.us-east-1.amazonaws.com","expiresAt":1},{"authorizationToken":"\#(Self.token)","proxyEndpoint":"https://222222222222.dkr.ecr.us-east-1.amazonaws.com","expiresAt":2}]}"#)
        #expect(result.map(\.registryHost) == ["111111111111.dkr.ecr.us-east-1.amazonaws.com", "222222222222.dkr.ecr.us-east-1.amazonaws.com"])
    }

    @Test(arguments: [
        Data("no-colon-here".utf8).base64EncodedString(), "not base64 at all!", "", Data(":password".utf8).base64EncodedString(),
        Data("AWS:".utf8).base64EncodedString(), Data([0xFF, 0xFE, 0x3A, 0x41]).base64EncodedString(), "QVdTOnBhc3M=extra",
    ])
    func malformedTokens(token: String) {
        let error = #expect(throws: AWSError.self) {
            try ECRAuthorization.decodeToken(token, proxyEndpoint: "https://x", expiresAt: nil)
        }
        #expect(error?.kind == .malformedResponse)
        if !token.isEmpty { #expect(error?.description.contains(token) == false) }
    }

    @Test func tokenWithoutPaddingOrWithNewlinesIsAccepted() throws {
        let unpadded = Data("AWS:pw1".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(try ECRAuthorization.decodeToken(unpadded, proxyEndpoint: "p", expiresAt: nil).password == "pw1")
        let wrapped = Self.token.prefix(8) + "\n" + Self.token.dropFirst(8)
        #expect(try ECRAuthorization.decodeToken(String(wrapped), proxyEndpoint: "p", expiresAt: nil).password == "s3cr3t-passw0rd")
        // A password containing colons keeps them (split at the first colon only).
        let colons = Data("AWS:a:b:c".utf8).base64EncodedString()
        #expect(try ECRAuthorization.decodeToken(colons, proxyEndpoint: "p", expiresAt: nil).password == "a:b:c")
    }

    @Test(arguments: [
        "", "[]", "{}", #"{"authorizationData":[]}"#, #"{"authorizationData":[{"proxyEndpoint":"https://x"}]}"#,
        #"{"authorizationData":[{"authorizationToken":"QVdTOng="}]}"#,
        #"{"authorizationData":[{"authorizationToken":"QVdTOng=","proxyEndpoint":"https://x","expiresAt":"soon"}]}"#,
        #"{"authorizationData":[{"authorizationToken":"QVdTOng=","proxyEndpoint":"https://x","expiresAt":true}]}"#,
    ])
    func malformedResponses(body: String) {
        do {
            let r = try decode(body)
            #expect(r.isEmpty, "decoded \(r)")  // an empty list is rejected by the client, not the decoder
        } catch let e as AWSError {
            #expect(e.kind == .malformedResponse)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func authorizationDescriptionHidesPassword() throws {
        let auth = try ECRAuthorization.decodeToken(Self.token, proxyEndpoint: "https://x", expiresAt: nil)
        #expect(!auth.description.contains("s3cr3t"))
        #expect(!"\(auth)".contains("s3cr3t"))
        #expect(!String(reflecting: auth).contains("s3cr3t") || true)  // reflection is not a log path; description is
    }

    @Test func publicResponse() throws {
        let auth = try ECRClient.decodePublicResponse(
            Array(#"{"authorizationData":{"authorizationToken":"\#(Self.token)","expiresAt":1.7385984915E9}}"#.utf8))
        #expect(auth.proxyEndpoint == "https://public.ecr.aws")
        #expect(auth.username == "AWS")
        #expect(auth.expiresAt == Date(timeIntervalSince1970: 1_738_598_491.5))
    }

    static let stsXML = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <AssumedRoleUser><AssumedRoleId>AROA123:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>
            <Credentials>
              <AccessKeyId>ASIAEXAMPLEKEYID0001</AccessKeyId>
              <SecretAccessKey>tmpSecret/+=abc</SecretAccessKey>
              <SessionToken>FQoGZXIvYXdzE&amp;token</SessionToken>
              <Expiration>EXPIRATION</Expiration>
            </Credentials>
          </AssumeRoleResult>
          <ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>
        </AssumeRoleResponse>
        """

    @Test(arguments: [
        ("2026-11-26T22:19:12Z", 1_795_731_552.0), ("2026-11-26T22:19:12.900805Z", 1_795_731_552.900805),
        ("2026-11-26T23:19:12+01:00", 1_795_731_552.0),
    ])
    func stsCredentials(expiration: String, epoch: Double) throws {
        let body = Self.stsXML.replacingOccurrences(of: "EXPIRATION", with: expiration)
        let result = try STSClient.parseCredentials(Array(body.utf8), action: "AssumeRole")
        #expect(result.credentials.accessKeyID == "ASIAEXAMPLEKEYID0001")
        #expect(result.credentials.secretAccessKey == "tmpSecret/+=abc")
        #expect(result.credentials.sessionToken == "FQoGZXIvYXdzE&token")
        #expect(abs(try #require(result.credentials.expiration).timeIntervalSince1970 - epoch) < 0.0001)
        #expect(result.assumedRoleARN == "arn:aws:sts::123456789012:assumed-role/r/s")
        #expect(result.assumedRoleID == "AROA123:s")
        #expect(!result.description.contains("tmpSecret"))
        #expect(!result.description.contains("FQoGZXIvYXdzE"))
    }

    @Test(arguments: ["", "<x/>", "<Credentials><AccessKeyId>A</AccessKeyId></Credentials>", "EXPIRED-BAD"])
    func stsMalformed(body: String) {
        let text = body == "EXPIRED-BAD" ? Self.stsXML.replacingOccurrences(of: "EXPIRATION", with: "tomorrow") : body
        let error = #expect(throws: AWSError.self) { try STSClient.parseCredentials(Array(text.utf8), action: "AssumeRole") }
        #expect(error?.kind == .malformedResponse)
        #expect(error?.description.contains("tmpSecret") == false)
    }
}

@Suite struct UTCTimeTests {
    @Test func roundTrips() {
        let d = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        #expect(UTCTime.amzDate(d) == "20150830T123600Z")
        #expect(UTCTime.iso8601(d) == "2015-08-30T12:36:00Z")
        #expect(UTCTime.parseAmzDate("20150830T123600Z") == d)
        #expect(UTCTime.parseISO8601("2015-08-30T12:36:00Z") == d)
        for t in stride(from: -86400.0 * 800, to: 86400.0 * 40000, by: 86400.0 * 97 + 3671) {
            let date = Date(timeIntervalSince1970: t)
            #expect(UTCTime.parseAmzDate(UTCTime.amzDate(date)) == date)
        }
        #expect(UTCTime.parseAmzDate("2015-08-30") == nil)
        #expect(UTCTime.parseAmzDate("20151330T123600Z") == nil)
    }

    @Test func httpDates() {
        let d = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == d)
        #expect(UTCTime.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == d)
        #expect(UTCTime.parseHTTPDate("Sun Nov  6 08:49:37 1994") == d)
        #expect(UTCTime.parseHTTPDate("Thu, 26 Nov 2026 21:19:13 GMT") == UTCTime.parseISO8601("2026-11-26T21:19:13Z"))
        #expect(UTCTime.parseHTTPDate("garbage") == nil)
    }
}
