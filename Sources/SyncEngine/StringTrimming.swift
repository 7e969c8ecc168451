extension StringProtocol {
    /// Trims spaces, tabs, CR, LF and a leading UTF-8 byte-order mark: mounted files and pasted values
    /// carry them (the original helper's own sample secret ends in a newline).
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        func isSpace(_ s: Unicode.Scalar) -> Bool {
            s == " " || s == "\t" || s == "\n" || s == "\r" || s == "\u{FEFF}" || s == "\u{0B}" || s == "\u{0C}"
        }
        while let first = scalars.first, isSpace(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, isSpace(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
