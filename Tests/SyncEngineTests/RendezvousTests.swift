import SyncEngine
import Testing

@Suite struct RendezvousTests {
    static let keys = (0..<10_000).map { "cluster-\($0)" }
    static let members = (0..<10).map { "aws-ecr-cred-helper-7d9f8c-\($0)" }

    @Test func noMembersOwnNothing() {
        #expect(Rendezvous.owner(of: "cluster-1", among: []) == nil)
        #expect(Rendezvous.assigned(["cluster-1"], to: "a", among: []).isEmpty)
        #expect(Rendezvous.assigned(["cluster-1"], to: "a", among: ["b"]).isEmpty)
        #expect(Rendezvous.owner(of: "cluster-1", among: ["only"]) == "only")
    }

    /// The same answer whatever the order of the members, and the same weights in every process (the
    /// values are pinned: a change would reshuffle every running fleet during an upgrade).
    @Test func stableAndOrderIndependent() {
        let reversed = Array(Self.members.reversed())
        for key in Self.keys.prefix(500) {
            #expect(Rendezvous.owner(of: key, among: Self.members) == Rendezvous.owner(of: key, among: reversed))
        }
        #expect(Rendezvous.weight(key: "", member: "") == Rendezvous.weight(key: "", member: ""))
        #expect(Rendezvous.weight(key: "ab", member: "c") != Rendezvous.weight(key: "b", member: "ca"))
        #expect(Rendezvous.weight(key: "cluster-1", member: "replica-a") == 0x19ca_736d_efec_7d42)
    }

    /// 10 000 keys over 10 members: each within 15 % of the mean.
    @Test func balancedOverManyKeys() {
        var counts: [String: Int] = [:]
        for key in Self.keys { counts[Rendezvous.owner(of: key, among: Self.members)!, default: 0] += 1 }
        let mean = Self.keys.count / Self.members.count
        for member in Self.members {
            let count = counts[member, default: 0]
            #expect(abs(count - mean) < mean * 15 / 100, "\(member): \(count) of \(Self.keys.count)")
        }
        let assigned = Self.members.map { Rendezvous.assigned(Self.keys, to: $0, among: Self.members) }
        #expect(assigned.map(\.count).reduce(0, +) == Self.keys.count)
        #expect(Set(assigned.flatMap { $0 }).count == Self.keys.count)
    }

    @Test func aJoiningMemberTakesOnlyWhatItWins() {
        let joined = Self.members + ["newcomer"]
        var moved = 0
        for key in Self.keys {
            let before = Rendezvous.owner(of: key, among: Self.members)
            let after = Rendezvous.owner(of: key, among: joined)
            if before != after {
                #expect(after == "newcomer", "\(key) moved from \(before!) to \(after!)")
                moved += 1
            }
        }
        // About 1/11 of the keys.
        let expected = Self.keys.count / joined.count
        #expect(abs(moved - expected) < expected * 20 / 100, "\(moved) moved")
    }

    @Test func aLeavingMembersKeysAloneMove() {
        let leaving = Self.members[3]
        let remaining = Self.members.filter { $0 != leaving }
        var spreadTo: Set<String> = []
        for key in Self.keys {
            let before = Rendezvous.owner(of: key, among: Self.members)!
            let after = Rendezvous.owner(of: key, among: remaining)!
            if before == leaving {
                spreadTo.insert(after)
            } else {
                #expect(before == after, "\(key) moved from \(before) to \(after)")
            }
        }
        // The leaver's share spreads over everyone left, not onto one neighbour.
        #expect(spreadTo == Set(remaining))
    }
}
