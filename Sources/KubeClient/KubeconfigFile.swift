#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// The parts of kubeconfig files this client uses: named clusters, users and contexts, and
/// `current-context`, loaded and merged the way client-go does it (tools/clientcmd/loader.go,
/// `ClientConfigLoadingRules.Load`):
/// - files are read in order; a missing file in a `KUBECONFIG` list is skipped, a file that cannot be read
///   or parsed is an error naming it;
/// - "The first file to set a particular map key wins and map key's value is never changed": a cluster,
///   user or context is taken whole from the first file that names it, even fields a later file adds;
/// - values outside the maps (`current-context`) are taken from the first file that sets them (loader.go
///   merges them in reverse order, so the earliest file's non-empty value is the one left);
/// - relative paths in an entry (certificate-authority, client-certificate, client-key, tokenFile, and an
///   exec command that contains a '/') resolve against the folder of the file the entry came from
///   (`ResolveLocalPaths`, `GetAuthInfoFileReferences`).
struct KubeconfigFile {
    struct Cluster {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool
        var tlsServerName: String?
        var proxyURL: String?
        var disableCompression: Bool
        /// The `client.authentication.k8s.io/exec` extension, as JSON, passed to exec plugins.
        var execExtension: String?
    }

    struct User {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var exec: ExecConfigEntry?
        var unsupported: String?
    }

    /// `users[].user.exec` as written (validated when the user is chosen, as client-go validates only the
    /// context in use).
    struct ExecConfigEntry {
        var command: String?
        var args: [String]
        var env: [(name: String?, value: String)]
        var apiVersion: String?
        var installHint: String?
        var provideClusterInfo: Bool
        var interactiveMode: String?
    }

    struct Context {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    /// An entry and the file it came from.
    struct Named<Value> {
        var name: String
        var value: Value
        var origin: String
    }

    /// The files merged, in order (for messages).
    var paths: [String]
    var clusters: [Named<Cluster>] = []
    var users: [Named<User>] = []
    var contexts: [Named<Context>] = []
    var currentContext: String?

    var isEmpty: Bool { clusters.isEmpty && users.isEmpty && contexts.isEmpty }

    /// `/a/config` or `/a/config, /b/config`.
    var location: String { paths.isEmpty ? "the kubeconfig" : paths.joined(separator: ", ") }

    init(paths: [String] = []) { self.paths = paths }

