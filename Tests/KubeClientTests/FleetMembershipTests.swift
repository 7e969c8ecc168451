import Foundation
import KubeTestServer
import Logging
import Synchronization
import SyncEngine
import Testing
import TestSupport

@testable import KubeClient

/// Fleet membership on both servers: replicas join a group, each key has exactly one owner by rendezvous
/// hashing over the live members, and a replica that leaves, dies or loses access hands its keys on with
/// the timing FleetMembership promises.
@Suite("Fleet membership")
struct FleetMembershipTests {
    static let keys = (0..<300).map { "cluster-\($0)" }

    /// One replica: its membership, the task running it, and every member list it reported.
    final class Member: Sendable {
        let membership: FleetMembership
        let name: String
        private let task = Mutex<Task<Void, any Error>?>(nil)
        private let reader = Mutex<Task<Void, Never>?>(nil)

        init(_ membership: FleetMembership, name: String) {
            self.membership = membership
            self.name = name
        }

        var identity: String { membership.identity }

        /// Starts `run`, and copies each reported member list into `log` as (member, list).
        func start(log: EventLog) async {
            let stream = await membership.changes()
            reader.withLock { $0 = Task { for await members in stream { log.append(self.identity, members) } } }
            task.withLock { $0 = Task { try await self.membership.run() } }
        }

        /// Cancels `run` and waits for it to return (after it deleted its Lease, unless told not to).
        func stop() async throws {
            let running = task.withLock { $0 }
            running?.cancel()
            try await running?.value
        }

        func stopReading() { reader.withLock { $0?.cancel() } }

        func members() async -> [String] { await membership.members() }
        func keys() async -> Set<String> { Rendezvous.assigned(FleetMembershipTests.keys, to: identity, among: await members()) }
    }

    /// Every reported member list, in the order reported, across members.
    final class EventLog: Sendable {
        private let entries = Mutex<[(member: String, members: [String])]>([])
        func append(_ member: String, _ members: [String]) { entries.withLock { $0.append((member, members)) } }
        var all: [(member: String, members: [String])] { entries.withLock { $0 } }
        func mark() -> Int { entries.withLock { $0.count } }
    }

    /// The group's world on one server: a namespace, a client per member (each its own identity, allowed only
    /// the Leases of that namespace), and a way to cut one member off.
    struct World: Sendable {
        let kind: APIServerKind
        let namespace: String
        let group: String
        let clients: [String: KubernetesClient]
        let logger: Logger
        let logs: CapturedLogs
        let standIn: KubeTestServer?
        let real: RealAPIServer?
        /// Per member: the RBAC identity's name (real server).
        let identities: [String: String]

        func member(
            _ name: String, leaseDuration: Duration = .seconds(2), renewDeadline: Duration = .seconds(1),
            retryPeriod: Duration = .milliseconds(200), releaseOnCancel: Bool = true, staleLeaseRetention: Duration? = nil
        ) -> Member {
            let membership = FleetMembership(
                client: clients[name]!, namespace: namespace, group: group, identity: identity(name),
                leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod, logger: logger,
                releaseOnCancel: releaseOnCancel, staleLeaseRetention: staleLeaseRetention)
            return Member(membership, name: name)
        }

        func identity(_ name: String) -> String { "\(group)-\(name)" }

        func lease(_ member: Member) async throws -> JSONValue? {
            if let standIn { return await standIn.object("leases", namespace: namespace, name: member.membership.leaseName) }
            return try await real!.object("leases", namespace: namespace, name: member.membership.leaseName)
        }

        /// The member can no longer renew: on the stand-in its Lease writes fail (503); on the real server its
        /// RoleBinding is deleted, so every request it makes is refused (403).
        func cutOff(_ member: Member) async throws {
            if let standIn {
                await standIn.inject(FaultRule(method: "PUT", pathContains: "/leases/\(member.membership.leaseName)", fault: .status(503)))
            } else {
                try await real!.delete("rolebindings", namespace: namespace, name: identities[member.name]!)
            }
        }
    }

