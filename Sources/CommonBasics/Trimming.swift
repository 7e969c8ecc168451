extension StringProtocol {
    /// Trims spaces, tabs, CR, LF, vertical tab, form feed and the UTF-8 byte-order mark from both ends:
    /// mounted files, pasted keys, token files and headers carry them (the original helper's own sample
    /// secret ends in a newline). Other Unicode spaces are kept: they are part of a value, not around it.
    public func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.isTrimmable { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isTrimmable { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

extension Unicode.Scalar {
    /// Space, tab, LF, VT, FF, CR, or a byte-order mark.
    public var isTrimmable: Bool {
        switch value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0xFEFF: true
        default: false
        }
    }
}
