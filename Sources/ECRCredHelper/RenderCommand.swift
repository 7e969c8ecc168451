#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import SyncEngine

/// `render`: print the Secret manifests a sync would write, for GitOps users. Fetches tokens from AWS,
/// touches no cluster.
struct RenderCommand: Subcommand {
    static let name = "render"
    static let abstract = "Print the Secret manifests (YAML, one document per namespace) that a sync would write, touching no cluster."
    static let discussion = "For GitOps: calls AWS, reads no cluster, so NAMESPACES must be plain names. The output holds registry passwords: treat it as a secret."
    static let concerns: [Setting.Concern] = [.locations, .awsLocation, .namespaces, .secret, .aws, .logging]

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let helperSettings = try invocation.settings.load()
        guard helperSettings.namespaces.isExplicitList else {
            throw HelperFailure("render needs NAMESPACES as plain names: patterns and NAMESPACE_SELECTOR are resolved against a cluster, which render does not touch")
        }
        let tokens = try invocation.tokenSource()
        let login: RegistryLogin
        do {
            login = try await tokens.fetchLogin(for: helperSettings.aws)
        } catch {
            try? await tokens.shutdown()
            throw HelperFailure("\(error)")
        }
        try? await tokens.shutdown()
        let desired = DesiredSecret(name: helperSettings.secretName, installation: helperSettings.installation, login: login)
        var output = ""
        for namespace in helperSettings.namespaces.explicitNames {
            output += ManifestYAML.secret(desired.secret(in: namespace))
        }
        print(output, terminator: "")
    }
}

/// Secrets as YAML documents. Strings are written double-quoted in JSON syntax, which YAML reads the same.
enum ManifestYAML {
    static func secret(_ secret: Secret) -> String {
        var out = "---\napiVersion: v1\nkind: Secret\nmetadata:\n"
        out += "  name: \(JSONString.quote(secret.metadata.name ?? ""))\n"
        if let namespace = secret.metadata.namespace { out += "  namespace: \(JSONString.quote(namespace))\n" }
        for (title, map) in [("labels", secret.metadata.labels), ("annotations", secret.metadata.annotations)] {
            guard let map, !map.isEmpty else { continue }
            out += "  \(title):\n"
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                out += "    \(JSONString.quote(key)): \(JSONString.quote(value))\n"
            }
        }
        if let type = secret.type { out += "type: \(JSONString.quote(type))\n" }
        out += "data:\n"
        for (key, value) in (secret.data ?? [:]).sorted(by: { $0.key < $1.key }) {
            out += "  \(JSONString.quote(key)): \(JSONString.quote(Data(value.bytes).base64EncodedString()))\n"
        }
        return out
    }
}
