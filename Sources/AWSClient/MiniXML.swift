#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A tiny reader for the small XML documents STS and the XML error shape use: finds the text of an element by
/// name. No DTDs, no namespaces beyond ignoring prefixes; entities and CDATA are decoded.
struct MiniXML {
    let text: String

    init(_ text: String) { self.text = text }

    /// The text of the first element called `name` (optionally the first inside the first `within` element).
    func first(_ name: String, within parent: String? = nil) -> String? {
        var scope = Substring(text)
        if let parent {
            guard let inner = Self.element(parent, in: scope) else { return nil }
            scope = inner
        }
        return Self.element(name, in: scope).map { Self.decode($0) }
    }

    /// The raw inner text of the first `<name>` / `<prefix:name ...>` element in `scope`.
    static func element(_ name: String, in scope: Substring) -> Substring? {
        var searchStart = scope.startIndex
        while let lt = scope[searchStart...].firstIndex(of: "<") {
            let afterLT = scope.index(after: lt)
            guard let gt = scope[afterLT...].firstIndex(of: ">") else { return nil }
            var tag = scope[afterLT..<gt]
            searchStart = scope.index(after: gt)
            if tag.hasPrefix("/") || tag.hasPrefix("?") || tag.hasPrefix("!") { continue }
            let selfClosing = tag.hasSuffix("/")
            if selfClosing { tag = tag.dropLast() }
            let tagName = tag.prefix { !($0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r") }
            let local = tagName.split(separator: ":").last.map(String.init) ?? String(tagName)
            guard local == name else { continue }
            if selfClosing { return scope[gt..<gt] }
            let qualified = String(tagName)
            // Find the matching close tag (same qualified name), accounting for nesting of the same name.
            var depth = 1
            var cursor = searchStart
            while let nextLT = scope[cursor...].firstIndex(of: "<") {
                let a = scope.index(after: nextLT)
                guard let nextGT = scope[a...].firstIndex(of: ">") else { return nil }
                let t = scope[a..<nextGT]
                if t == "/" + qualified {
                    depth -= 1
                    if depth == 0 { return scope[searchStart..<nextLT] }
                } else if t.hasPrefix(qualified) && !t.hasSuffix("/") {
                    let rest = t.dropFirst(qualified.count)
                    if rest.isEmpty || rest.first == " " { depth += 1 }
                }
                cursor = scope.index(after: nextGT)
            }
            return nil
        }
        return nil
    }

    static func decode(_ raw: Substring) -> String {
        var out = ""
        var rest = raw
        while !rest.isEmpty {
            if rest.hasPrefix("<![CDATA[") {
                let body = rest.dropFirst(9)
                if let end = body.firstRange(of: "]]>") {
                    out += body[..<end.lowerBound]
                    rest = body[end.upperBound...]
                    continue
                }
            }
            let ch = rest.first!
            if ch == "&", let semi = rest.prefix(12).firstIndex(of: ";") {
                let entity = rest[rest.index(after: rest.startIndex)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let v = UInt32(entity.dropFirst(2), radix: 16),
                        let s = Unicode.Scalar(v)
                    {
                        replacement = String(Character(s))
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let s = Unicode.Scalar(v) {
                        replacement = String(Character(s))
                    }
                }
                if let replacement {
                    out += replacement
                    rest = rest[rest.index(after: semi)...]
                    continue
                }
            }
            out.append(ch)
            rest = rest.dropFirst()
        }
        return out
    }
}
