// Shared by the seeded property tests (FuzzPropertyTests) and the libFuzzer binary (Fuzz/, built by
// scripts/fuzz.sh, which compiles this file into it): one function per parser, each feeding it arbitrary
// bytes and checking what must hold for any input. A crash (trap) is a finding in both; a broken
// property is a `FuzzFinding`.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@testable import AWSClient
@testable import KubeClient
@testable import SyncEngine

struct FuzzFinding: Error, CustomStringConvertible {
    var target: String
    var problem: String
    var description: String { "\(target): \(problem)" }
}

enum FuzzChecks {
    /// Whether `text` is part of the fixed wording of the token error, i.e. it also appears in the message
    /// for a token of the same length made of a character the message never contains.
    static func isMessageWording(_ text: String) -> Bool {
        do {
            _ = try ECRAuthorization.decodeToken(String(repeating: "#", count: text.count), proxyEndpoint: "https://x", expiresAt: nil)
            return false
        } catch {
            return "\(error)".contains(text)
        }
    }

    static let targets = ["settings", "selector", "kubeconfig", "aws", "watch"]

    static func run(_ target: String, _ bytes: [UInt8]) throws(FuzzFinding) {
        switch target {
        case "settings": try settings(bytes)
        case "selector": try selector(bytes)
        case "kubeconfig": try kubeconfig(bytes)
        case "aws": try aws(bytes)
        case "watch": try watch(bytes)
        default: throw FuzzFinding(target: target, problem: "unknown fuzz target (one of \(targets.joined(separator: ", ")))")
        }
    }

