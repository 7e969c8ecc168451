#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KubeTestServer {
    /// A kubeconfig (YAML) for this server: one cluster with the CA inline, one token user, one context.
    public func kubeconfig(token: String, namespace: String? = nil) -> String {
        Self.kubeconfig(server: url, caPEM: caPEM, token: token, namespace: namespace)
    }

    public static func kubeconfig(server: String, caPEM: String, token: String, namespace: String? = nil) -> String {
        func quoted(_ text: String) -> String { JSONValue.string(text).jsonString }
        var lines = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: kube-test-server",
            "  cluster:",
            "    server: \(quoted(server))",
        ]
        if !caPEM.isEmpty {
            lines.append("    certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())")
        }
        lines += [
            "contexts:",
            "- name: kube-test-server",
            "  context:",
            "    cluster: kube-test-server",
            "    user: kube-test-server-user",
        ]
        if let namespace { lines.append("    namespace: \(quoted(namespace))") }
        lines += [
            "current-context: kube-test-server",
            "preferences: {}",
            "users:",
            "- name: kube-test-server-user",
            "  user:",
            "    token: \(quoted(token))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `kubeconfig(token:namespace:)` to `path` (mode 0600: it holds a token).
    public func writeKubeconfig(to path: String, token: String, namespace: String? = nil) throws {
        try Self.writeFile(kubeconfig(token: token, namespace: namespace), to: path, mode: 0o600)
    }

    static func writeFile(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
