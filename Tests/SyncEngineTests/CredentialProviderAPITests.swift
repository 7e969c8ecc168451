import Foundation
import Testing
@testable import SyncEngine

/// The kubelet protocol against golden documents (Fixtures/credential-provider, written from the Kubernetes
/// types), the cache duration rule, and the node-mode settings.
@Suite struct CredentialProviderAPITests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/credential-provider")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8).trimmingCharacters(in: .newlines)
    }

    struct Pair: Sendable, CustomTestStringConvertible {
        var name: String
        var apiVersion: String
        var registry: String
        var lifetime: TimeInterval
        var testDescription: String { name }
    }

    static let pairs = [
        Pair(name: "v1", apiVersion: "credentialprovider.kubelet.k8s.io/v1", registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", lifetime: 12 * 3600),
        Pair(name: "v1beta1", apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1", registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", lifetime: 12 * 3600),
        Pair(name: "v1alpha1", apiVersion: "credentialprovider.kubelet.k8s.io/v1alpha1", registry: "public.ecr.aws", lifetime: 12 * 3600),
        Pair(name: "v1-serviceaccount", apiVersion: "credentialprovider.kubelet.k8s.io/v1", registry: "123456789012.dkr-ecr.eu-west-1.on.aws", lifetime: 3600),
    ]

    @Test(arguments: pairs)
    func goldenRequestAndResponse(pair: Pair) throws {
        let request = try CredentialProviderAPI.decodeRequest(Array(try Self.fixture("\(pair.name)-request.json").utf8))
        #expect(request.apiVersion == pair.apiVersion)
        #expect(request.image.hasPrefix(pair.registry + "/"))
        #expect((request.serviceAccountToken != nil) == pair.name.hasSuffix("serviceaccount"))
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let seconds = CredentialProviderAPI.cacheDuration(expiresAt: now.addingTimeInterval(pair.lifetime), now: now, margin: .seconds(3600))
        let response = CredentialProviderAPI.Response(
            apiVersion: request.apiVersion, cacheDurationSeconds: seconds, registry: pair.registry, username: "AWS",
            password: Sensitive("golden-password"))
        #expect(response.json() == (try Self.fixture("\(pair.name)-response.json")))
        // The response holds exactly the CredentialProviderResponse fields (the kubelet decodes strictly).
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"])
        #expect(["Image", "Registry", "Global"].contains(object["cacheKeyType"] as? String ?? ""))
    }

    @Test func serviceAccountFieldsAreReadAndTheTokenNeverPrinted() throws {
        let request = try CredentialProviderAPI.decodeRequest(Array(try Self.fixture("v1-serviceaccount-request.json").utf8))
        #expect(request.serviceAccountAnnotations == ["eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/team-a-pull"])
        let token = try #require(request.serviceAccountToken)
        #expect("\(request)".contains(token.value) == false)
        #expect(String(reflecting: request).contains(token.value) == false)
    }

    @Test(arguments: [
        (0, "0s"), (45, "45s"), (60, "1m0s"), (1800, "30m0s"), (3599, "59m59s"), (3600, "1h0m0s"), (39600, "11h0m0s"), (45296, "12h34m56s"),
    ])
    func goDurationText(seconds: Int, text: String) {
        #expect(CredentialProviderAPI.goDuration(seconds) == text)
    }

    @Test func cacheDurationEndsBeforeTheTokenDoes() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let hour = Duration.seconds(3600)
        #expect(CredentialProviderAPI.cacheDuration(expiresAt: nil, now: now, margin: hour) == 0)
        #expect(CredentialProviderAPI.cacheDuration(expiresAt: now.addingTimeInterval(-10), now: now, margin: hour) == 0)
        #expect(CredentialProviderAPI.cacheDuration(expiresAt: now.addingTimeInterval(12 * 3600), now: now, margin: hour) == 11 * 3600)
        // Less than twice the margin left: half of it.
        #expect(CredentialProviderAPI.cacheDuration(expiresAt: now.addingTimeInterval(5400), now: now, margin: hour) == 2700)
        #expect(CredentialProviderAPI.cacheDuration(expiresAt: now.addingTimeInterval(12 * 3600), now: now, margin: .zero) == 12 * 3600)
    }

    @Test func nodeSettingsNeedNoNamespacesOrRegion() throws {
        let values = SettingValues(["REFRESH_MARGIN": SettingValue("30m", origin: "test")])
        let settings = try NodeSettings.parse(values)
        #expect(settings.cacheMargin == .seconds(1800))
        #expect(!settings.hasCredentials)
        let half = SettingValues(["AWS_SECRET_ACCESS_KEY": SettingValue("secret-value-123", origin: "environment AWS_SECRET_ACCESS_KEY")])
        #expect(throws: ConfigurationError.self) { try NodeSettings.parse(half) }
    }
}
