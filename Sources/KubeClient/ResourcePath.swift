/// REST paths and query strings.
enum ResourcePath {
    static func root<R: KubeResource>(_ type: R.Type) -> String {
        R.group.isEmpty ? "/api/\(R.apiVersion)" : "/apis/\(R.apiVersion)"
    }

    /// `/api/v1/namespaces/ns/secrets`, or `/api/v1/secrets` across all namespaces when `namespace` is nil.
    static func collection<R: KubeResource>(_ type: R.Type, namespace: String?) -> String {
        var path = root(R.self)
        if R.isNamespaced, let namespace, !namespace.isEmpty {
            path += "/namespaces/" + escape(namespace)
        }
        return path + "/" + R.plural
    }

    static func object<R: KubeResource>(_ type: R.Type, namespace: String?, name: String) -> String {
        collection(R.self, namespace: namespace) + "/" + escape(name)
    }

    static func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func escape(_ text: String) -> String {
        var needs = false
        for byte in text.utf8 where !isUnreserved(byte) {
            needs = true
            break
        }
        guard needs else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
