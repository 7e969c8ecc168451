/// `limit` and `continue` on a list, as kube-apiserver pages it: at most `limit` items, and a continue
/// token while more follow. The real token is opaque; this one names the list's revision and the last
/// item's key, and the next page starts after that key (items are listed sorted by namespace, then name).
/// Unlike etcd, later pages see the current objects, not a snapshot at the first page's revision; the
/// list's resourceVersion stays the first page's, as the real server answers it.
struct ListPage {
    var items: [StoredObject]
    var revision: UInt64
    var continueToken: String?

    static func page(
        _ items: [StoredObject], revision: UInt64, namespaced: Bool, limit: String?, continueToken: String?
    ) throws(APIStatus) -> ListPage {
        var items = items
        var revision = revision
        if let continueToken, !continueToken.isEmpty {
            let parts = continueToken.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let listed = UInt64(parts[0]) else {
                throw APIStatus.badRequest("continue key is not valid: \(continueToken)")
            }
            revision = listed
            let after = (String(parts[1]), String(parts[2]))
            items.removeAll { key(of: $0, namespaced: namespaced) <= after }
        }
        guard let text = limit, let size = Int(text), size > 0, items.count > size else {
            return ListPage(items: items, revision: revision, continueToken: nil)
        }
        let last = key(of: items[size - 1], namespaced: namespaced)
        return ListPage(items: Array(items.prefix(size)), revision: revision, continueToken: "\(revision)|\(last.0)|\(last.1)")
    }

    private static func key(of object: StoredObject, namespaced: Bool) -> (String, String) {
        (namespaced ? object.object["metadata"]?["namespace"]?.stringValue ?? "" : "", object.name)
    }
}
