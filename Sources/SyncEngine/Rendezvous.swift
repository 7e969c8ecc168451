/// Rendezvous (highest-random-weight) hashing: each key goes to the member with the highest weight
/// `hash(member, key)`. Every replica that sees the same member list computes the same owner with no
/// coordination, and a change of one member moves only that member's share: when a member leaves, only its
/// keys move (each to its own runner-up); when one joins, it takes only the keys it now wins, about 1/n.
///
/// The hash must be the same in every process, so it is FNV-1a 64 followed by a 64-bit finalizer (FNV alone
/// spreads similar strings such as `cluster-1`, `cluster-2` poorly) and never Swift's `Hasher`, which is
/// seeded randomly per process.
public enum Rendezvous {
    /// The member that owns `key`, or nil when there are no members.
    public static func owner(of key: String, among members: [String]) -> String? {
        var best: String?
        var bestWeight: UInt64 = 0
        for member in members {
            let weight = self.weight(key: key, member: member)
            // Ties (vanishingly rare) go to the smaller identity, so every replica breaks them alike.
            if best == nil || weight > bestWeight || (weight == bestWeight && member < best!) {
                best = member
                bestWeight = weight
            }
        }
        return best
    }

    /// The keys among `keys` that `member` owns. Empty when `member` is not in `members`.
    public static func assigned(_ keys: [String], to member: String, among members: [String]) -> Set<String> {
        guard members.contains(member) else { return [] }
        var mine = Set<String>()
        for key in keys where owner(of: key, among: members) == member { mine.insert(key) }
        return mine
    }

    /// The weight of a (member, key) pair: stable across processes, platforms and releases.
    public static func weight(key: String, member: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        for byte in member.utf8 { mix(byte) }
        // A separator no identity or key holds, so ("ab", "c") and ("a", "bc") differ.
        mix(0)
        for byte in key.utf8 { mix(byte) }
        // MurmurHash3's fmix64: every input bit affects every output bit.
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
