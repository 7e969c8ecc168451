import Logging

/// What a `Watcher` reports: the full state after each (re)list, then changes.
public enum WatcherEvent<R: KubeResource>: Sendable {
    /// The complete current list; replaces whatever the consumer knew (sent first, and after each relist).
    /// Only without `pageSize`; with it, the list comes as `initStarted`, `initPage`..., `initDone`.
    case restarted([R])
    /// A (re)list begins: what follows until `initDone` replaces whatever the consumer knew.
    case initStarted
    /// One page of the list (kube-runtime's `InitApply`, a page at a time).
    case initPage([R])
    /// The list is complete.
    case initDone
    /// An object was added or modified.
    case applied(R)
    case deleted(R)
}

/// Why a `Watcher` started another request.
public enum WatchRestartReason: String, Sendable {
    /// The resourceVersion expired (HTTP 410 or a watch ERROR with code 410): the watcher listed again.
    case expired
    /// The server ended the watch (its timeout, or a restart); the watcher resumed from the last resourceVersion.
    case closed
    /// A list or watch failed; the watcher retried after a backoff.
    case error
}

/// List-then-watch with resume, like client-go's reflector and kube-runtime's watcher: list, watch from the
/// list's resourceVersion (following bookmarks), resume from the last seen resourceVersion when the watch
/// ends, relist after 410 Gone, and back off exponentially (with jitter) after errors.
public struct Watcher<R: KubeResource>: Sendable {
    public let client: KubernetesClient
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    public let logger: Logger
    public var backoff: ExponentialBackoff
    /// The `timeoutSeconds` of each watch request is drawn from this range (client-go: 5 to 10 minutes).
    public var watchTimeoutSeconds: ClosedRange<Int>
    /// Called for every restart after the initial list, e.g. to count them in a metric.
    public var onRestart: @Sendable (WatchRestartReason) -> Void
    /// Called for every failed list or watch request (before the backoff), e.g. to tell why a store is
    /// not ready.
    public var onError: @Sendable (any Error) -> Void = { _ in }
    /// List in pages of this many objects (`limit` and `continue`, as client-go's reflector does with 500),
    /// emitting each page as it arrives, so that a big cluster's list is never held whole. nil: one list,
    /// emitted as `.restarted`.
    public var pageSize: Int?

