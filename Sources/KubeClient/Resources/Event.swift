/// core/v1 Event (the long-standing events API that `kubectl describe` shows).
public struct Event: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Event"
    public static let plural = "events"
    public static let isNamespaced = true

    public struct Source: Codable, Sendable, Hashable {
        public var component: String?
        public var host: String?
        public init(component: String? = nil, host: String? = nil) {
            self.component = component
            self.host = host
        }
    }

    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var count: Int32?
    /// RFC 3339 (seconds).
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    /// RFC 3339 with microseconds.
    public var eventTime: String?
    public var source: Source?
    public var action: String?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public init(
        metadata: ObjectMeta,
        involvedObject: ObjectReference,
        reason: String? = nil,
        message: String? = nil,
        type: String? = nil,
        count: Int32? = nil,
        firstTimestamp: String? = nil,
        lastTimestamp: String? = nil,
        source: Source? = nil,
        reportingComponent: String? = nil,
        reportingInstance: String? = nil
    ) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.count = count
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.source = source
        self.reportingComponent = reportingComponent
        self.reportingInstance = reportingInstance
    }
}
