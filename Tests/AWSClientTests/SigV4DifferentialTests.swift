import Foundation
import Testing
import TestSupport

@testable import AWSClient

/// Signs many generated requests with SigV4Signer and with botocore (scripts/aws/sigv4_oracle.py) and requires
/// identical canonical requests, strings to sign, signatures and Authorization headers.
@Suite struct SigV4DifferentialTests {
    struct Generated: Sendable {
        var method: String
        var url: String  // as passed to our signer
        var oracleURL: String  // as passed to botocore
        var params: [(String, String)]?  // raw query parameters (botocore params mode)
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        var credentials: AWSCredentials
        var region: String
        var service: String
        var date: Date
        var note: String
    }

    static let pathPieces = [
        "a", "B", "0", "-", "_", ".", "~", "..", ".", "", "foo bar", "sp ace", "ü", "日本", "😀", "!", "$", "&", "'", "(", ")",
        "*", "+", ",", ";", "=", ":", "@", "%", "%20", "%2F", "%E2%82%AC", "a%zz", "[x]", "{y}", "|", "^", "`", "\"", "<>",
        "\\", "segment.with.dots", "UPPER", "tab-free",
    ]
    static let queryPieces = [
        "a", "b", "Z", "0", "", " ", "x y", "a+b", "=", "&", "%", "%41", "/", "?", "#", "~", "-_.", "ü", "€", "😀", "*", "'",
        "()", "!", "@", ":", ";", ",", "$", "[]", "\"", "\\", "^", "`", "{", "|", "}",
    ]
    static let headerNames = [
        "X-Amz-Target", "Content-Type", "X-Custom-Header", "x-amz-meta-Foo", "My-Header1", "Accept", "User-Agent",
        "X-Amzn-Trace-Id", "X-Dup", "x-dup", "X-Empty", "Content-MD5", "If-None-Match",
    ]
    static let headerValues = [
        "value", "  leading", "trailing   ", "  both  ", "multiple    inner   spaces", "tab\tinside", " \t mixed \t ",
        "", "a,b", "quoted \"x  y\"", "application/x-amz-json-1.1", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
        "with:colon", "semi;colon", "UPPER lower", "=+/", "~!@#$%^&*()",
    ]
    static let hosts = [
        "https://example.amazonaws.com", "https://api.ecr.eu-west-1.amazonaws.com", "http://127.0.0.1:4566",
        "http://LOCALHOST:8080", "https://sts.us-east-1.amazonaws.com:443", "http://moto:5000", "https://Mixed.Case.Example",
    ]
    static let regions = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"]
    static let services = ["ecr", "sts", "service", "ecr-public", "iam"]
    static let methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "post"]

    static func generate(count: Int, seed: UInt64) -> [Generated] {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &rng)] }
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

        var out: [Generated] = []
        for i in 0..<count {
            let host = pick(hosts)
            // Path: raw pieces (the URL carries them as they are; both signers encode them once more).
            var path = ""
            let segments = Int.random(in: 0...4, using: &rng)
            for _ in 0..<segments {
                var segment = ""
                for _ in 0..<Int.random(in: 0...3, using: &rng) { segment += pick(pathPieces) }
                if chance(0.3) { segment = AWSPercentEncoding.encode(segment) }
                path += "/" + segment
            }
            if chance(0.2) { path += "/" }
            if path.isEmpty && chance(0.5) { path = "/" }

            // Query: raw parameters, repeated keys and empty values included.
            var params: [(String, String)] = []
            let paramCount = chance(0.35) ? 0 : Int.random(in: 1...6, using: &rng)
            for _ in 0..<paramCount {
                var key = ""
                for _ in 0..<Int.random(in: 1...2, using: &rng) { key += pick(queryPieces) }
                if key.isEmpty { key = "k" }
                var value = ""
                for _ in 0..<Int.random(in: 0...3, using: &rng) { value += pick(queryPieces) }
                params.append((key, value))
                if chance(0.2) { params.append((key, pick(queryPieces))) }  // repeated key
            }
            var note = "params"
            var url = host + path
            var oracleURL = host + path
            var oracleParams: [(String, String)]? = params.isEmpty ? nil : params
            if !params.isEmpty {
                url += "?" + SigV4Signer.encodeQuery(params.map { (name: $0.0, value: $0.1) })
                if chance(0.3) {
                    // The query already in the URL (canonically encoded, some keys without "="): botocore's URL mode.
                    var pieces: [String] = []
                    for (k, v) in params {
                        pieces.append(v.isEmpty && chance(0.5) ? AWSPercentEncoding.encode(k) : "\(AWSPercentEncoding.encode(k))=\(AWSPercentEncoding.encode(v))")
                    }
                    url = host + path + "?" + pieces.joined(separator: "&")
                    oracleURL = url
                    oracleParams = nil
                    note = "url-query"
                }
            }

            var headers: [(name: String, value: String)] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                headers.append((name: pick(headerNames), value: pick(headerValues)))
            }
            if chance(0.1) { headers.append((name: chance(0.5) ? "Host" : "host", value: "  Custom.Host:9999 ")) }
            var body: [UInt8] = []
            if chance(0.6) {
                body = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if chance(0.5) { body = Array("{\"registryIds\":[\"123456789012\"],\"n\":\(i),\"s\":\"ü x\"}".utf8) }
            }
            if chance(0.1) { headers.append((name: "X-Amz-Content-SHA256", value: "UNSIGNED-PAYLOAD")) }
            let token: String? =
                chance(0.4) ? "FQoGZXIvYXdzE" + String((0..<Int.random(in: 10...80, using: &rng)).map { _ in pick(Array("ABCxyz0129+/=")) }) : nil
            let credentials = AWSCredentials(
                accessKeyID: chance(0.5) ? "AKIDEXAMPLE" : "ASIA\(i)EXAMPLE",
                secretAccessKey: chance(0.5) ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" : "s3cr3t+/\(i)=",
                sessionToken: token)
            let date = Date(timeIntervalSince1970: Double(Int.random(in: 946_684_800...2_208_988_800, using: &rng)))
            out.append(
                Generated(
                    method: pick(methods), url: url, oracleURL: oracleURL, params: oracleParams, headers: headers, body: body,
                    credentials: credentials, region: pick(regions), service: pick(services), date: date, note: note))
        }
        return out
    }

    struct OracleResult: Decodable {
        var canonical_request: String?
        var string_to_sign: String?
        var signature: String?
        var authorization: String?
        var error: String?
    }
    struct OracleOutput: Decodable {
        var botocore_version: String
        var results: [OracleResult]
    }

    static func runOracle(_ requests: [Generated]) async throws -> OracleOutput {
        let python = try #require(TestEnv.python)
        var specs: [[String: Any]] = []
        for r in requests {
            var spec: [String: Any] = [
                "method": r.method, "url": r.oracleURL, "headers": r.headers.map { [$0.name, $0.value] },
                "body_b64": Data(r.body).base64EncodedString(), "access_key": r.credentials.accessKeyID,
                "secret_key": r.credentials.secretAccessKey, "region": r.region, "service": r.service,
                "amz_date": UTCTime.amzDate(r.date),
            ]
            if let token = r.credentials.sessionToken { spec["session_token"] = token }
            if let params = r.params { spec["params"] = params.map { [$0.0, $0.1] } }
            specs.append(spec)
        }
        let input = try JSONSerialization.data(withJSONObject: ["requests": specs])
        let dir = try TestEnv.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inFile = dir.appendingPathComponent("in.json")
        try input.write(to: inFile)
        // A child process awaited, not waited for: a blocking wait would hold one of the cooperative pool's
        // threads (two on CI) for as long as botocore signs.
        let result = try await ChildProcess.run(
            python, [TestEnv.repoRoot.appendingPathComponent("scripts/aws/sigv4_oracle.py").path],
            environment: ProcessInfo.processInfo.environment, outputDirectory: dir.path, input: .file(inFile.path))
        try #require(result.exitCode == 0, "sigv4_oracle.py failed: \(result.stderr)")
        return try JSONDecoder().decode(OracleOutput.self, from: Data(result.stdout.utf8))
    }

    @Test(.enabled(if: TestEnv.python != nil, TestEnv.pythonReason), arguments: [UInt64(0x5EED_0001), 0xC0FFEE])
    func agreesWithBotocore(seed: UInt64) async throws {
        let requests = Self.generate(count: 300, seed: seed)
        let oracle = try await Self.runOracle(requests)
        try #require(oracle.results.count == requests.count)
        var mismatches: [String] = []
        var compared = 0
        for (i, (r, o)) in zip(requests, oracle.results).enumerated() {
            if let error = o.error {
                mismatches.append("#\(i) oracle error: \(error)")
                continue
            }
            let signer = SigV4Signer(region: r.region, service: r.service)
            let mine = try signer.sign(method: r.method, url: r.url, headers: r.headers, body: r.body, date: r.date, credentials: r.credentials)
            compared += 1
            if mine.canonicalRequest != o.canonical_request || mine.stringToSign != o.string_to_sign
                || mine.signature != o.signature || mine.authorization != o.authorization
            {
                mismatches.append(
                    "#\(i) (\(r.note)) \(r.method) \(r.url)\n--- ours:\n\(mine.canonicalRequest)\n--- botocore \(oracle.botocore_version):\n\(o.canonical_request ?? "")")
            }
        }
        #expect(compared == requests.count)
        let count = mismatches.count
        #expect(count == 0, "\(count) of \(requests.count) differ (seed \(seed)):\n\(mismatches.prefix(5).joined(separator: "\n\n"))")
    }

    @Test func generatorCoversTheTrickyCases() {
        let requests = Self.generate(count: 300, seed: 0x5EED_0001)
        #expect(requests.contains { $0.url.contains("%20") || $0.url.contains(" ") })
        #expect(requests.contains { $0.url.unicodeScalars.contains { $0.value > 0x7F } })
        #expect(requests.contains { $0.note == "url-query" })
        #expect(requests.contains { r in Set(r.params?.map(\.0) ?? []).count < (r.params?.count ?? 0) })
        #expect(requests.contains { $0.headers.contains { $0.value.contains("  ") } })
        #expect(requests.contains { $0.credentials.sessionToken != nil })
        #expect(requests.contains { $0.url.contains("/../") || $0.url.contains("/./") || $0.url.contains("//") })
    }
}
