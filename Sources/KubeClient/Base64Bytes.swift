#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Raw bytes that travel as a base64 string in JSON (a Secret's `data` values).
/// Its descriptions print only the length: secret values must never reach a log line by accident.
public struct Base64Bytes: Codable, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "value is not valid base64")
        }
        bytes = Array(data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(bytes).base64EncodedString())
    }

    public var description: String { "<\(bytes.count) bytes>" }
    public var debugDescription: String { description }
}
