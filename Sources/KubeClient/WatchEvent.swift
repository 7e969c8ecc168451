/// One event of a watch stream.
public enum WatchEvent<R: KubeResource>: Sendable {
    case added(R)
    case modified(R)
    case deleted(R)
    /// The server's progress marker: everything up to this resourceVersion has been sent.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a Status; code 410 means the resourceVersion expired: relist.
    case error(KubeStatus)
}

/// Decodes one line of a watch stream: `{"type":"ADDED","object":{...}}`.
struct WatchLine<R: KubeResource>: Decodable {
    /// nil for event types this client does not know (skipped).
    let event: WatchEvent<R>?

    private enum CodingKeys: String, CodingKey { case type, object }

    private struct BookmarkObject: Decodable {
        struct Metadata: Decodable { var resourceVersion: String? }
        var metadata: Metadata?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "ADDED": event = .added(try container.decode(R.self, forKey: .object))
        case "MODIFIED": event = .modified(try container.decode(R.self, forKey: .object))
        case "DELETED": event = .deleted(try container.decode(R.self, forKey: .object))
        case "BOOKMARK":
            let object = try container.decode(BookmarkObject.self, forKey: .object)
            event = .bookmark(resourceVersion: object.metadata?.resourceVersion ?? "")
        case "ERROR": event = .error(try container.decode(KubeStatus.self, forKey: .object))
        default: event = nil
        }
    }
}
