/// Kubernetes name rules, checked before anything is sent so that a typo gives one clear line instead of a
/// 422 from every namespace.
enum KubernetesNames {
    /// RFC 1123 label: namespace names.
    static func isLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// RFC 1123 subdomain: secret names.
    static func isSubdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    /// A glob over namespace names: name characters plus `*` and `?`.
    static func isNamespacePattern(_ pattern: String) -> Bool {
        !pattern.isEmpty && pattern.utf8.count <= 63 && pattern.utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?")
        }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}

/// AWS region names (`us-east-1`, `us-gov-west-1`, `cn-north-1`): checked for shape only, since new
/// regions appear; a well-formed region that does not exist fails at the AWS call with its own message.
enum RegionNames {
    static func isWellFormed(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, region.utf8.count <= 32, let last = parts.last, !last.isEmpty,
              last.allSatisfy(\.isASCII), last.allSatisfy(\.isNumber) else { return false }
        return parts.dropLast().allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        }
    }
}
