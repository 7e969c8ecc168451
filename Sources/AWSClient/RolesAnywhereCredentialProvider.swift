import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// Temporary credentials from IAM Roles Anywhere for a certificate and key in files: one `CreateSession` per
/// session, renewed before it expires (`CachingCredentialProvider`), and again as soon as either file changes
/// (cert-manager renews a mounted `kubernetes.io/tls` Secret in place; a node's files are rewritten). The files
/// are read at each session, so a renewed certificate is used without a restart.
public final class RolesAnywhereCredentialProvider: AWSRenewableCredentialProvider, CustomStringConvertible, Sendable {
    /// Where the certificate and key are, and what to ask for.
    public struct Configuration: Sendable, Hashable {
        public var certificateFile: String
        public var privateKeyFile: String
        public var session: RolesAnywhereSessionRequest

        public init(certificateFile: String, privateKeyFile: String, session: RolesAnywhereSessionRequest) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.session = session
        }
    }

    public let configuration: Configuration
    let cache: CachingCredentialProvider
    private let fingerprint: Mutex<String?>

    public init(
        configuration: Configuration,
        client: RolesAnywhereClient,
        refreshBefore: Duration = .seconds(5 * 60),
        logger: Logger = Logger(label: "AWSClient.credentials"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        let session = SessionProvider(configuration: configuration, client: client, now: now)
        self.cache = CachingCredentialProvider(session, refreshBefore: refreshBefore, logger: logger, now: now)
        self.fingerprint = Mutex(nil)
    }

    public func credentials() async throws -> AWSCredentials {
        // A stat of two files per call: cheap next to any AWS request, and it catches renewals without polling.
        let current = Self.fingerprint(configuration)
        let changed = fingerprint.withLock { stored -> Bool in
            defer { stored = current }
            return stored != nil && stored != current
        }
        if changed { cache.markStale() }
        return try await cache.credentials()
    }

    /// Drops the session's credentials (AWS answered ExpiredToken): the next call creates a session.
    public func invalidate() { cache.invalidate() }

    public var description: String {
        "RolesAnywhereCredentialProvider(certificate \(configuration.certificateFile), role \(configuration.session.roleARN), profile \(configuration.session.profileARN))"
    }

    /// Size, modification time and inode of both files (a mounted Secret's swap changes all three).
    static func fingerprint(_ configuration: Configuration) -> String {
        MountedFiles.statSignature(configuration.certificateFile) + "|" + MountedFiles.statSignature(configuration.privateKeyFile)
    }

    /// One session: reads and checks the files, then calls CreateSession.
    struct SessionProvider: AWSCredentialProvider {
        let configuration: Configuration
        let client: RolesAnywhereClient
        let now: @Sendable () -> Date

        func credentials() async throws -> AWSCredentials {
            let identity = try RolesAnywhereIdentity.read(
                certificateFile: configuration.certificateFile, privateKeyFile: configuration.privateKeyFile)
            try identity.checkValidity(at: now())
            return try await client.createSession(configuration.session, identity: identity)
        }
    }
}
