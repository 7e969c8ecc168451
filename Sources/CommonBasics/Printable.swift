/// A user's value as an error message may show it: one line, no terminal control, not a whole file.
public enum Printable {
    /// Escapes control characters (`\n`, `\r`, `\t`, others as `\u{1b}`), DEL, line and paragraph
    /// separators, the byte-order mark and the replacement character, and cuts after `limit` scalars
    /// (marked `...`). Everything else is kept as written.
    public static func escape(_ text: some StringProtocol, limit: Int? = 64) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if let limit, count == limit { return out + "..." }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}"
                    || scalar == "\u{FEFF}" || scalar == "\u{FFFD}"
                {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