    /// One file.
    static func load(path: String) throws(KubeConfigurationError) -> KubeconfigFile {
        let bytes = try FileAccess.read(path, purpose: "kubeconfig")
        // client-go: "if there's no data in a file, return the default object instead of failing".
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return KubeconfigFile(paths: [path]) }
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes: bytes)
        } catch {
            throw KubeConfigurationError("kubeconfig \(path) is not valid YAML: \(error)")
        }
        guard let root else { return KubeconfigFile(paths: [path]) }
        return try KubeconfigFile(root: root, path: path)
    }

    /// Several files merged by client-go's rules; missing files are skipped and returned.
    static func merge(paths: [String]) throws(KubeConfigurationError) -> (KubeconfigFile, missing: [String]) {
        var merged = KubeconfigFile()
        var missing: [String] = []
        var seen = Set<String>()
        for path in paths where !path.isEmpty && seen.insert(path).inserted {
            guard FileAccess.exists(path) else {
                missing.append(path)
                continue
            }
            let file = try load(path: path)
            merged.paths.append(path)
            for entry in file.clusters where !merged.clusters.contains(where: { $0.name == entry.name }) { merged.clusters.append(entry) }
            for entry in file.users where !merged.users.contains(where: { $0.name == entry.name }) { merged.users.append(entry) }
            for entry in file.contexts where !merged.contexts.contains(where: { $0.name == entry.name }) { merged.contexts.append(entry) }
            if merged.currentContext?.isEmpty ?? true { merged.currentContext = file.currentContext }
        }
        return (merged, missing)
    }

    init(root: YAMLNode, path: String) throws(KubeConfigurationError) {
        self.paths = [path]
        guard case .mapping = root else { throw KubeConfigurationError("kubeconfig \(path) is not a mapping") }
        currentContext = root["current-context"]?.string
        for (name, body) in try Self.namedEntries(root, "clusters", "cluster", path: path) {
            clusters.append(Named(name: name, value: Cluster(
                server: body["server"]?.string,
                certificateAuthority: body["certificate-authority"]?.string,
                certificateAuthorityData: body["certificate-authority-data"]?.string,
                insecureSkipTLSVerify: body["insecure-skip-tls-verify"]?.bool ?? (body["insecure-skip-tls-verify"]?.string == "true"),
                tlsServerName: body["tls-server-name"]?.string,
                proxyURL: body["proxy-url"]?.string,
                disableCompression: body["disable-compression"]?.bool ?? false,
                execExtension: Self.execExtension(body)
            ), origin: path))
        }
        for (name, body) in try Self.namedEntries(root, "users", "user", path: path) {
            var unsupported: String?
            if body["auth-provider"].map({ !$0.isNull }) ?? false { unsupported = "auth-provider plugins (removed from kubectl in 1.26; use the provider's exec plugin)" }
            else if body["username"]?.string != nil { unsupported = "basic authentication (username/password)" }
            var exec: ExecConfigEntry?
            if let node = body["exec"], !node.isNull {
                exec = try Self.execEntry(node, user: name, path: path)
            }
            users.append(Named(name: name, value: User(
                token: body["token"]?.string,
                tokenFile: body["tokenFile"]?.string,
                clientCertificate: body["client-certificate"]?.string,
                clientCertificateData: body["client-certificate-data"]?.string,
                clientKey: body["client-key"]?.string,
                clientKeyData: body["client-key-data"]?.string,
                exec: exec,
                unsupported: unsupported
            ), origin: path))
        }
        for (name, body) in try Self.namedEntries(root, "contexts", "context", path: path) {
            contexts.append(Named(name: name, value: Context(cluster: body["cluster"]?.string, user: body["user"]?.string, namespace: body["namespace"]?.string), origin: path))
        }
    }

    /// `- name: x\n  <field>: {...}` entries of the list `key`.
    private static func namedEntries(_ root: YAMLNode, _ key: String, _ field: String, path: String) throws(KubeConfigurationError) -> [(String, YAMLNode)] {
        guard let list = root[key] else { return [] }
        guard let items = list.items else { throw KubeConfigurationError("kubeconfig \(path): \(key) is not a list") }
        var entries: [(String, YAMLNode)] = []
        for item in items {
            guard let name = item["name"]?.string else {
                throw KubeConfigurationError("kubeconfig \(path): an entry of \(key) has no name")
            }
            entries.append((name, item[field] ?? .mapping([])))
        }
        return entries
    }

    private static func execEntry(_ node: YAMLNode, user: String, path: String) throws(KubeConfigurationError) -> ExecConfigEntry {
        var args: [String] = []
        if let list = node["args"] {
            guard let items = list.items else { throw KubeConfigurationError("kubeconfig \(path): exec args of user \"\(user)\" is not a list") }
            args = items.map { $0.string ?? "" }
        }
        var env: [(name: String?, value: String)] = []
        if let list = node["env"] {
            guard let items = list.items else { throw KubeConfigurationError("kubeconfig \(path): exec env of user \"\(user)\" is not a list") }
            env = items.map { (name: $0["name"]?.string, value: $0["value"]?.string ?? "") }
        }
        return ExecConfigEntry(
            command: node["command"]?.string, args: args, env: env, apiVersion: node["apiVersion"]?.string,
            installHint: node["installHint"]?.string, provideClusterInfo: node["provideClusterInfo"]?.bool ?? false,
            interactiveMode: node["interactiveMode"]?.string
        )
    }

    /// The cluster's `extensions` entry named `client.authentication.k8s.io/exec`, as JSON
    /// (client_config.go passes `configClusterInfo.Extensions[clusterExtensionKey]` to the plugin).
    private static func execExtension(_ cluster: YAMLNode) -> String? {
        guard let items = cluster["extensions"]?.items else { return nil }
        for item in items where item["name"]?.string == "client.authentication.k8s.io/exec" {
            return item["extension"].map(YAMLJSON.encode)
        }
        return nil
    }

    // MARK: - Choosing a context

    func configuration(context requested: String?, namespace: String?, home: String?) throws(KubeConfigurationError) -> KubeConfiguration {
        let contextNames = contexts.map(\.name).joined(separator: ", ")
        guard let contextName = requested ?? currentContext, !contextName.isEmpty else {
            throw KubeConfigurationError("kubeconfig \(location) has no current-context; pass a context with --context (contexts: \(contextNames.isEmpty ? "none" : contextNames))")
        }
        guard let context = contexts.first(where: { $0.name == contextName })?.value else {
            throw KubeConfigurationError("context \"\(contextName)\" not found in \(location); contexts: \(contextNames.isEmpty ? "none" : contextNames)")
        }
        guard let clusterName = context.cluster, !clusterName.isEmpty else {
            throw KubeConfigurationError("context \"\(contextName)\" in \(location) names no cluster")
        }
        guard let clusterEntry = clusters.first(where: { $0.name == clusterName }) else {
            throw KubeConfigurationError("cluster \"\(clusterName)\" (of context \"\(contextName)\") not found in \(location); clusters: \(clusters.map(\.name).joined(separator: ", "))")
        }
        let cluster = clusterEntry.value
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeConfigurationError("cluster \"\(clusterName)\" in \(clusterEntry.origin) has no server")
        }
        let clusterDirectory = FileAccess.directory(of: clusterEntry.origin)

        var caPEM: [UInt8]?
        if let data = cluster.certificateAuthorityData, !data.isEmpty {
            caPEM = try Self.base64(data, field: "certificate-authority-data of cluster \"\(clusterName)\"", path: clusterEntry.origin)
        } else if let file = cluster.certificateAuthority, !file.isEmpty {
            let resolved = FileAccess.resolve(file, relativeTo: clusterDirectory, home: home)
            caPEM = try FileAccess.read(resolved, purpose: "certificate-authority file of cluster \"\(clusterName)\"")
        }

        var auth = KubeAuth.none
        if let userName = context.user, !userName.isEmpty {
            guard let user = users.first(where: { $0.name == userName }) else {
                throw KubeConfigurationError("user \"\(userName)\" (of context \"\(contextName)\") not found in \(location); users: \(users.map(\.name).joined(separator: ", "))")
            }
            let clusterInfo = ExecClusterInfo(
                server: server, tlsServerName: cluster.tlsServerName, insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
                certificateAuthorityData: caPEM, proxyURL: cluster.proxyURL, disableCompression: cluster.disableCompression,
                config: cluster.execExtension
            )
            auth = try authentication(user.value, name: userName, origin: user.origin, home: home, cluster: clusterInfo)
        }

        // kubectl's --namespace wins over the context's (client_config.go, `Namespace()`).
        let chosenNamespace = namespace ?? context.namespace
        var configuration = KubeConfiguration(
            server: server, caPEM: caPEM, auth: auth,
            namespace: chosenNamespace.flatMap { $0.isEmpty ? nil : $0 },
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify
        )
        configuration.origin = "kubeconfig \(location) (context \(contextName))"
        return configuration
    }

    private func authentication(_ user: User, name: String, origin: String, home: String?, cluster: ExecClusterInfo) throws(KubeConfigurationError) -> KubeAuth {
        let directory = FileAccess.directory(of: origin)
        let certificate: [UInt8]?
        if let data = user.clientCertificateData, !data.isEmpty {
            certificate = try Self.base64(data, field: "client-certificate-data of user \"\(name)\"", path: origin)
        } else if let file = user.clientCertificate, !file.isEmpty {
            certificate = try FileAccess.read(FileAccess.resolve(file, relativeTo: directory, home: home), purpose: "client-certificate file of user \"\(name)\"")
        } else {
            certificate = nil
        }
        let key: [UInt8]?
        if let data = user.clientKeyData, !data.isEmpty {
            key = try Self.base64(data, field: "client-key-data of user \"\(name)\"", path: origin)
        } else if let file = user.clientKey, !file.isEmpty {
            key = try FileAccess.read(FileAccess.resolve(file, relativeTo: directory, home: home), purpose: "client-key file of user \"\(name)\"")
        } else {
            key = nil
        }
        switch (certificate, key) {
        case let (certificate?, key?): return .clientCertificate(certificatePEM: certificate, keyPEM: key)
        case (_?, nil): throw KubeConfigurationError("user \"\(name)\" in \(origin) has a client certificate but no client key")
        case (nil, _?): throw KubeConfigurationError("user \"\(name)\" in \(origin) has a client key but no client certificate")
        case (nil, nil): break
        }
        if let token = user.token, !token.isEmpty { return .bearerToken(token) }
        if let file = user.tokenFile, !file.isEmpty {
            let resolved = FileAccess.resolve(file, relativeTo: directory, home: home)
            _ = try FileAccess.read(resolved, purpose: "tokenFile of user \"\(name)\"")
            return .tokenFile(resolved)
        }
        if let exec = user.exec {
            return .exec(try ExecConfig(exec, user: name, origin: origin, home: home, cluster: cluster))
        }
        if let unsupported = user.unsupported {
            throw KubeConfigurationError("user \"\(name)\" in \(origin) uses \(unsupported), which this client does not support; use a token, tokenFile, client certificate or exec plugin")
        }
        return .none
    }

    static func base64(_ text: String, field: String, path: String) throws(KubeConfigurationError) -> [UInt8] {
        let compact = String(text.filter { !$0.isWhitespace })
        guard let data = Data(base64Encoded: compact) else {
            throw KubeConfigurationError("\(field) in \(path) is not valid base64")
        }
        return Array(data)
    }
}

/// A YAML subtree as JSON, for the cluster extension an exec plugin receives: plain scalars that YAML reads
/// as numbers, booleans or null keep that meaning; everything else is a string.
enum YAMLJSON {
    static func encode(_ node: YAMLNode) -> String {
        switch node {
        case .mapping(let pairs):
            return "{" + pairs.map { JSONString.quote($0.key) + ":" + encode($0.value) }.joined(separator: ",") + "}"
        case .sequence(let items):
            return "[" + items.map(encode).joined(separator: ",") + "]"
        case .scalar(let text, let quoted):
            if !quoted {
                if node.isNull { return "null" }
                if let bool = node.bool { return bool ? "true" : "false" }
                if Int(text) != nil || (Double(text) != nil && text.first.map { $0.isNumber || $0 == "-" } == true && !text.contains("_")) { return text }
            }
            return JSONString.quote(text)
        }
    }
}
