import KubeClient

/// Scale-out: this replica serves the clusters rendezvous hashing gives it among the live members of its
/// group (docs/fleet-scale-out.md). No members (before the first list, after losing its own Lease): nothing.
public struct MembershipAssignment: ClusterAssignment {
    public let membership: FleetMembership

    public init(membership: FleetMembership) { self.membership = membership }

    public func assigned(_ clusters: [String]) async -> Set<String> {
        let members = await membership.members()
        guard members.contains(membership.identity) else { return [] }
        return Rendezvous.assigned(clusters, to: membership.identity, among: members)
    }

    public func changes() -> AsyncStream<Void> {
        let membership = self.membership
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let task = Task {
            for await _ in await membership.changes() { continuation.yield() }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
