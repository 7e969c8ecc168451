import CommonBasics

/// The Kubernetes connection settings could not be loaded: one line naming the file or setting at fault.
public struct KubeConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    /// Line breaks are escaped: messages quote names from the user's kubeconfig, which may hold them.
    public init(_ message: String) { self.message = Printable.escape(message, limit: nil) }
    public var description: String { message }
}

/// The caller asked for something the client cannot express (e.g. creating a namespaced object
/// without a namespace).
public struct KubeUsageError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
