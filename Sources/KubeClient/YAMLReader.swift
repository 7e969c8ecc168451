import CommonBasics

/// A small YAML reader for the subset kubeconfig files use: block mappings and sequences (including
/// `- key: value` items and sequences written at their parent key's indentation), plain, single- and
/// double-quoted scalars, comments, `---`/`...` markers, and flow collections (so JSON documents read too).
///
/// Anchors, aliases, tags, block scalars (`|`, `>`), complex keys, multi-line plain scalars and multiple
/// documents are refused with an error naming the construct, rather than misread.
public struct YAMLReader {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    /// The document's root node, or nil when the text holds no node (empty, or only comments).
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var reader = YAMLReader(bytes: Array(text.utf8))
        return try reader.parseDocument()
    }

    public static func parse(bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
        var reader = YAMLReader(bytes: bytes)
        return try reader.parseDocument()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
            lineStart = 3
        }
    }

    // MARK: - Characters

    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    private var column: Int { index - lineStart }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let position = index + offset
        return position < bytes.count ? bytes[position] : nil
    }

    private static func isBlank(_ byte: UInt8?) -> Bool { byte == space || byte == tab }
    private static func isBreak(_ byte: UInt8?) -> Bool { byte == newline || byte == carriageReturn }
    /// End of input, a blank or a line break: what must follow `-`, `:` and `?` indicators.
    private static func isSeparator(_ byte: UInt8?) -> Bool { byte == nil || isBlank(byte) || isBreak(byte) }
    private static func isFlowIndicator(_ byte: UInt8?) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
    }

    private mutating func advance() {
        if bytes[index] == Self.newline {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    private func error(_ message: String) -> YAMLError {
        YAMLError(line: line, column: column + 1, message: message)
    }

    /// A key as an error message shows it: control characters escaped (a quoted key may hold line breaks,
    /// and an error must stay one line), at most 60 characters.
    private static func shown(_ key: String) -> String {
        Printable.escape(key, limit: 60)
    }

    private mutating func skipBlanks() {
        while Self.isBlank(peek()) { advance() }
    }

    private var atComment: Bool {
        peek() == UInt8(ascii: "#") && (index == lineStart || index == 0 || Self.isBlank(bytes[index - 1]) || Self.isBreak(bytes[index - 1]))
    }

    /// Nothing but blanks and maybe a comment remain on this line.
    private mutating func atLineEnd() -> Bool {
        skipBlanks()
        return peek() == nil || Self.isBreak(peek()) || atComment
    }

    /// Moves to the first character of the next line with content; false at the end of input.
    private mutating func skipToContent() throws(YAMLError) -> Bool {
        while true {
            var sawTab = false
            while Self.isBlank(peek()) {
                if peek() == Self.tab { sawTab = true }
                advance()
            }
            guard let byte = peek() else { return false }
            if atComment {
                while let next = peek(), next != Self.newline { advance() }
                continue
            }
            if Self.isBreak(byte) {
                advance()
                continue
            }
            if sawTab && index - lineStart == indentationWidthWithTabs() {
                throw error("tabs are not allowed in indentation")
            }
            return true
        }
    }

    /// Width of the leading whitespace of the current line when it holds a tab (for the tab check).
    private func indentationWidthWithTabs() -> Int {
        var position = lineStart
        while position < bytes.count, Self.isBlank(bytes[position]) { position += 1 }
        return position - lineStart
    }

    private var atDocumentMarker: Bool {
        guard column == 0, index + 2 < bytes.count else { return false }
        let three = (bytes[index], bytes[index + 1], bytes[index + 2])
        let isMarker = three == (UInt8(ascii: "-"), UInt8(ascii: "-"), UInt8(ascii: "-")) || three == (UInt8(ascii: "."), UInt8(ascii: "."), UInt8(ascii: "."))
        return isMarker && Self.isSeparator(peek(3))
    }

    private var atSequenceIndicator: Bool { peek() == UInt8(ascii: "-") && Self.isSeparator(peek(1)) }

    // MARK: - Document

    private mutating func parseDocument() throws(YAMLError) -> YAMLNode? {
        guard try skipToContent() else { return nil }
        if peek() == UInt8(ascii: "%") { throw error("YAML directives (%) are not supported") }
        var node: YAMLNode?
        if atDocumentMarker && peek() == UInt8(ascii: "-") {
            for _ in 0..<3 { advance() }
            if atLineEnd() {
                guard try skipToContent(), !atDocumentMarker else {
                    return try finishDocument(.scalar("", quoted: false))
                }
            }
        }
        if atDocumentMarker && peek() == UInt8(ascii: ".") { return try finishDocument(nil) }
        node = try parseBlockNode(parentIndent: -1)
        return try finishDocument(node)
    }

    private mutating func finishDocument(_ node: YAMLNode?) throws(YAMLError) -> YAMLNode? {
        guard try skipToContent() else { return node }
        if atDocumentMarker && peek() == UInt8(ascii: ".") {
            for _ in 0..<3 { advance() }
            guard atLineEnd(), try !skipToContent() else { throw error("only one YAML document is supported") }
            return node
        }
        if atDocumentMarker { throw error("only one YAML document is supported") }
        throw error("unexpected content (check the indentation; multi-line plain scalars are not supported)")
    }

    // MARK: - Block context

    /// Parses the node starting at the current position (the first character of its content).
    private mutating func parseBlockNode(parentIndent: Int) throws(YAMLError) -> YAMLNode {
        let indent = column
        guard let byte = peek() else { return .scalar("", quoted: false) }
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let node = try parseFlowNode()
            guard atLineEnd() else { throw error("unexpected text after a flow collection") }
            return node
        case UInt8(ascii: "-") where Self.isSeparator(peek(1)):
            return try parseBlockSequence(indent: indent)
        case UInt8(ascii: "?") where Self.isSeparator(peek(1)):
            throw error("complex mapping keys (?) are not supported")
        default:
            break
        }
        let key = try parseScalar(flow: false)
        skipBlanks()
        if peek() == UInt8(ascii: ":") && Self.isSeparator(peek(1)) {
            guard case .scalar(let text, _) = key else { throw error("mapping keys must be scalars") }
            return try parseBlockMapping(indent: indent, firstKey: text)
        }
        guard atLineEnd() else { throw error("unexpected text after a scalar") }
        return key
    }

    private mutating func parseBlockMapping(indent: Int, firstKey: String) throws(YAMLError) -> YAMLNode {
        var pairs: [(key: String, value: YAMLNode)] = []
        var key = firstKey
        while true {
            advance()  // the ':'
            let value: YAMLNode
            if atLineEnd() {
                if try skipToContent(), !atDocumentMarker,
                    column > indent || (column == indent && atSequenceIndicator)
                {
                    value = try parseBlockNode(parentIndent: indent)
                } else {
                    value = .scalar("", quoted: false)
                }
            } else {
                value = try parseInlineValue()
                guard atLineEnd() else { throw error("unexpected text after a mapping value") }
            }
            if pairs.contains(where: { $0.key == key }) { throw error("duplicate mapping key \"\(Self.shown(key))\"") }
            pairs.append((key, value))

            guard try skipToContent(), !atDocumentMarker, column >= indent else { break }
            if column > indent { throw error("unexpected indentation") }
            if atSequenceIndicator { break }
            if peek() == UInt8(ascii: "?") && Self.isSeparator(peek(1)) {
                throw error("complex mapping keys (?) are not supported")
            }
            guard case .scalar(let next, _) = try parseScalar(flow: false) else { throw error("mapping keys must be scalars") }
            skipBlanks()
            guard peek() == UInt8(ascii: ":") && Self.isSeparator(peek(1)) else {
                throw error("expected ':' after the mapping key \"\(Self.shown(next))\"")
            }
            key = next
        }
        return .mapping(pairs)
    }

    private mutating func parseBlockSequence(indent: Int) throws(YAMLError) -> YAMLNode {
        var items: [YAMLNode] = []
        while true {
            advance()  // the '-'
            if atLineEnd() {
                if try skipToContent(), !atDocumentMarker, column > indent {
                    items.append(try parseBlockNode(parentIndent: indent))
                } else {
                    items.append(.scalar("", quoted: false))
                }
            } else {
                items.append(try parseBlockNode(parentIndent: indent))
            }
            guard try skipToContent(), !atDocumentMarker, column >= indent else { break }
            if column > indent { throw error("unexpected indentation in a sequence") }
            guard atSequenceIndicator else { break }
        }
        return .sequence(items)
    }

    /// A value on the same line as its key.
    private mutating func parseInlineValue() throws(YAMLError) -> YAMLNode {
        switch peek() {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return try parseFlowNode()
        case UInt8(ascii: "-") where Self.isSeparator(peek(1)):
            throw error("a block sequence cannot start on the line of its key")
        default:
            let node = try parseScalar(flow: false)
            skipBlanks()
            if peek() == UInt8(ascii: ":") && Self.isSeparator(peek(1)) {
                throw error("mapping values are not allowed here (quote the value if it holds ': ')")
            }
            return node
        }
    }

    // MARK: - Scalars

    private mutating func parseScalar(flow: Bool) throws(YAMLError) -> YAMLNode {
        switch peek() {
        case UInt8(ascii: "\""): return .scalar(try parseDoubleQuoted(), quoted: true)
        case UInt8(ascii: "'"): return .scalar(try parseSingleQuoted(), quoted: true)
        case UInt8(ascii: "&"): throw error("anchors (&) are not supported")
        case UInt8(ascii: "*"): throw error("aliases (*) are not supported")
        case UInt8(ascii: "!"): throw error("tags (!) are not supported")
        case UInt8(ascii: "|"), UInt8(ascii: ">"): throw error("block scalars (| and >) are not supported")
        case UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw error("a plain scalar cannot start with '\(Character(Unicode.Scalar(peek()!)))'")
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","):
            if !flow { throw error("unexpected '\(Character(Unicode.Scalar(peek()!)))'") }
            return .scalar("", quoted: false)
        default:
            return .scalar(parsePlain(flow: flow), quoted: false)
        }
    }

    private mutating func parsePlain(flow: Bool) -> String {
        let start = index
        var end = index
        while let byte = peek() {
            if Self.isBreak(byte) { break }
            if byte == UInt8(ascii: ":") && (Self.isSeparator(peek(1)) || (flow && Self.isFlowIndicator(peek(1)))) { break }
            if atComment && index > start { break }
            if flow && Self.isFlowIndicator(byte) { break }
            advance()
            if !Self.isBlank(byte) { end = index }
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func parseSingleQuoted() throws(YAMLError) -> String {
        advance()
        var out: [UInt8] = []
        var kept = 0  // length of `out` that line folding must not trim
        while true {
            guard let byte = peek() else { throw error("unterminated single-quoted string") }
            if byte == UInt8(ascii: "'") {
                if peek(1) == UInt8(ascii: "'") {
                    out.append(byte)
                    advance()
                    advance()
                    kept = out.count
                    continue
                }
                advance()
                return String(decoding: out, as: UTF8.self)
            }
            if Self.isBreak(byte) {
                try foldLineBreak(into: &out, kept: &kept)
                continue
            }
            out.append(byte)
            advance()
            if !Self.isBlank(byte) { kept = out.count }
        }
    }

    private mutating func parseDoubleQuoted() throws(YAMLError) -> String {
        advance()
        var out: [UInt8] = []
        var kept = 0
        while true {
            guard let byte = peek() else { throw error("unterminated double-quoted string") }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                advance()
                guard let escape = peek() else { throw error("unterminated double-quoted string") }
                if Self.isBreak(escape) {
                    // An escaped line break joins the lines without a space.
                    if escape == Self.carriageReturn { advance() }
                    if peek() == Self.newline { advance() }
                    skipBlanks()
                    kept = out.count
                    continue
                }
                advance()
                try appendEscape(escape, to: &out)
                kept = out.count
            case Self.newline, Self.carriageReturn:
                try foldLineBreak(into: &out, kept: &kept)
            default:
                out.append(byte)
                advance()
                if !Self.isBlank(byte) { kept = out.count }
            }
        }
    }

    /// Line folding inside quoted scalars: trailing blanks go, one break becomes a space, each further
    /// empty line a newline, and the next line's leading blanks go.
    private mutating func foldLineBreak(into out: inout [UInt8], kept: inout Int) throws(YAMLError) {
        out.removeSubrange(kept...)
        var breaks = 0
        while true {
            if peek() == Self.carriageReturn { advance() }
            guard peek() == Self.newline else { break }
            advance()
            breaks += 1
            skipBlanks()
            if peek() == nil { throw error("unterminated quoted string") }
            if atDocumentMarker { throw error("document marker inside a quoted string") }
            if !Self.isBreak(peek()) { break }
        }
        if breaks <= 1 {
            out.append(Self.space)
        } else {
            out.append(contentsOf: repeatElement(Self.newline, count: breaks - 1))
        }
        kept = out.count
    }

    private mutating func appendEscape(_ escape: UInt8, to out: inout [UInt8]) throws(YAMLError) {
        let simple: UInt8? =
            switch escape {
            case UInt8(ascii: "0"): 0
            case UInt8(ascii: "a"): 7
            case UInt8(ascii: "b"): 8
            case UInt8(ascii: "t"), Self.tab: 9
            case UInt8(ascii: "n"): 10
            case UInt8(ascii: "v"): 11
            case UInt8(ascii: "f"): 12
            case UInt8(ascii: "r"): 13
            case UInt8(ascii: "e"): 27
            case Self.space, UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): escape
            default: nil
            }
        if let simple {
            out.append(simple)
            return
        }
        let scalarValue: UInt32
        switch escape {
        case UInt8(ascii: "N"): scalarValue = 0x85
        case UInt8(ascii: "_"): scalarValue = 0xA0
        case UInt8(ascii: "L"): scalarValue = 0x2028
        case UInt8(ascii: "P"): scalarValue = 0x2029
        case UInt8(ascii: "x"): scalarValue = try readHex(count: 2)
        case UInt8(ascii: "u"): scalarValue = try readHex(count: 4)
        case UInt8(ascii: "U"): scalarValue = try readHex(count: 8)
        default: throw error("unknown escape sequence \\\(Character(Unicode.Scalar(escape)))")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw error("invalid Unicode escape") }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func readHex(count: Int) throws(YAMLError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let byte = peek() else { throw error("truncated escape sequence") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hexadecimal digit in escape sequence")
            }
            value = value * 16 + digit
            advance()
        }
        return value
    }

    // MARK: - Flow context

    /// Blanks, line breaks and comments between flow tokens.
    private mutating func skipFlowSpace() {
        while let byte = peek() {
            if Self.isBlank(byte) || Self.isBreak(byte) {
                advance()
            } else if atComment {
                while let next = peek(), next != Self.newline { advance() }
            } else {
                return
            }
        }
    }

    private mutating func parseFlowNode() throws(YAMLError) -> YAMLNode {
        switch peek() {
        case UInt8(ascii: "["): return try parseFlowSequence()
        case UInt8(ascii: "{"): return try parseFlowMapping()
        case nil: throw error("unexpected end of input in a flow collection")
        default:
            let node = try parseScalar(flow: true)
            if case .scalar(let text, quoted: false) = node, text.isEmpty { throw error("expected a value") }
            return node
        }
    }

    private mutating func parseFlowSequence() throws(YAMLError) -> YAMLNode {
        advance()
        var items: [YAMLNode] = []
        while true {
            skipFlowSpace()
            if peek() == UInt8(ascii: "]") {
                advance()
                return .sequence(items)
            }
            items.append(try parseFlowNode())
            skipFlowSpace()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"): continue
            case UInt8(ascii: ":"): throw error("single-pair mappings inside flow sequences are not supported")
            case nil: throw error("unterminated flow sequence (missing ']')")
            default: throw error("expected ',' or ']' in a flow sequence")
            }
        }
    }

    private mutating func parseFlowMapping() throws(YAMLError) -> YAMLNode {
        advance()
        var pairs: [(key: String, value: YAMLNode)] = []
        while true {
            skipFlowSpace()
            if peek() == UInt8(ascii: "}") {
                advance()
                return .mapping(pairs)
            }
            guard peek() != nil else { throw error("unterminated flow mapping (missing '}')") }
            if peek() == UInt8(ascii: "[") || peek() == UInt8(ascii: "{") { throw error("mapping keys must be scalars") }
            guard case .scalar(let key, _) = try parseScalar(flow: true) else { throw error("mapping keys must be scalars") }
            skipFlowSpace()
            var value = YAMLNode.scalar("", quoted: false)
            if peek() == UInt8(ascii: ":") {
                advance()
                skipFlowSpace()
                if peek() != UInt8(ascii: ",") && peek() != UInt8(ascii: "}") {
                    value = try parseFlowNode()
                    skipFlowSpace()
                }
            }
            if pairs.contains(where: { $0.key == key }) { throw error("duplicate mapping key \"\(Self.shown(key))\"") }
            pairs.append((key, value))
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"): continue
            case nil: throw error("unterminated flow mapping (missing '}')")
            default: throw error("expected ',' or '}' in a flow mapping")
            }
        }
    }
}
