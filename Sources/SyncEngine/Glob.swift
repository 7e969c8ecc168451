/// Shell-style name patterns for namespace selection: `*` matches any run of characters, `?` one
/// character; everything else matches itself. Namespace names are ASCII, so bytes suffice.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let bytes: [UInt8]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    public var description: String { pattern }

    /// True when the pattern has no wildcard, so it names exactly one namespace.
    public var isLiteral: Bool { !bytes.contains(UInt8(ascii: "*")) && !bytes.contains(UInt8(ascii: "?")) }

    public func matches(_ name: String) -> Bool {
        let text = Array(name.utf8)
        // Iterative matcher with single-star backtracking: linear in practice, no recursion.
        var p = 0, t = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < bytes.count, bytes[p] == UInt8(ascii: "?") || bytes[p] == text[t] {
                p += 1; t += 1
            } else if p < bytes.count, bytes[p] == UInt8(ascii: "*") {
                starP = p; starT = t; p += 1
            } else if starP >= 0 {
                p = starP + 1; starT += 1; t = starT
            } else {
                return false
            }
        }
        while p < bytes.count, bytes[p] == UInt8(ascii: "*") { p += 1 }
        return p == bytes.count
    }
}
