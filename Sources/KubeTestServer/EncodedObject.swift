/// An object encoded once per version: the full encoding (for GET and watch events) and, sharing the same
/// bytes, the encoding without `apiVersion` and `kind` that list items use (as the real server omits them).
struct EncodedObject: Sendable {
    let bytes: [UInt8]
    /// Offset of the first member after `apiVersion` and `kind`.
    let itemStart: Int

    init(_ object: JSONValue) {
        guard case .object(let members) = object else {
            bytes = object.jsonBytes
            itemStart = 0
            return
        }
        var writer = JSONWriter(capacity: 512)
        writer.bytes.append(UInt8(ascii: "{"))
        var wroteHeader = false
        for key in ["apiVersion", "kind"] {
            guard let value = members[key] else { continue }
            writer.writeString(key)
            writer.bytes.append(UInt8(ascii: ":"))
            writer.write(value)
            writer.bytes.append(UInt8(ascii: ","))
            wroteHeader = true
        }
        let start = writer.bytes.count
        let rest = members.keys.filter { $0 != "apiVersion" && $0 != "kind" }.sorted()
        for (index, key) in rest.enumerated() {
            if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.writeString(key)
            writer.bytes.append(UInt8(ascii: ":"))
            writer.write(members[key]!)
        }
        if rest.isEmpty, wroteHeader {
            writer.bytes.removeLast()
        }
        writer.bytes.append(UInt8(ascii: "}"))
        bytes = writer.bytes
        itemStart = rest.isEmpty ? writer.bytes.count - 1 : start
    }

    /// Appends the list-item form (`{` + members other than apiVersion/kind).
    func appendItem(to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "{"))
        buffer.append(contentsOf: bytes[itemStart...])
    }
}
