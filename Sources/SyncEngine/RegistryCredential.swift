#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
        "RegistryCredential(\(host), region \(region), expires \(expiresAt.map { Timestamps.rfc3339($0) } ?? "unknown"))"
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

enum Timestamps {
    /// `2026-11-26T21:12:25Z`: RFC 3339 in UTC, as Kubernetes writes times.
    static func rfc3339(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil-from-days (Howard Hinnant), avoids a calendar and its time zone database.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        var year = yearOfEra + era * 400
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))Z"
    }
}