    /// The chart's fleet membership Role, in the test's namespace.
    static func rules(_ namespace: String) -> [PolicyRule] {
        [PolicyRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "delete"], namespaces: [namespace])]
    }

    func withWorld(_ kind: APIServerKind, members: [String], _ body: (World) async throws -> Void) async throws {
        let id = uniqueSuffix()
        let namespace = "fleet-\(id)"
        let group = "grp-\(id)"
        let logs = CapturedLogs()
        let logger = logs.logger(label: "fleet")
        var clients: [String: KubernetesClient] = [:]
        // The body's world, then every client shut down, whether the body threw or not.
        func run(_ world: World) async throws {
            var failure: (any Error)?
            do { try await body(world) } catch { failure = error }
            for client in world.clients.values { try? await client.shutdown() }
            if let failure { throw failure }
        }
        switch kind {
        case .standIn:
            let users = members.map { TestUser(name: "member-\($0)", token: "token-\($0)-\(id)", rules: Self.rules(namespace)) }
            try await LiveCluster.run(users: users, namespaces: ["default", namespace]) { cluster in
                for name in members {
                    clients[name] = try KubernetesClient(configuration: cluster.configuration(auth: .bearerToken("token-\(name)-\(id)")), logger: logger)
                }
                let world = World(kind: kind, namespace: namespace, group: group, clients: clients, logger: logger, logs: logs, standIn: cluster.server, real: nil, identities: [:])
                try await run(world)
            }
        case .real:
            let server = try #require(RealAPIServer.shared)
            try await server.createNamespace(namespace)
            var identities: [String: String] = [:]
            for name in members {
                let identity = try await server.makeIdentity(name: "fleet-\(id)-\(name)", rules: Self.rules(namespace), namespace: namespace)
                identities[name] = identity.serviceAccount
                let configuration = KubeConfiguration(server: server.url, caPEM: Array(server.caPEM.utf8), auth: .bearerToken(identity.token))
                clients[name] = try KubernetesClient(configuration: configuration, logger: logger)
            }
            let world = World(kind: kind, namespace: namespace, group: group, clients: clients, logger: logger, logs: logs, standIn: nil, real: server, identities: identities)
            try await run(world)
        }
    }

    /// Waits until every member reports exactly `expected` (identities).
    func converge(_ members: [Member], on expected: [String], timeout: Duration = .seconds(15)) async throws {
        do {
            try await eventually("\(members.map(\.name)) to see \(expected)", timeout: timeout) {
                for member in members where await member.members() != expected.sorted() { return false }
                return true
            }
        } catch {
            var views: [String] = []
            for member in members { views.append("\(member.name): \(await member.members())") }
            Issue.record("members see \(views)")
            throw error
        }
    }

    /// Each key owned by exactly one member, as the members themselves compute it.
    func expectExactlyOneOwner(_ members: [Member]) async {
        var owners: [String: Int] = [:]
        for member in members {
            for key in await member.keys() { owners[key, default: 0] += 1 }
        }
        #expect(owners.count == Self.keys.count, "keys nobody serves: \(Set(Self.keys).subtracting(owners.keys).sorted().prefix(5))")
        #expect(owners.values.allSatisfy { $0 == 1 }, "keys served twice: \(owners.filter { $0.value > 1 }.keys.sorted().prefix(5))")
    }

    @Test(arguments: APIServerKind.enabled)
    func threeMembersJoinAndEachKeyHasOneOwner(_ kind: APIServerKind) async throws {
        try await withWorld(kind, members: ["a", "b", "c"]) { world in
            let log = EventLog()
            let members = ["a", "b", "c"].map { world.member($0) }
            for member in members.prefix(2) { await member.start(log: log) }
            try await converge(Array(members.prefix(2)), on: members.prefix(2).map(\.identity))
            // A joining member serves only once it has seen the group: its first non-empty list already
            // holds the members that were there.
            await members[2].start(log: log)
            try await converge(members, on: members.map(\.identity))
            // (The log is fed by each member's change stream, a moment after members() answers.)
            let c = members[2].identity
            let firstOfC = try await eventuallyValue("c's first non-empty report") { log.all.first { $0.member == c && !$0.members.isEmpty }?.members }
            #expect(firstOfC == members.map(\.identity), "c's first list: \(String(describing: firstOfC))")
            await expectExactlyOneOwner(members)
            for member in members {
                #expect(await !member.keys().isEmpty, "\(member.name) serves nothing")
                let lease = try await world.lease(member)
                #expect(lease?["spec"]?["holderIdentity"]?.stringValue == member.identity)
                #expect(lease?["metadata"]?["labels"]?[FleetMembership.groupLabel]?.stringValue == world.group)
            }
            // Nobody reported a list that leaves itself out while serving: a member's own list either holds
            // it or is empty.
            #expect(log.all.allSatisfy { $0.members.isEmpty || $0.members.contains($0.member) })
            for member in members { try await member.stop() }
            for member in members { #expect(try await world.lease(member) == nil, "\(member.name)'s lease left behind") }
            for member in members { member.stopReading() }
        }
    }

    /// A graceful stop deletes the Lease, so the others take the keys over at once: the lease is 60 s, far
    /// longer than the wait, so only the deletion explains the hand-over.
    @Test(arguments: APIServerKind.enabled)
    func aStoppedMembersKeysMoveAtOnceAndOnlyThey(_ kind: APIServerKind) async throws {
        try await withWorld(kind, members: ["a", "b", "c"]) { world in
            let log = EventLog()
            let members = ["a", "b", "c"].map { world.member($0, leaseDuration: .seconds(60), renewDeadline: .seconds(40)) }
            for member in members { await member.start(log: log) }
            try await converge(members, on: members.map(\.identity))
            let (a, b, c) = (members[0], members[1], members[2])
            let before = (a: await a.keys(), b: await b.keys(), c: await c.keys())
            try await c.stop()
            #expect(await c.members() == [])
            #expect(try await world.lease(c) == nil)
            try await converge([a, b], on: [a.identity, b.identity], timeout: .seconds(10))
            await expectExactlyOneOwner([a, b])
            let after = (a: await a.keys(), b: await b.keys())
            // Rendezvous: a and b keep what they had and split c's share.
            #expect(after.a.isSuperset(of: before.a) && after.b.isSuperset(of: before.b))
            #expect(after.a.union(after.b) == before.a.union(before.b).union(before.c))
            try await a.stop()
            try await b.stop()
            for member in members { member.stopReading() }
        }
    }

    /// A member that stops renewing without deleting its Lease (a crash): the others drop it once the lease
    /// duration (2 s) has passed without a renewal, and take its keys; 1 s later still, they delete its Lease.
    @Test(arguments: APIServerKind.enabled)
    func aKilledMembersKeysMoveWhenItsLeaseExpires(_ kind: APIServerKind) async throws {
        try await withWorld(kind, members: ["a", "b", "c"]) { world in
            let log = EventLog()
            let a = world.member("a", staleLeaseRetention: .seconds(1)), b = world.member("b", staleLeaseRetention: .seconds(1))
            let c = world.member("c", releaseOnCancel: false)
            for member in [a, b, c] { await member.start(log: log) }
            try await converge([a, b, c], on: [a.identity, b.identity, c.identity])
            let cKeys = await c.keys()
            try await c.stop()
            // The Lease stays, as after a crash: only its expiry lets the others take over.
            #expect(try await world.lease(c)?["spec"]?["holderIdentity"]?.stringValue == c.identity)
            try await converge([a, b], on: [a.identity, b.identity])
            await expectExactlyOneOwner([a, b])
            #expect(cKeys.isSubset(of: (await a.keys()).union(await b.keys())))
            // Left expired for longer than the retention, the crashed replica's Lease is deleted.
            try await eventually("c's stale lease to be deleted") { try await world.lease(c) == nil }
            try await a.stop()
            try await b.stop()
            for member in [a, b, c] { member.stopReading() }
        }
    }

    /// A member that can no longer renew (its Lease writes fail on the stand-in; its RBAC is revoked on the
    /// real server) reports [] after the renew deadline (1 s), before the others drop it after the lease
    /// duration (2 s): there is no moment when both it and another serve its keys.
    @Test(arguments: APIServerKind.enabled)
    func aMemberCutOffStopsServingBeforeOthersTakeOver(_ kind: APIServerKind) async throws {
        try await withWorld(kind, members: ["a", "b", "c"]) { world in
            let log = EventLog()
            let a = world.member("a"), b = world.member("b"), c = world.member("c")
            for member in [a, b, c] { await member.start(log: log) }
            try await converge([a, b, c], on: [a.identity, b.identity, c.identity])
            let mark = log.mark()
            try await world.cutOff(c)
            try await eventually("c to report []") { await c.members() == [] }
            try await converge([a, b], on: [a.identity, b.identity])
            // (The log is fed by each member's change stream, a moment after members() answers.)
            let cut = c.identity
            let tookOver = try await eventuallyValue("the others' reports without c") {
                log.all[mark...].firstIndex { $0.member != cut && !$0.members.isEmpty && !$0.members.contains(cut) }
            }
            let after = Array(log.all[mark...])
            let gaveUp = try #require(log.all[mark...].firstIndex { $0.member == cut && $0.members.isEmpty }, "\(after)")
            #expect(gaveUp < tookOver, "c still served when the others took over: \(after)")
            // A warning per streak of failed renewals, naming the Lease (and on the real server the missing
            // RBAC), not one per retry. A loaded machine may split the streak (a renewal that lands between
            // two refusals while the RBAC change propagates, or a timeout instead of a refusal), so a few
            // streaks are allowed; the retries every 0.2 s would make many more.
            let warnings = world.logs.all.filter { $0.hasPrefix("warning") && $0.contains("could not renew the fleet membership lease \(world.namespace)/\(c.membership.leaseName)") }
            #expect((1...3).contains(warnings.count), "\(warnings)")
            if kind == .real { #expect(warnings.first?.contains("forbidden") == true, "\(warnings)") }
            if let standIn = world.standIn {
                // Access back: c joins again and the three share the keys once more.
                await standIn.clearFaults()
                try await converge([a, b, c], on: [a.identity, b.identity, c.identity])
                await expectExactlyOneOwner([a, b, c])
            }
            for member in [a, b, c] { try await member.stop() }
            for member in [a, b, c] { member.stopReading() }
        }
    }

    @Test func durationsOutOfOrderAreRefusedWithTheFix() async throws {
        #expect(throws: KubeUsageError.self) {
            try FleetMembership.validate(leaseDuration: .seconds(10), renewDeadline: .seconds(10), retryPeriod: .seconds(2))
        }
        #expect(throws: KubeUsageError.self) {
            try FleetMembership.validate(leaseDuration: .seconds(15), renewDeadline: .seconds(2), retryPeriod: .seconds(2))
        }
        try FleetMembership.validate(leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))
        #expect(FleetMembership.leaseName(group: "Fleet", identity: "helper_7f9c/x") == "fleet-helper-7f9c-x")
        #expect(throws: KubeUsageError.self) { try FleetMembership.validate(group: "g", identity: "") }
        #expect(throws: KubeUsageError.self) { try FleetMembership.validate(group: "-bad-", identity: "pod-0") }
        #expect(throws: KubeUsageError.self) { try FleetMembership.validate(group: String(repeating: "g", count: 64), identity: "pod-0") }
        try FleetMembership.validate(group: "aws-ecr-cred-helper", identity: "pod-0")
    }
}
