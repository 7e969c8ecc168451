/// A JSON decoding error described by where it happened, never by the document's values (an AWS answer or a
/// kubelet request may hold a token).
public enum DecodingProblem {
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "invalid JSON" }
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "the top level" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .typeMismatch(_, let ctx): return "wrong type at \(path(ctx.codingPath))"
        case .valueNotFound(_, let ctx): return "missing value at \(path(ctx.codingPath))"
        case .keyNotFound(let key, let ctx): return "missing \(key.stringValue) at \(path(ctx.codingPath))"
        case .dataCorrupted(let ctx): return ctx.codingPath.isEmpty ? "invalid JSON" : "bad value at \(path(ctx.codingPath))"
        @unknown default: return "invalid JSON"
        }
    }
}
