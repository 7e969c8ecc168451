#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The kubelet's exec credential provider protocol, group `credentialprovider.kubelet.k8s.io`, as defined by
/// k8s.io/kubelet `pkg/apis/credentialprovider/{v1,v1beta1,v1alpha1}/types.go`:
///
/// - `CredentialProviderRequest {kind, apiVersion, image}`; v1 adds `serviceAccountToken` and
///   `serviceAccountAnnotations` (KEP-4412, sent only when the provider's `tokenAttributes` are configured).
/// - `CredentialProviderResponse {kind, apiVersion, cacheKeyType, cacheDuration?, auth?}` with `cacheKeyType`
///   one of `Image`, `Registry`, `Global`, `cacheDuration` a metav1.Duration (Go duration text), and `auth` a map
///   from match key to `{username, password}`.
///
/// The kubelet (kubernetes pkg/credentialprovider/plugin/plugin.go, `ExecPlugin`) refuses a response whose
/// apiVersion differs from the configured one, decodes it strictly (unknown fields are errors), and requires
/// kind `CredentialProviderResponse` and a valid `cacheKeyType`. So the response carries exactly these fields,
/// in the request's apiVersion.
public enum CredentialProviderAPI {
    public static let group = "credentialprovider.kubelet.k8s.io"
    public static let versions = ["\(group)/v1", "\(group)/v1beta1", "\(group)/v1alpha1"]
    public static let v1 = "\(group)/v1"

    /// A request read from the kubelet.
    public struct Request: Sendable, Equatable {
        public var apiVersion: String
        public var image: String
        /// v1 only; never printed.
        public var serviceAccountToken: Sensitive?
        public var serviceAccountAnnotations: [String: String]

        public init(apiVersion: String, image: String, serviceAccountToken: Sensitive? = nil, serviceAccountAnnotations: [String: String] = [:]) {
            self.apiVersion = apiVersion
            self.image = image
            self.serviceAccountToken = serviceAccountToken
            self.serviceAccountAnnotations = serviceAccountAnnotations
        }
    }

    /// Bad input, one line naming the cause and the fix. Never holds the token.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    private struct RawRequest: Decodable {
        var kind: String?
        var apiVersion: String?
        var image: String?
        var serviceAccountToken: String?
        var serviceAccountAnnotations: [String: String]?
    }

    /// Larger input is refused unread: a request is an image name, a token and a few annotations.
    public static let maximumRequestSize = 1 << 20

    /// Parses and validates one request.
    public static func decodeRequest(_ bytes: [UInt8]) throws(InputError) -> Request {
        let text = bytes.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if text.isEmpty {
            throw InputError("no CredentialProviderRequest on standard input (it was empty): the kubelet writes one JSON request; to test by hand, pipe one in, e.g. echo '{\"apiVersion\":\"\(v1)\",\"kind\":\"CredentialProviderRequest\",\"image\":\"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app\"}' | aws-ecr-cred-helper credential-provider")
        }
        if bytes.count > maximumRequestSize {
            throw InputError("the CredentialProviderRequest on standard input is larger than \(maximumRequestSize) bytes: is the right file piped in?")
        }
        let raw: RawRequest
        do {
            raw = try JSONDecoder().decode(RawRequest.self, from: Data(bytes))
        } catch {
            throw InputError("standard input is not a JSON CredentialProviderRequest (\(DecodingProblem.describe(error))): the kubelet sends {\"apiVersion\": \"\(v1)\", \"kind\": \"CredentialProviderRequest\", \"image\": ...}")
        }
        guard let apiVersion = raw.apiVersion, !apiVersion.isEmpty else {
            throw InputError("the CredentialProviderRequest has no apiVersion: expected one of \(versions.joined(separator: ", "))")
        }
        guard versions.contains(apiVersion) else {
            throw InputError("apiVersion \"\(printable(apiVersion))\" is not supported: expected one of \(versions.joined(separator: ", ")) (set apiVersion in the kubelet's CredentialProviderConfig to one of them)")
        }
        guard raw.kind == "CredentialProviderRequest" else {
            throw InputError("kind \"\(printable(raw.kind ?? ""))\" is not CredentialProviderRequest: standard input must be the kubelet's request")
        }
        guard let image = raw.image?.trimmingASCIIWhitespace(), !image.isEmpty else {
            throw InputError("the CredentialProviderRequest has no image: nothing to get credentials for")
        }
        let token = raw.serviceAccountToken.flatMap { $0.isEmpty ? nil : $0 }
        if apiVersion != v1, token != nil || raw.serviceAccountAnnotations != nil {
            throw InputError("serviceAccountToken and serviceAccountAnnotations exist only in \(v1), not in \(apiVersion): set apiVersion \(v1) in the kubelet's CredentialProviderConfig for ServiceAccount-token mode")
        }
        return Request(apiVersion: apiVersion, image: image, serviceAccountToken: token.map(Sensitive.init),
                       serviceAccountAnnotations: raw.serviceAccountAnnotations ?? [:])
    }

    /// A response: credentials for one registry, cached by the kubelet per registry.
    public struct Response: Sendable, Equatable {
        public var apiVersion: String
        /// Seconds the kubelet may keep the credentials; 0 means "do not cache".
        public var cacheDurationSeconds: Int
        /// The registry as the kubelet keys it (the image's part before the first `/`).
        public var registry: String
        public var username: String
        public var password: Sensitive

        public init(apiVersion: String, cacheDurationSeconds: Int, registry: String, username: String, password: Sensitive) {
            self.apiVersion = apiVersion
            self.cacheDurationSeconds = cacheDurationSeconds
            self.registry = registry
            self.username = username
            self.password = password
        }

        /// The JSON document, one line, fields in a fixed order (golden files compare bytes).
        public func json() -> String {
            "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\(JSONString.quote(apiVersion)),"
                + "\"cacheKeyType\":\"Registry\",\"cacheDuration\":\(JSONString.quote(goDuration(cacheDurationSeconds))),"
                + "\"auth\":{\(JSONString.quote(registry)):{\"username\":\(JSONString.quote(username)),\"password\":\(JSONString.quote(password.value))}}}"
        }
    }

    /// Whole seconds in Go's `time.Duration.String()` form, as metav1.Duration marshals: `0s`, `45s`, `30m0s`,
    /// `11h0m0s`.
    public static func goDuration(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\(seconds % 3600 / 60)m\(seconds % 60)s"
    }

    /// How long the kubelet may cache a token that expires at `expiresAt`: until `margin` before expiry; when
    /// less than twice the margin is left, half of what is left; nothing (0) when the expiry is unknown or
    /// past. (cloud-provider-aws caches for half the remaining lifetime and 0 without an expiry, see
    /// `getCacheDuration` in cmd/ecr-credential-provider/main.go; a fixed margin keeps 11 of a token's 12 hours.)
    public static func cacheDuration(expiresAt: Date?, now: Date, margin: Duration) -> Int {
        guard let expiresAt else { return 0 }
        let remaining = expiresAt.timeIntervalSince(now)
        guard remaining > 1 else { return 0 }
        let marginSeconds = Double(margin.components.seconds)
        let seconds = remaining > 2 * marginSeconds ? remaining - marginSeconds : remaining / 2
        return Int(seconds.rounded(.down))
    }
}
