#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient

/// One registry login from one `GetAuthorizationToken` answer.
public struct RegistryCredential: Sendable, Hashable, CustomStringConvertible {
    /// The `proxyEndpoint` AWS returned, e.g. `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    public var registry: String
    public var username: String
    public var password: Sensitive
    public var expiresAt: Date?
    public var region: String

    public init(registry: String, username: String, password: Sensitive, expiresAt: Date?, region: String) {
        self.registry = registry
        self.username = username
        self.password = password
        self.expiresAt = expiresAt
        self.region = region
    }

    /// The registry host without scheme, as metrics and `status` show it.
    public var host: String {
        var host = Substring(registry)
        if let range = host.firstRange(of: "://") { host = host[range.upperBound...] }
        while host.hasSuffix("/") { host = host.dropLast() }
        return String(host)
    }

    public var description: String {
        "RegistryCredential(\(host), region \(region), expires \(expiresAt.map { KubeTime.time($0) } ?? "unknown"))"
    }
}

/// The tokens of one refresh, for every configured region and registry.
public struct RegistryLogin: Sendable, Hashable {
    public var credentials: [RegistryCredential]
    public var fetchedAt: Date

    public init(credentials: [RegistryCredential], fetchedAt: Date) {
        self.credentials = credentials
        self.fetchedAt = fetchedAt
    }

    /// The earliest `expiresAt` that is still in the future relative to the fetch, if any token has one.
    public var earliestExpiry: Date? {
        credentials.compactMap(\.expiresAt).filter { $0 > fetchedAt }.min()
    }

    /// True when some token has an `expiresAt` that has passed.
    public func hasExpired(at now: Date) -> Bool {
        credentials.contains { credential in
            guard let expiresAt = credential.expiresAt, expiresAt > fetchedAt else { return false }
            return expiresAt <= now
        }
    }
}
