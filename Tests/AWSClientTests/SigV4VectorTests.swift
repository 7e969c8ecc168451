import Crypto
import Foundation
import Testing

@testable import AWSClient

/// The published AWS SigV4 test-suite requests and ECR/STS requests from data/sigv4-vectors.json.
@Suite struct SigV4VectorTests {
    struct Vectors: Decodable {
        struct SuiteCase: Decodable {
            var name: String
            var method: String
            var url: String
            var headers: [String: String]
            var body: String
            var expected_signature: String
        }
        struct Case: Decodable {
            var name: String
            var method: String
            var url: String
            var service: String
            var region: String
            var session_token: String?
            var headers_in: [String: String]
            var body: String
            var canonical_request: String
            var string_to_sign: String
            var signing_key_hex: String
            var signature: String
            var authorization: String
            var headers_sent: [String: String]
        }
        var access_key: String
        var secret_key: String
        var x_amz_date: String
        var suite: [SuiteCase]
        var cases: [Case]
    }

    static let vectors: Vectors = {
        let url = TestEnv.fixturesDirectory.appendingPathComponent("sigv4-vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    static var date: Date { UTCTime.parseAmzDate(vectors.x_amz_date)! }

    @Test(arguments: vectors.suite.map(\.name))
    func awsTestSuite(name: String) throws {
        let v = Self.vectors
        let c = try #require(v.suite.first { $0.name == name })
        let signer = SigV4Signer(region: "us-east-1", service: "service")
        let signed = try signer.sign(
            method: c.method, url: c.url, headers: c.headers.map { (name: $0.key, value: $0.value) },
            body: Array(c.body.utf8), date: Self.date,
            credentials: AWSCredentials(accessKeyID: v.access_key, secretAccessKey: v.secret_key))
        #expect(signed.signature == c.expected_signature, "\(name)\n\(signed.canonicalRequest)")
        #expect(signed.header("X-Amz-Date") == v.x_amz_date)
        #expect(signed.header("Host") == "example.amazonaws.com")
    }

    @Test(arguments: vectors.cases.map(\.name))
    func ecrAndSTSCases(name: String) throws {
        let v = Self.vectors
        let c = try #require(v.cases.first { $0.name == name })
        let signer = SigV4Signer(region: c.region, service: c.service)
        let credentials = AWSCredentials(accessKeyID: v.access_key, secretAccessKey: v.secret_key, sessionToken: c.session_token)
        // Header order as in the JSON object is not guaranteed by the decoder; canonicalization must not depend on it.
        let signed = try signer.sign(
            method: c.method, url: c.url, headers: c.headers_in.map { (name: $0.key, value: $0.value) },
            body: Array(c.body.utf8), date: Self.date, credentials: credentials)
        #expect(signed.canonicalRequest == c.canonical_request)
        #expect(signed.stringToSign == c.string_to_sign)
        #expect(signed.signature == c.signature)
        #expect(signed.authorization == c.authorization)
        let key = SigV4Signer.signingKey(secret: v.secret_key, date: String(v.x_amz_date.prefix(8)), region: c.region, service: c.service)
        #expect(key.withUnsafeBytes { Hex.encode($0) } == c.signing_key_hex)
        // Every header the vector sends, with the same value, and nothing else.
        var sent: [String: String] = [:]
        for h in signed.headers { sent[h.name.lowercased()] = h.value }
        var expected: [String: String] = [:]
        for (k, val) in c.headers_sent { expected[k.lowercased()] = val }
        #expect(sent == expected)
    }

    @Test func signingIsDeterministicAndSensitiveToEveryInput() throws {
        let signer = SigV4Signer(region: "us-east-1", service: "ecr")
        let base = try signer.sign(
            method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")],
            body: Array("{}".utf8), date: Self.date, credentials: .example)
        let again = try signer.sign(
            method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")],
            body: Array("{}".utf8), date: Self.date, credentials: .example)
        #expect(base.signature == again.signature)
        let variants = [
            try signer.sign(method: "PUT", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")], body: Array("{}".utf8), date: Self.date, credentials: .example),
            try signer.sign(method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/x", headers: [(name: "X-Amz-Target", value: "A")], body: Array("{}".utf8), date: Self.date, credentials: .example),
            try signer.sign(method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "B")], body: Array("{}".utf8), date: Self.date, credentials: .example),
            try signer.sign(method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")], body: Array("{ }".utf8), date: Self.date, credentials: .example),
            try signer.sign(method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")], body: Array("{}".utf8), date: Self.date.addingTimeInterval(1), credentials: .example),
            try SigV4Signer(region: "us-east-2", service: "ecr").sign(method: "POST", url: "https://api.ecr.us-east-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: "A")], body: Array("{}".utf8), date: Self.date, credentials: .example),
        ]
        for v in variants { #expect(v.signature != base.signature) }
    }

    @Test func staleAuthorizationAndDateHeadersAreReplaced() throws {
        let signer = SigV4Signer(region: "us-east-1", service: "ecr")
        let signed = try signer.sign(
            method: "POST", url: "http://127.0.0.1:5000/",
            headers: [(name: "Authorization", value: "stale"), (name: "X-Amz-Date", value: "19990101T000000Z"), (name: "User-Agent", value: "x y")],
            body: [], date: Self.date, credentials: .example)
        #expect(signed.headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
        #expect(signed.headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value) == ["20150830T123600Z"])
        #expect(signed.signedHeaders == "host;x-amz-date")  // user-agent is never signed
        #expect(signed.header("Host") == "127.0.0.1:5000")
        #expect(signed.payloadHash == SigV4Signer.emptyPayloadHash)
    }

    @Test func defaultPortsAreLeftOutOfHost() throws {
        let signer = SigV4Signer(region: "us-east-1", service: "sts")
        #expect(try signer.sign(method: "GET", url: "https://STS.example.com:443/", date: Self.date, credentials: .example).header("Host") == "sts.example.com")
        #expect(try signer.sign(method: "GET", url: "http://h:80/", date: Self.date, credentials: .example).header("Host") == "h")
        #expect(try signer.sign(method: "GET", url: "http://h:8080", date: Self.date, credentials: .example).header("Host") == "h:8080")
        #expect(try signer.sign(method: "GET", url: "http://[::1]:9000/", date: Self.date, credentials: .example).header("Host") == "[::1]:9000")
        #expect(throws: SigV4Signer.SigningError.self) { try signer.sign(method: "GET", url: "no-scheme", date: Self.date, credentials: .example) }
    }

    @Test func canonicalPieces() {
        #expect(SigV4Signer.removeDotSegments("/a/./b/../c//d/") == "/a/c/d/")
        #expect(SigV4Signer.removeDotSegments("") == "/")
        #expect(SigV4Signer.removeDotSegments("/..") == "/")
        #expect(SigV4Signer.canonicalQuery("b=2&a=1&a=0&c") == "a=0&a=1&b=2&c=")
        #expect(SigV4Signer.canonicalQuery("k=%7e%2a x") == "k=~%2A%20x")
        #expect(SigV4Signer.trimAll("  a   b \t c  ") == "a b c")
        #expect(SigV4Signer.encodeQuery([(name: "a b", value: "ü/+")]) == "a%20b=%C3%BC%2F%2B")
    }
}
