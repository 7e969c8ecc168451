import Foundation
import KubeTestServer
import Testing
import TestSupport

@testable import KubeClient

/// A small script plugin in a temp folder, as `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`
/// would be: it records how it was called (arguments, KUBERNETES_EXEC_INFO, an env variable from the
/// kubeconfig) and prints an ExecCredential with the token in its `token` file. With a `token-next` file,
/// that token replaces `token` after each run (a login that was stale the first time).
struct ScriptPlugin {
    let directory: TemporaryDirectory
    var path: String { directory.path + "/bin/get-token" }

    static let script = #"""
        #!/bin/sh
        dir="$(dirname "$0")/.."
        echo run >> "$dir/runs"
        printf '%s\n' "$@" > "$dir/args"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
        printf '%s' "$PLUGIN_GREETING" > "$dir/greeting"
        if [ -f "$dir/fail" ]; then echo "some progress"; echo "error: the login has expired; run plugin login" >&2; exit 3; fi
        version=$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed -n 's/.*"apiVersion":"\([^"]*\)".*/\1/p')
        [ -f "$dir/answer-version" ] && version=$(cat "$dir/answer-version")
        token=$(cat "$dir/token")
        if [ -f "$dir/token-next" ]; then mv "$dir/token-next" "$dir/token"; fi
        expiry=""
        [ -f "$dir/expires" ] && expiry=",\"expirationTimestamp\":\"$(cat "$dir/expires")\""
        if [ -f "$dir/certificate" ]; then
          printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"clientCertificateData":"%s","clientKeyData":"%s"%s}}' \
            "$version" "$(awk '{printf "%s\\n", $0}' "$dir/certificate")" "$(awk '{printf "%s\\n", $0}' "$dir/key")" "$expiry"
        else
          printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s"%s}}' "$version" "$token" "$expiry"
        fi
        """#

    init(token: String) throws {
        directory = try TemporaryDirectory()
        try directory.write("bin/get-token", Self.script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path + "/bin/get-token")
        try set("token", token)
    }

    func set(_ file: String, _ contents: String?) throws {
        let path = directory.path + "/" + file
        if let contents { try directory.write(file, contents) } else { try? FileManager.default.removeItem(atPath: path) }
    }

    func read(_ file: String) -> String { (try? String(contentsOfFile: directory.path + "/" + file, encoding: .utf8)) ?? "" }
    var runs: Int { read("runs").split(separator: "\n").count }

    /// A kubeconfig whose user runs this plugin; `exec` lines replace the default exec section.
    func kubeconfig(server: String, caPEM: String, apiVersion: String = "client.authentication.k8s.io/v1", exec: String? = nil) throws -> String {
        let section = exec ?? """
                  apiVersion: \(apiVersion)
                  command: ./bin/get-token
                  args: ["--cluster", "demo", "--verbose"]
                  env:
                  - name: PLUGIN_GREETING
                    value: "hello from the kubeconfig"
                  interactiveMode: Never
                  provideClusterInfo: true
            """
        return try directory.write("kubeconfig", """
            apiVersion: v1
            kind: Config
            current-context: plugin
            clusters:
            - name: c
              cluster:
                server: \(server)
                certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension:
                    audience: demo-audience
            users:
            - name: plugin-user
              user:
                exec:
            \(section)
            contexts:
            - name: plugin
              context: {cluster: c, user: plugin-user}
            """)
    }
}

@Suite("Exec credential plugins") struct ExecPluginTests {
    /// The rules the plugin's identity gets: enough to read a namespace.
    static let rules = [PolicyRule(resources: ["namespaces"], verbs: ["get", "list"])]

    /// On a server of each kind: a token from the plugin authenticates every request; the plugin runs once
    /// (no expiry: cached), with the kubeconfig's args and env, and KUBERNETES_EXEC_INFO carrying the cluster.
    @Test(arguments: APIServerKind.enabled, ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
    func tokenFromAScriptPlugin(_ kind: APIServerKind, apiVersion: String) async throws {
        try await Self.withServer(kind) { url, caPEM, token in
            let plugin = try ScriptPlugin(token: token)
            defer { plugin.directory.remove() }
            let kubeconfig = try plugin.kubeconfig(server: url, caPEM: caPEM, apiVersion: apiVersion)
            let configuration = try KubeConfiguration.kubeconfig(path: kubeconfig)
            try await Self.withClient(configuration) { client in
                for _ in 0..<3 { _ = try await client.get(Namespace.self, namespace: nil, name: "default") }
                _ = try await client.list(Namespace.self, namespace: nil)
            }
            #expect(plugin.runs == 1, "cached without expiry")
            #expect(plugin.read("args") == "--cluster\ndemo\n--verbose\n")
            #expect(plugin.read("greeting") == "hello from the kubeconfig")
            let info = try JSONSerialization.jsonObject(with: Data(plugin.read("exec-info").utf8)) as? [String: Any]
            #expect(info?["kind"] as? String == "ExecCredential" && info?["apiVersion"] as? String == apiVersion)
            let spec = info?["spec"] as? [String: Any]
            #expect(spec?["interactive"] as? Bool == false)
            let cluster = spec?["cluster"] as? [String: Any]
            #expect(cluster?["server"] as? String == url)
            #expect(cluster?["certificate-authority-data"] as? String == Data(caPEM.utf8).base64EncodedString())
            #expect((cluster?["config"] as? [String: Any])?["audience"] as? String == "demo-audience")
        }
    }

    /// A stale login answers 401: the plugin runs again and the request is sent once more (client-go runs
    /// the plugin after a 401; the retry is this client's, as for token files).
    @Test(arguments: APIServerKind.enabled)
    func unauthorizedRunsThePluginAgain(_ kind: APIServerKind) async throws {
        try await Self.withServer(kind) { url, caPEM, token in
            let plugin = try ScriptPlugin(token: "stale-\(UUID().uuidString)")
            defer { plugin.directory.remove() }
            try plugin.set("token-next", token)
            let configuration = try KubeConfiguration.kubeconfig(path: try plugin.kubeconfig(server: url, caPEM: caPEM))
            try await Self.withClient(configuration) { client in
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                #expect(plugin.runs == 2)
                _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                #expect(plugin.runs == 2, "the new token is cached")
            }
            // A plugin that keeps answering a bad token: one retry, then the 401 reaches the caller.
            try plugin.set("token", "bad")
            let again = try KubeConfiguration.kubeconfig(path: try plugin.kubeconfig(server: url, caPEM: caPEM))
            try await Self.withClient(again) { client in
                await #expect {
                    _ = try await client.get(Namespace.self, namespace: nil, name: "default")
                } throws: { error in
                    (error as? KubeAPIError)?.isUnauthorized == true
                }
            }
            #expect(plugin.runs == 4)
        }
    }

    /// An answer with an expiry is used until then (no margin: exec.go `credsExpired`), then the plugin runs again.
    @Test func cachedUntilTheExpirationTimestamp() async throws {
        let plugin = try ScriptPlugin(token: "t")
        defer { plugin.directory.remove() }
        let config = try Self.exec(plugin)
        var clock = Date(timeIntervalSince1970: 1_700_000_000)
        try plugin.set("expires", "2023-11-14T22:14:00Z")  // 1_700_000_040
        let now = ManualDate(clock)
        let provider = ExecCredentialProvider(config: config, isTerminal: { false }, now: { now.value })
        let first = try await provider.credentials()
        #expect(first.expiresAt == Date(timeIntervalSince1970: 1_700_000_040))
        clock += 40
        now.value = clock
        _ = try await provider.credentials()
        #expect(plugin.runs == 1, "valid up to and including its expiry")
        now.value = clock + 1
        _ = try await provider.credentials()
        #expect(plugin.runs == 2)
        // Without an expiry: forever.
        try plugin.set("expires", nil)
        now.value = clock + 1e6
        _ = try await provider.credentials()
        now.value = clock + 2e6
        _ = try await provider.credentials()
        #expect(plugin.runs == 3)
    }

    /// Every way a plugin can fail is one line naming the plugin, the kubeconfig user, the cause and the fix.
    @Test func failuresAreOneLineEach() async throws {
        let plugin = try ScriptPlugin(token: "secret-token-value")
        defer { plugin.directory.remove() }
        func failure(_ config: ExecConfig, terminal: Bool = false) async -> String {
            do {
                _ = try await ExecCredentialProvider(config: config, isTerminal: { terminal }, now: { Date() }).credentials()
                return "no error"
            } catch { return "\(error)" }
        }
        let config = try Self.exec(plugin)
        try plugin.set("fail", "")
        let exited = await failure(config)
        #expect(exited == "exec plugin \(plugin.path) (kubeconfig user \"plugin-user\") failed with exit code 3 (error: the login has expired; run plugin login); run it by hand to see why")
        try plugin.set("fail", nil)

        var missing = config
        missing.command = "no-such-plugin-\(UUID().uuidString.prefix(6))"
        missing.installHint = "Install it with: brew install no-such-plugin"
        #expect(await failure(missing) == "exec plugin \(missing.command) (kubeconfig user \"plugin-user\") not found in PATH: Install it with: brew install no-such-plugin")

        try plugin.set("answer-version", "client.authentication.k8s.io/v1beta1")
        #expect(await failure(config).contains("is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1"))
        try plugin.set("answer-version", nil)

        var always = config
        always.interactiveMode = .always
        #expect(await failure(always).contains("needs a terminal (interactiveMode: Always) but standard input is not one"))
        #expect(plugin.runs == 2, "not run without a terminal")

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: plugin.path)
        #expect(await failure(config) == "exec plugin \(plugin.path) (kubeconfig user \"plugin-user\") is not executable by this user: check its permissions (chmod +x) and the file system's noexec mount option")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin.path)

        var notJSON = config
        notJSON.command = "/bin/echo"
        notJSON.args = ["hello"]
        #expect(await failure(notJSON) == "exec plugin /bin/echo (kubeconfig user \"plugin-user\") did not print an ExecCredential as JSON on standard output (6 bytes that are not one)")
        for message in [exited, await failure(missing)] { #expect(!message.contains("secret-token-value")) }
    }

    /// Interactive when the mode allows it and standard input is a terminal (exec.go, `isInteractive`).
    @Test func interactiveFollowsTheModeAndTheTerminal() async throws {
        let plugin = try ScriptPlugin(token: "t")
        defer { plugin.directory.remove() }
        var config = try Self.exec(plugin)
        for (mode, terminal, expected) in [(ExecConfig.InteractiveMode.never, true, false), (.ifAvailable, false, false)] {
            config.interactiveMode = mode
            _ = try await ExecCredentialProvider(config: config, isTerminal: { terminal }, now: { Date() }).credentials()
            #expect(plugin.read("exec-info").contains("\"interactive\":\(expected)"), "\(mode) \(terminal): \(plugin.read("exec-info"))")
        }
    }

    /// The kubeconfig's exec section is validated as client-go validates it.
    @Test(arguments: [
        ("apiVersion: client.authentication.k8s.io/v1\n      command: x", "exec: interactiveMode must be specified for user \"plugin-user\""),
        ("apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x", "exec: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\" for user \"plugin-user\""),
        ("command: x\n      interactiveMode: Never", "exec: apiVersion must be specified for user \"plugin-user\""),
        ("apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Never", "exec: command must be specified for user \"plugin-user\""),
        ("apiVersion: client.authentication.k8s.io/v1\n      command: x\n      interactiveMode: Sometimes", "exec: invalid interactiveMode \"Sometimes\""),
        ("apiVersion: client.authentication.k8s.io/v1\n      command: x\n      interactiveMode: Never\n      env: [{value: v}]", "exec: env variable name must be specified"),
    ])
    func invalidExecSections(section: String, expected: String) throws {
        let plugin = try ScriptPlugin(token: "t")
        defer { plugin.directory.remove() }
        let path = try plugin.kubeconfig(server: "https://127.0.0.1:1", caPEM: "CA", exec: "      " + section)
        #expect {
            _ = try KubeConfiguration.kubeconfig(path: path)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    /// A plugin may answer with a client certificate instead of a token (teleport, some OIDC setups): the
    /// stand-in cannot check certificates, so a mutual-TLS server stands in for it, and the real server
    /// checks its own admin certificate.
    @Test func clientCertificateFromAPluginOnAMutualTLSServer() async throws {
        let server = try await MutualTLSServer.start()
        do {
            let plugin = try ScriptPlugin(token: "unused")
            defer { plugin.directory.remove() }
            try plugin.set("certificate", server.clientCertificatePEM)
            try plugin.set("key", server.clientKeyPEM)
            let configuration = try KubeConfiguration.kubeconfig(path: try plugin.kubeconfig(server: server.url, caPEM: server.caPEM))
            try await Self.withClient(configuration) { client in
                let namespace = try await client.get(Namespace.self, namespace: nil, name: "default")
                #expect(namespace.status?.phase == "Active")
            }
            #expect(plugin.runs == 1)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test(.enabled(if: RealAPIServer.isAvailable, "\(RealAPIServer.missingReason)"))
    func clientCertificateFromAPluginOnTheRealServer() async throws {
        let real = try #require(RealAPIServer.shared)
        let plugin = try ScriptPlugin(token: "unused")
        defer { plugin.directory.remove() }
        try plugin.set("certificate", try String(contentsOfFile: real.directory + "/pki/admin.crt", encoding: .utf8))
        try plugin.set("key", try String(contentsOfFile: real.directory + "/pki/admin.key", encoding: .utf8))
        let configuration = try KubeConfiguration.kubeconfig(path: try plugin.kubeconfig(server: real.url, caPEM: real.caPEM))
        try await Self.withClient(configuration) { client in
            let allowed = try await client.canI(verb: "list", resource: "secrets", namespace: nil)
            #expect(allowed, "the admin certificate authenticated")
        }
    }

    // MARK: - Support

    /// The plugin's exec section as loaded from a kubeconfig (no server needed).
    static func exec(_ plugin: ScriptPlugin) throws -> ExecConfig {
        let configuration = try KubeConfiguration.kubeconfig(path: try plugin.kubeconfig(server: "https://127.0.0.1:1", caPEM: "CA"))
        guard case .exec(let config) = configuration.auth else { throw PluginTestError(description: "\(configuration.auth)") }
        return config
    }

    /// A server of `kind` and a token of an identity allowed `rules` on it.
    static func withServer(_ kind: APIServerKind, _ body: (String, String, String) async throws -> Void) async throws {
        switch kind {
        case .standIn:
            let token = "plugin-token-" + UUID().uuidString.lowercased()
            try await LiveCluster.run(users: [TestUser(name: "plugin-user", token: token, rules: rules)]) { cluster in
                try await body(cluster.server.url, cluster.server.caPEM, token)
            }
        case .real:
            let real = try #require(RealAPIServer.shared)
            let identity = try await real.makeIdentity(name: "exec-plugin-" + uniqueSuffix(), rules: rules)
            try await body(real.url, real.caPEM, identity.token)
        }
    }

    static func withClient(_ configuration: KubeConfiguration, _ body: (KubernetesClient) async throws -> Void) async throws {
        let client = try KubernetesClient(configuration: configuration, logger: CapturedLogs().logger())
        do {
            try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

struct PluginTestError: Error, CustomStringConvertible { var description: String }

/// A time a test moves by hand.
final class ManualDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date) { self.date = date }
    var value: Date {
        get { lock.withLock { date } }
        set { lock.withLock { date = newValue } }
    }
}
