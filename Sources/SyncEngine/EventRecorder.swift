#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import Logging

/// Records Kubernetes Events on the helper's own Pod, so `kubectl describe pod` tells of failed and
/// recovered refreshes. Best effort: without RBAC for events it logs once and carries on.
public actor EventRecorder {
    let client: KubernetesClient
    let podName: String
    let podNamespace: String
    let involvedObject: ObjectReference
    let logger: Logger
    private var disabled = false

    public init(client: KubernetesClient, podName: String, podNamespace: String, logger: Logger) {
        self.client = client
        self.podName = podName
        self.podNamespace = podNamespace
        self.involvedObject = ObjectReference(apiVersion: "v1", kind: "Pod", name: podName, namespace: podNamespace)
        self.logger = logger
    }

    /// Events in a fleet's remote cluster, where the helper has no Pod: on the Namespace `namespace`
    /// itself (`kubectl get events -n <namespace>` shows them), reported by `instance` (the helper's Pod,
    /// in the fleet's own cluster).
    public init(remote client: KubernetesClient, namespace: String, instance: String, logger: Logger) {
        self.client = client
        self.podName = instance
        self.podNamespace = namespace
        self.involvedObject = ObjectReference(apiVersion: "v1", kind: "Namespace", name: namespace)
        self.logger = logger
    }

    public func record(reason: String, message: String, warning: Bool) async {
        guard !disabled else { return }
        let now = KubeTime.time(Date())
        let suffix = String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let event = Event(
            metadata: ObjectMeta(name: "\(involvedObject.name ?? podName).\(suffix)", namespace: podNamespace),
            involvedObject: involvedObject,
            reason: reason,
            message: String(message.prefix(1024)),
            type: warning ? "Warning" : "Normal",
            count: 1,
            firstTimestamp: now,
            lastTimestamp: now,
            source: Event.Source(component: "aws-ecr-cred-helper"),
            reportingComponent: "aws-ecr-cred-helper",
            reportingInstance: podName
        )
        do {
            _ = try await client.create(event)
        } catch let error as KubeAPIError where error.isForbidden {
            disabled = true
            logger.notice("not recording Kubernetes Events: \(error); grant create on events in namespace \(podNamespace) to see refresh failures in kubectl describe pod")
        } catch {
            logger.debug("could not record event: \(error)")
        }
    }
}
