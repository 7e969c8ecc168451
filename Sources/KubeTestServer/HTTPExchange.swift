/// A request as the HTTP layer hands it to the API logic.
struct HTTPRequestData: Sendable {
    var method: String
    var path: String
    var query: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    var target: String { query.isEmpty ? path : "\(path)?\(query)" }
}

/// How the API logic deals with a request: an answer now, or one after waiting (an injected delay).
enum Handling: Sendable {
    case reply(HTTPReply)
    /// Wait this long, then handle the request again with these (already consumed) faults.
    case later(Duration, [Fault])
    /// A throttled user's request: wait for a seat (or be rejected), hold it for the service time, then
    /// handle the request with these (already consumed) faults.
    case seated([Fault])
}

/// What the API logic answers.
enum HTTPReply: Sendable {
    case full(status: Int, headers: [(String, String)], body: [UInt8])
    /// HTTP 200 with a chunked stream of watch events.
    case watch(WatchSession)
    /// Close the connection without answering.
    case drop

    static func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> HTTPReply {
        .full(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPReply {
        json(status, value.jsonBytes)
    }

    static func status(_ error: APIStatus) -> HTTPReply {
        var headers: [(String, String)] = []
        if let retryAfter = error.retryAfterSeconds { headers.append(("Retry-After", String(retryAfter))) }
        return json(error.code, error.json.jsonBytes, headers: headers)
    }

    var statusCode: Int {
        switch self {
        case .full(let status, _, _): status
        case .watch: 200
        case .drop: 0
        }
    }
}

/// An open watch: events to write until the stream ends, bookmarks on a timer, an optional time limit.
struct WatchSession: Sendable {
    var id: Int?
    var stream: AsyncStream<WatchItem>
    var continuation: AsyncStream<WatchItem>.Continuation
    var kind: ResourceKind
    var bookmarkInterval: Duration?
    var timeout: Duration?
}
