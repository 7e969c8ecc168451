#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The moto server `scripts/test.sh` starts, and the IAM fixture it created (see scripts/moto_fixture.py).
public struct MotoEnvironment: Decodable, Sendable {
    public struct Keys: Decodable, Sendable {
        public var accessKeyId: String
        public var secretAccessKey: String

        public init(accessKeyId: String, secretAccessKey: String) {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
        }
    }

    public var endpoint: String
    public var region: String
    public var account: String
    public var allowed: Keys
    public var denied: Keys
    public var roleArn: String

    /// Why moto tests are skipped on a bare `swift test`.
    public static let missingReason = "MOTO_ENDPOINT/MOTO_FIXTURE are unset: run scripts/test.sh, which starts moto"

    /// The fixture, or nil when the tests run without moto.
    public static var current: MotoEnvironment? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["MOTO_ENDPOINT"] != nil, let path = environment["MOTO_FIXTURE"],
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(MotoEnvironment.self, from: data)
    }
}