    /// Every message a user may see is one line: no line feed or carriage return (which split a log line).
    static func oneLine(_ target: String, _ message: String) throws(FuzzFinding) {
        if message.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            throw FuzzFinding(target: target, problem: "multi-line message: \(String(reflecting: message.prefix(300)))")
        }
    }

    // MARK: - Targets

    /// Input: values for the setting keys, separated by NUL bytes, in the order of `keys`.
    static func settings(_ bytes: [UInt8]) throws(FuzzFinding) {
        let keys = [
            "NAMESPACES", "EXCLUDE_NAMESPACES", "NAMESPACE_SELECTOR", "SECRET_NAME", "AWS_DEFAULT_REGION", "AWS_REGIONS",
            "REGISTRY_IDS", "REFRESH_INTERVAL", "REFRESH_FRACTION", "CONCURRENCY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
            "PATCH_SERVICE_ACCOUNTS", "SERVICE_ACCOUNTS", "AWS_ROLE_ARN", "RESYNC_INTERVAL",
        ]
        let parts = bytes.split(separator: 0, maxSplits: keys.count - 1, omittingEmptySubsequences: false)
        var values = SettingValues()
        for (key, part) in zip(keys, parts) {
            values[key] = SettingValue(String(decoding: part, as: UTF8.self), origin: "file /config/\(key)")
        }
        // A secret key that happens to equal another setting's value would be "echoed" legitimately.
        let secret = values["AWS_SECRET_ACCESS_KEY"]?.trimmed ?? ""
        // Only secrets shaped like real ones (base64 alphabet) count: escaping other values (`\u{7}`) can
        // spell arbitrary text with spaces and braces.
        let echoable = secret.utf8.count >= 12 && secret.utf8.allSatisfy { $0 < 0x80 && (Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "+")) }
            && !values.values.contains { $0.key != "AWS_SECRET_ACCESS_KEY" && $0.value.raw.contains(secret) }
        do {
            let parsed = try HelperSettings.parse(values)
            if parsed.namespaces.include.isEmpty && parsed.namespaces.labelSelector == nil {
                throw FuzzFinding(target: "settings", problem: "accepted settings without any namespace or selector")
            }
            for warning in parsed.warnings { try oneLine("settings", warning) }
            _ = "\(parsed)"
        } catch let error as ConfigurationError {
            if error.problems.isEmpty { throw FuzzFinding(target: "settings", problem: "ConfigurationError without problems") }
            for problem in error.problems {
                try oneLine("settings", problem)
                if echoable && problem.contains(secret) {
                    throw FuzzFinding(target: "settings", problem: "the secret key is echoed: \(problem.prefix(200))")
                }
            }
        } catch let finding as FuzzFinding {
            throw finding
        } catch {
            throw FuzzFinding(target: "settings", problem: "unexpected error type \(type(of: error))")
        }
    }

    static func selector(_ bytes: [UInt8]) throws(FuzzFinding) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let selector = try LabelSelector(parsing: text)
            _ = selector.matches([:])
            _ = selector.matches(["a": "b", "env": "prod"])
            // What it prints is what it parses: the selector is sent to the API server as its description.
            let again = try LabelSelector(parsing: selector.description)
            if again != selector { throw FuzzFinding(target: "selector", problem: "does not round-trip: \(selector.description.prefix(200))") }
        } catch let error as LabelSelector.ParseError {
            try oneLine("selector", error.description)
        } catch let finding as FuzzFinding {
            throw finding
        } catch {
            throw FuzzFinding(target: "selector", problem: "unexpected error type \(type(of: error))")
        }
    }

    static func kubeconfig(_ bytes: [UInt8]) throws(FuzzFinding) {
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes: bytes)
        } catch {
            try oneLine("kubeconfig", error.description)
            return
        }
        guard let root else { return }
        do {
            let file = try KubeconfigFile(root: root, path: "/fuzz/kubeconfig")
            let configuration = try file.configuration(context: nil, namespace: nil, home: "/nonexistent-home")
            _ = configuration.description
        } catch {
            try oneLine("kubeconfig", "\(error)")
        }
    }

    /// ECR JSON, AWS error documents (JSON and XML) and STS XML: first byte picks the decoder.
    static func aws(_ bytes: [UInt8]) throws(FuzzFinding) {
        guard let selector = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        func check(_ error: any Error) throws(FuzzFinding) {
            try oneLine("aws", "\(error)")
        }
        switch selector % 5 {
        case 0:
            do {
                for authorization in try ECRClient.decodeResponse(body) {
                    if authorization.password.isEmpty || authorization.username.isEmpty {
                        throw FuzzFinding(target: "aws", problem: "accepted an empty user or password")
                    }
                    if "\(authorization)".contains(authorization.password) && authorization.password.count >= 4 {
                        throw FuzzFinding(target: "aws", problem: "the password is in the description")
                    }
                }
            } catch let finding as FuzzFinding { throw finding } catch { try check(error) }
        case 1:
            do { _ = try ECRClient.decodePublicResponse(body) } catch { try check(error) }
        case 2:
            let parsed = AWSErrorClassifier.parse(headers: [("x-amzn-errortype", "")], body: body)
            let kind = AWSErrorClassifier.kind(code: parsed.code, message: parsed.message, status: 400)
            let error = AWSError(kind: kind, code: parsed.code, statusCode: 400, message: parsed.message ?? "", requestID: parsed.requestID)
            try check(error)
        case 3:
            do { _ = try STSClient.parseCredentials(body, action: "AssumeRole") } catch { try check(error) }
        default:
            let text = String(decoding: body, as: UTF8.self)
            do { _ = try ECRAuthorization.decodeToken(text, proxyEndpoint: "https://x", expiresAt: nil) } catch {
                try check(error)
                // A token that happens to spell the message's own wording ("authorizationToken") is no leak.
                if text.count >= 8 && "\(error)".contains(text) && !Self.isMessageWording(text) {
                    throw FuzzFinding(target: "aws", problem: "the token is in the error")
                }
            }
        }
    }

    static func watch(_ bytes: [UInt8]) throws(FuzzFinding) {
        let decoder = JSONDecoder()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            do {
                _ = try KubernetesClient.decodeWatchLine(Secret.self, line, decoder: decoder)
                _ = try KubernetesClient.decodeWatchLine(Namespace.self, line, decoder: decoder)
            } catch {
                try oneLine("watch", "\(error)")
            }
        }
    }
}
