/// A misbehaviour injected on demand: matching requests (by method and/or a substring of `path?query`)
/// get `fault`, `times` times (nil: until the faults are cleared).
public struct FaultRule: Sendable, Codable, Hashable {
    public var method: String?
    public var pathContains: String?
    public var fault: Fault
    public var times: Int?

    public init(method: String? = nil, pathContains: String? = nil, fault: Fault, times: Int? = nil) {
        self.method = method
        self.pathContains = pathContains
        self.fault = fault
        self.times = times
    }

    func matches(method: String, target: String) -> Bool {
        if let wanted = self.method, wanted.uppercased() != method.uppercased() { return false }
        if let needle = pathContains, !needle.isEmpty, !target.contains(needle) { return false }
        return true
    }
}

public enum Fault: Sendable, Hashable {
    /// Answer with this HTTP status and a matching `Status` body (e.g. 429 TooManyRequests, 503), with a
    /// `Retry-After` header when given.
    case status(Int, retryAfterSeconds: Int? = nil)
    /// Wait this long, then serve the request normally (other matching rules still apply).
    case delay(Duration)
    /// Close the connection without answering.
    case dropConnection
}

extension Fault: Codable {
    enum CodingKeys: String, CodingKey { case type, status, retryAfterSeconds, milliseconds }

    /// JSON forms: `{"type":"status","status":503,"retryAfterSeconds":2}`, `{"type":"delay","milliseconds":300}`,
    /// `{"type":"dropConnection"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "status":
            self = .status(
                try container.decode(Int.self, forKey: .status),
                retryAfterSeconds: try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds))
        case "delay":
            self = .delay(.milliseconds(try container.decode(Int.self, forKey: .milliseconds)))
        case "dropConnection", "drop":
            self = .dropConnection
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown fault type \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .status(let code, let retryAfter):
            try container.encode("status", forKey: .type)
            try container.encode(code, forKey: .status)
            try container.encodeIfPresent(retryAfter, forKey: .retryAfterSeconds)
        case .delay(let duration):
            try container.encode("delay", forKey: .type)
            let (seconds, attoseconds) = duration.components
            try container.encode(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000), forKey: .milliseconds)
        case .dropConnection:
            try container.encode("dropConnection", forKey: .type)
        }
    }
}