    public init(
        client: KubernetesClient,
        type: R.Type = R.self,
        namespace: String?,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        logger: Logger,
        backoff: ExponentialBackoff = ExponentialBackoff(),
        watchTimeoutSeconds: ClosedRange<Int> = 300...600,
        onRestart: @escaping @Sendable (WatchRestartReason) -> Void = { _ in }
    ) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.logger = logger
        self.backoff = backoff
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.onRestart = onRestart
    }

    /// Starts listing and watching. The stream runs until the consumer stops iterating (its task is
    /// cancelled or the iterator is dropped); it never ends on its own.
    public func events() -> AsyncStream<WatcherEvent<R>> {
        let (stream, continuation) = AsyncStream<WatcherEvent<R>>.makeStream()
        let task = Task { [self] in
            await run(continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private var what: Logger.MetadataValue {
        "\(R.plural)\(namespace.map { " in \($0)" } ?? "")\(fieldSelector.map { " fieldSelector=\($0)" } ?? "")\(labelSelector.map { " labelSelector=\($0)" } ?? "")"
    }

    private func run(_ continuation: AsyncStream<WatcherEvent<R>>.Continuation) async {
        var resourceVersion: String?
        var mustList = true
        var failures = 0
        var expiredInARow = 0

        while !Task.isCancelled {
            if mustList {
                do {
                    if let pageSize {
                        resourceVersion = try await listInPages(pageSize, continuation)
                    } else {
                        let list = try await client.list(R.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
                        resourceVersion = list.metadata.resourceVersion
                        continuation.yield(.restarted(list.items))
                        logger.debug("watcher listed", metadata: ["resource": what, "items": "\(list.items.count)", "resourceVersion": "\(resourceVersion ?? "")"])
                    }
                    mustList = false
                    failures = 0
                } catch {
                    if Task.isCancelled { return }
                    failures += 1
                    guard await pause(after: error, failures: failures, during: "list") else { return }
                    continue
                }
            }

            let opened = ContinuousClock.now
            var sawEvent = false
            do {
                let timeout = Int.random(in: watchTimeoutSeconds)
                let stream = try await client.watch(
                    R.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                    resourceVersion: resourceVersion, timeoutSeconds: timeout, allowBookmarks: true
                )
                for try await event in stream {
                    if case .error = event {} else {
                        sawEvent = true
                        failures = 0
                        expiredInARow = 0
                    }
                    switch event {
                    case .added(let object), .modified(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        continuation.yield(.applied(object))
                    case .deleted(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        continuation.yield(.deleted(object))
                    case .bookmark(let version):
                        if !version.isEmpty { resourceVersion = version }
                    case .error(let status):
                        throw KubeAPIError(
                            statusCode: status.code ?? 500, status: status, verb: "watch", resource: R.plural, group: R.group,
                            namespace: namespace, name: nil
                        )
                    }
                }
                if Task.isCancelled { return }
                // A watch that ends at once without any event is treated as a failure, so a server that
                // keeps closing watches is not hammered.
                if !sawEvent && opened.duration(to: .now) < .seconds(1) {
                    failures += 1
                    guard await pause(after: nil, failures: failures, during: "watch") else { return }
                } else {
                    failures = 0
                    logger.trace("watch closed by the server; resuming", metadata: ["resource": what, "resourceVersion": "\(resourceVersion ?? "")"])
                }
                onRestart(.closed)
            } catch let error as KubeAPIError where error.isGone {
                if Task.isCancelled { return }
                logger.debug("watch resourceVersion expired; relisting", metadata: ["resource": what, "resourceVersion": "\(resourceVersion ?? "")"])
                mustList = true
                resourceVersion = nil
                if !sawEvent {
                    // Expired again straight after a relist: do not relist in a tight loop.
                    expiredInARow += 1
                    if expiredInARow > 1, await !pause(after: error, failures: expiredInARow - 1, during: "watch") { return }
                }
                onRestart(.expired)
            } catch {
                if Task.isCancelled { return }
                failures += 1
                guard await pause(after: error, failures: failures, during: "watch") else { return }
                onRestart(.error)
            }
        }
    }

    /// Lists page by page, yielding each page; returns the list's resourceVersion. A continue token that
    /// expired mid-list (410) starts the list over.
    private func listInPages(_ size: Int, _ continuation: AsyncStream<WatcherEvent<R>>.Continuation) async throws -> String? {
        while true {
            continuation.yield(.initStarted)
            var token: String?
            var count = 0
            do {
                repeat {
                    let page = try await client.listPage(
                        R.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: size,
                        continueToken: token)
                    count += page.items.count
                    continuation.yield(.initPage(page.items))
                    token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
                    if token == nil {
                        continuation.yield(.initDone)
                        logger.debug("watcher listed", metadata: ["resource": what, "items": "\(count)", "resourceVersion": "\(page.metadata.resourceVersion ?? "")"])
                        return page.metadata.resourceVersion
                    }
                } while !Task.isCancelled
                throw CancellationError()
            } catch let error as KubeAPIError where error.isGone && token != nil {
                logger.debug("list continue token expired; listing again", metadata: ["resource": what])
                continue
            }
        }
    }

    /// Logs and sleeps the backoff delay; false when cancelled meanwhile.
    private func pause(after error: (any Error)?, failures: Int, during phase: String) async -> Bool {
        if let error { onError(error) }
        let delay = backoff.delay(afterFailures: failures)
        logger.warning(
            "\(phase) failed; retrying",
            metadata: [
                "resource": what, "error": "\(error.map { "\($0)" } ?? "the watch closed at once")", "failures": "\(failures)",
                "retryInMs": "\(KubernetesClient.milliseconds(delay))",
            ]
        )
        do {
            try await Task.sleep(for: delay)
            return true
        } catch {
            return false
        }
    }
}
