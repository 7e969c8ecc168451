import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOSSL
import TestSupport

/// Plain-HTTP GETs against the helper's `/healthz`, `/readyz` and `/metrics`.
enum HTTPProbe {
    struct Answer: Sendable {
        var status: Int
        var body: String
    }

    /// nil when nothing answers (not listening yet, or gone).
    static func get(port: Int, _ path: String) async -> Answer? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            return Answer(status: Int(response.status.code), body: String(buffer: body))
        } catch {
            return nil
        }
    }

    /// Waits until `path` answers with `status`, returning that answer.
    static func waitFor(port: Int, _ path: String, status: Int, timeout: Duration = .seconds(20)) async throws -> Answer {
        try await eventuallyValue("GET \(path) answering \(status)", timeout: timeout, poll: .milliseconds(50)) {
            guard let answer = await get(port: port, path), answer.status == status else { return nil }
            return answer
        }
    }

    /// A loopback port nobody listens on right now (bound, read, closed).
    static func freePort() throws -> Int {
        let (port, fd) = try bindSocket(host: "127.0.0.1")
        close(fd)
        return port
    }

    /// A port taken by a listening socket on every address until `body` returns.
    static func withOccupiedPort<T>(_ body: (Int) async throws -> T) async throws -> T {
        let (port, fd) = try bindSocket(host: "0.0.0.0")
        defer { close(fd) }
        guard listen(fd, 1) == 0 else { throw SpawnFailure(description: "listen() failed") }
        return try await body(port)
    }

    private static func bindSocket(host: String) throws -> (port: Int, fd: Int32) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnFailure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(host)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw SpawnFailure(description: "bind() failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (Int(UInt16(bigEndian: address.sin_port)), fd)
    }
}

/// Prometheus text exposition, parsed just enough to check names, types and values.
struct PrometheusText {
    struct Sample: Sendable {
        var name: String
        var labels: String
        var value: Double
    }

    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var samples: [Sample] = []
    var problems: [String] = []

    init(_ text: String) {
        for line in text.lines {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 4 || (parts.count == 3 && line.hasPrefix("# HELP ")) else {
                    problems.append("malformed line: \(line)")
                    continue
                }
                let name = parts[2]
                if line.hasPrefix("# TYPE ") {
                    if types[name] != nil { problems.append("TYPE repeated for \(name)") }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) {
                        problems.append("unknown type in: \(line)")
                    }
                    types[name] = parts[3]
                } else {
                    helps[name] = parts.count > 3 ? parts[3] : ""
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            let nameEnd = line.firstIndex(where: { $0 == "{" || $0 == " " }) ?? line.endIndex
            let name = String(line[..<nameEnd])
            var labels = ""
            var rest = line[nameEnd...]
            if rest.hasPrefix("{"), let close = rest.lastIndex(of: "}") {
                labels = String(rest[rest.index(after: rest.startIndex)..<close])
                rest = rest[rest.index(after: close)...]
            }
            let valueText = rest.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : nil) else {
                problems.append("no numeric value in: \(line)")
                continue
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        for sample in samples where family(of: sample.name) == nil {
            problems.append("sample \(sample.name) has no TYPE line")
        }
    }

    /// The declared family of a sample name (`x_bucket`, `x_sum`, `x_count` belong to `x`).
    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] != nil { return base }
        }
        return nil
    }

    func values(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    func total(_ name: String) -> Double { values(name).reduce(0) { $0 + $1.value } }
}

extension HTTPProbe {
    /// Sends rounds of `parallel` applies of `secretName` in `default` with `token` (writes: they hold a
    /// seat longer than reads) until one is answered 429, and returns that answer.
    static func firstRejection(url: String, caPEM: String, token: String, secretName: String, parallel: Int) async throws -> (status: Int, retryAfter: String?, body: String) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let rejected = try await firstRejection(client, url: url, token: token, secretName: secretName, parallel: parallel)
            try await client.shutdown()
            return rejected
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func firstRejection(_ client: HTTPClient, url: String, token: String, secretName: String, parallel: Int) async throws -> (status: Int, retryAfter: String?, body: String) {
        for _ in 0..<20 {
            let answers = await withTaskGroup(of: (Int, String?, String)?.self) { group in
                for _ in 0..<parallel {
                    group.addTask {
                        var request = HTTPClientRequest(url: url + "/api/v1/namespaces/default/secrets/\(secretName)?fieldManager=probe&force=true")
                        request.method = .PATCH
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/apply-patch+yaml")
                        request.body = .bytes(ByteBuffer(string: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(secretName)"},"stringData":{"k":"\#(UUID().uuidString)"}}"#))
                        guard let response = try? await client.execute(request, timeout: .seconds(30)),
                              let body = try? await response.body.collect(upTo: 1 << 20) else { return nil }
                        return (Int(response.status.code), response.headers.first(name: "Retry-After"), String(buffer: body))
                    }
                }
                var all: [(Int, String?, String)] = []
                for await answer in group { if let answer { all.append(answer) } }
                return all
            }
            if let rejected = answers.first(where: { $0.0 == 429 }) { return (rejected.0, rejected.1, rejected.2) }
        }
        throw SpawnFailure(description: "no request was throttled in 20 rounds of \(parallel)")
    }
}
