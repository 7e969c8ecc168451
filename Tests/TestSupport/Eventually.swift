/// Bounded waiting for a condition, used instead of sleeps: a test states what it waits for and how long
/// it is willing to wait, and fails with a message when the bound passes.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "timed out after \(seconds)s waiting for \(what)" }
}

/// Polls `condition` until it returns true, or throws `TimedOut` after `timeout` seconds.
public func eventually(
    _ what: String,
    timeout: Duration = .seconds(10),
    poll: Duration = .milliseconds(10),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try await condition() { return }
        if clock.now >= deadline {
            let (s, a) = timeout.components
            throw TimedOut(what: what, seconds: Double(s) + Double(a) / 1e18)
        }
        try await Task.sleep(for: poll)
    }
}

/// Polls `produce` until it returns a value, or throws `TimedOut`.
public func eventuallyValue<T: Sendable>(
    _ what: String,
    timeout: Duration = .seconds(10),
    poll: Duration = .milliseconds(10),
    _ produce: @Sendable () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if let value = try await produce() { return value }
        if clock.now >= deadline {
            let (s, a) = timeout.components
            throw TimedOut(what: what, seconds: Double(s) + Double(a) / 1e18)
        }
        try await Task.sleep(for: poll)
    }
}
