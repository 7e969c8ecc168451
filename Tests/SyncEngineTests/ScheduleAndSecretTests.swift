#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import Testing
@testable import SyncEngine

@Suite struct RefreshPolicyTests {
    let fetched = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func twelveHourTokenRefreshesAtHalfLife() {
        let policy = RefreshPolicy()
        let delay = policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(12 * 3600)], random: 0)
        #expect(delay == .seconds(6 * 3600))
    }

    @Test func marginWinsForShortTokens() {
        var policy = RefreshPolicy()
        policy.fraction = 1
        policy.margin = .seconds(600)
        let delay = policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(3600)], random: 0)
        #expect(delay == .seconds(3000))
    }

    @Test func intervalIsTheUpperBound() {
        var policy = RefreshPolicy()
        policy.interval = .seconds(60)
        let delay = policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(12 * 3600)], random: 0)
        #expect(delay == .seconds(60))
    }

    @Test func missingOrPastExpiryFallsBackToInterval() {
        let policy = RefreshPolicy()
        #expect(policy.delay(fetchedAt: fetched, expiries: [nil], random: 0) == .seconds(41400))
        // moto's expiresAt is fixed in 2015.
        #expect(policy.delay(fetchedAt: fetched, expiries: [Date(timeIntervalSince1970: 1_420_000_000)], random: 0) == .seconds(41400))
    }

    @Test func earliestTokenDecides() {
        let policy = RefreshPolicy()
        let delay = policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(12 * 3600), fetched.addingTimeInterval(4 * 3600)], random: 0)
        #expect(delay == .seconds(2 * 3600))
    }

    @Test func jitterOnlyMovesEarlier() {
        let policy = RefreshPolicy()
        for r in stride(from: 0.0, to: 1.0, by: 0.1) {
            let delay = policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(12 * 3600)], random: r)
            #expect(delay <= .seconds(6 * 3600) && delay >= .seconds(6 * 3600 * 0.95))
        }
    }

    @Test func neverBelowMinimum() {
        let policy = RefreshPolicy()
        #expect(policy.delay(fetchedAt: fetched, expiries: [fetched.addingTimeInterval(1)], random: 0) == .seconds(5))
    }
}

@Suite struct DesiredSecretTests {
    static let login = RegistryLogin(
        credentials: [
            RegistryCredential(registry: "https://222222222222.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", password: Sensitive("pw-2"), expiresAt: Date(timeIntervalSince1970: 1_800_043_200), region: "eu-west-1"),
            RegistryCredential(registry: "https://111111111111.dkr.ecr.us-east-1.amazonaws.com", username: "AWS", password: Sensitive("pw\"1"), expiresAt: Date(timeIntervalSince1970: 1_800_040_000), region: "us-east-1"),
        ],
        fetchedAt: Date(timeIntervalSince1970: 1_800_000_000)
    )

    @Test func dockerConfigIsStableAndComplete() throws {
        let desired = DesiredSecret(name: "registry-aws-ecr", installation: Installation("registry-aws-ecr")!, login: Self.login)
        let text = String(decoding: desired.dockerConfigJSON, as: UTF8.self)
        let auth1 = Data("AWS:pw\"1".utf8).base64EncodedString()
        #expect(text == #"{"auths":{"https://111111111111.dkr.ecr.us-east-1.amazonaws.com":{"username":"AWS","password":"pw\"1","auth":"\#(auth1)"},"https://222222222222.dkr.ecr.eu-west-1.amazonaws.com":{"username":"AWS","password":"pw-2","auth":"QVdTOnB3LTI="}}}"#)
        // Same tokens in another order: same bytes.
        let reversed = RegistryLogin(credentials: Self.login.credentials.reversed(), fetchedAt: Self.login.fetchedAt)
        #expect(DesiredSecret(name: "registry-aws-ecr", installation: Installation("registry-aws-ecr")!, login: reversed).dockerConfigJSON == desired.dockerConfigJSON)
        // And it is JSON.
        _ = try JSONSerializationCheck.parse(desired.dockerConfigJSON)
    }

    @Test func secretShape() {
        let desired = DesiredSecret(name: "registry-aws-ecr", installation: Installation("registry-aws-ecr")!, login: Self.login)
        let secret = desired.secret(in: "team-a")
        #expect(secret.type == "kubernetes.io/dockerconfigjson")
        #expect(secret.metadata.namespace == "team-a")
        #expect(secret.metadata.labels?["app.kubernetes.io/managed-by"] == "aws-ecr-cred-helper")
        #expect(secret.metadata.labels?["aws-ecr-cred-helper/instance"] == "registry-aws-ecr")
        #expect(secret.metadata.annotations?["aws-ecr-cred-helper/expires-at"] == "2027-01-15T19:06:40Z")
        #expect(secret.metadata.annotations?["aws-ecr-cred-helper/refreshed-at"] == "2027-01-15T08:00:00Z")
        #expect(desired.isSatisfied(by: secret))
        #expect(!"\(secret)".contains("pw-2"))
    }

    @Test func foreignTypesAreNotAdopted() {
        let desired = DesiredSecret(name: "registry-aws-ecr", installation: Installation("registry-aws-ecr")!, login: Self.login)
        var opaque = desired.secret(in: "a")
        opaque.type = "Opaque"
        #expect(!desired.mayAdopt(opaque))
        var original = desired.secret(in: "a")
        original.metadata.labels = nil
        #expect(desired.mayAdopt(original))
        #expect(!desired.isSatisfied(by: original))
        var earlier = desired.secret(in: "a")
        earlier.metadata.labels?["aws-ecr-cred-helper/instance"] = nil
        #expect(desired.mayAdopt(earlier))
        #expect(!desired.isSatisfied(by: earlier))
        var theirs = desired.secret(in: "a")
        theirs.metadata.labels?["aws-ecr-cred-helper/instance"] = "other"
        #expect(!desired.mayAdopt(theirs))
        #expect(!desired.isSatisfied(by: theirs))
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"), (1_800_000_000, "2027-01-15T08:00:00Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ])
    func timestamps(_ seconds: Double, _ expected: String) {
        #expect(KubeTime.time(Date(timeIntervalSince1970: seconds)) == expected)
    }
}

/// Decodes JSON with the standard decoder, to check hand-written JSON is well formed.
enum JSONSerializationCheck {
    struct Auths: Decodable { var auths: [String: Entry] }
    struct Entry: Decodable { var username: String; var password: String; var auth: String }
    static func parse(_ bytes: [UInt8]) throws -> Auths { try JSONDecoder().decode(Auths.self, from: Data(bytes)) }
}
