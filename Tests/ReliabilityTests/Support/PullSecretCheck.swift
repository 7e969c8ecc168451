import Foundation
import KubeClient
import SyncEngine

/// What "a valid pull secret" means for these tests: the type kubelet reads, a `.dockerconfigjson` that
/// parses, an `auths` entry for every expected registry with a user, a password and an `auth` that is
/// base64 of `user:password`, our managed-by label, and no expiry annotation in the past.
enum PullSecretCheck {
    /// nil when `secret` is a usable pull secret for `registries` at `now`; otherwise what is wrong.
    static func problem(_ secret: Secret, registries: [String], now: Date = Date()) -> String? {
        let name = "\(secret.metadata.namespace ?? "?")/\(secret.metadata.name ?? "?")@\(secret.metadata.resourceVersion ?? "?")"
        guard secret.type == DesiredSecret.type else { return "\(name): type \(secret.type ?? "nil")" }
        guard let bytes = secret.decodedData(DesiredSecret.dataKey), !bytes.isEmpty else { return "\(name): no \(DesiredSecret.dataKey)" }
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let auths = root["auths"] as? [String: Any], !auths.isEmpty
        else { return "\(name): \(DesiredSecret.dataKey) is not a docker config with auths" }
        for registry in registries {
            guard let entry = auths[registry] as? [String: Any] else { return "\(name): no auths entry for \(registry)" }
            guard let user = entry["username"] as? String, !user.isEmpty,
                  let password = entry["password"] as? String, !password.isEmpty,
                  let auth = entry["auth"] as? String,
                  let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) })
            else { return "\(name): incomplete auths entry for \(registry)" }
            guard decoded == "\(user):\(password)" else { return "\(name): auth does not match user:password for \(registry)" }
        }
        guard secret.metadata.labels?[DesiredSecret.managedByLabel] == "aws-ecr-cred-helper" else { return "\(name): managed-by label missing" }
        // AWS always sends expiresAt, so the annotation is there; moto sends none, and then neither is it.
        if let text = secret.metadata.annotations?[DesiredSecret.expiresAtAnnotation] {
            guard let expiry = ISO8601DateFormatter().date(from: text) else { return "\(name): unreadable expires-at \(text)" }
            guard expiry > now else { return "\(name): expired at \(text)" }
        }
        return nil
    }

    /// The password stored for `registry`, to tell which token generation a secret holds.
    static func password(_ secret: Secret, registry: String) -> String? {
        guard let bytes = secret.decodedData(DesiredSecret.dataKey),
              let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let auths = root["auths"] as? [String: Any],
              let entry = auths[registry] as? [String: Any]
        else { return nil }
        return entry["password"] as? String
    }
}
