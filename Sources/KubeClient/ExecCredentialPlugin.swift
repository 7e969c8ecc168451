#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CommonBasics
import NIOPosix

/// What an exec credential plugin receives about the cluster when `provideClusterInfo` is true: the fields
/// of client-go's `clientauthentication/v1.Cluster` (pkg/apis/clientauthentication/v1/types.go), with the CA
/// always as data.
public struct ExecClusterInfo: Sendable, Equatable {
    public var server: String
    public var tlsServerName: String?
    public var insecureSkipTLSVerify: Bool
    public var certificateAuthorityData: [UInt8]?
    public var proxyURL: String?
    public var disableCompression: Bool
    /// The cluster's `client.authentication.k8s.io/exec` extension, as JSON.
    public var config: String?
}

/// A kubeconfig user's `exec` section, validated as client-go validates it (tools/clientcmd/validation.go,
/// `validateAuthInfo`; api/v1/defaults.go for the interactiveMode default).
public struct ExecConfig: Sendable, CustomStringConvertible {
    /// The versions client-go accepts (plugin/pkg/client/auth/exec/exec.go, `apiVersions`).
    public static let apiVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    public enum InteractiveMode: String, Sendable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    public var command: String
    public var args: [String]
    /// Added to the helper's own environment (a later entry of the same name wins, as in Go's exec.Cmd).
    public var env: [(name: String, value: String)]
    public var apiVersion: String
    public var interactiveMode: InteractiveMode
    public var provideClusterInfo: Bool
    public var installHint: String?
    public var cluster: ExecClusterInfo
    /// The kubeconfig user, for messages.
    public var user: String

    public var description: String { "exec plugin \(command)" }

    init(_ entry: KubeconfigFile.ExecConfigEntry, user: String, origin: String, home: String?, cluster: ExecClusterInfo) throws(KubeConfigurationError) {
        let whose = "user \"\(user)\" in \(origin)"
        guard let command = entry.command, !command.isEmpty else {
            throw KubeConfigurationError("exec: command must be specified for \(whose) to use an exec credential plugin")
        }
        guard let apiVersion = entry.apiVersion, !apiVersion.isEmpty else {
            throw KubeConfigurationError("exec: apiVersion must be specified for \(whose) (client.authentication.k8s.io/v1 or v1beta1)")
        }
        guard Self.apiVersions.contains(apiVersion) else {
            let removed = apiVersion.hasSuffix("/v1alpha1") ? " (v1alpha1 was removed in Kubernetes 1.24)" : ""
            throw KubeConfigurationError("exec: invalid apiVersion \"\(Printable.escape(apiVersion))\" for \(whose)\(removed); use client.authentication.k8s.io/v1 or v1beta1")
        }
        var env: [(name: String, value: String)] = []
        for variable in entry.env {
            guard let name = variable.name, !name.isEmpty else {
                throw KubeConfigurationError("exec: env variable name must be specified for \(whose)")
            }
            env.append((name, variable.value))
        }
        let mode: InteractiveMode
        switch entry.interactiveMode {
        case nil, "":
            // v1 requires it; v1beta1 defaults to IfAvailable for backwards compatibility.
            guard apiVersion.hasSuffix("/v1beta1") else {
                throw KubeConfigurationError("exec: interactiveMode must be specified for \(whose) with \(apiVersion) (Never, IfAvailable or Always)")
            }
            mode = .ifAvailable
        case let text?:
            guard let parsed = InteractiveMode(rawValue: text) else {
                throw KubeConfigurationError("exec: invalid interactiveMode \"\(Printable.escape(text))\" for \(whose) (Never, IfAvailable or Always)")
            }
            mode = parsed
        }
        // A command with a path separator is relative to the kubeconfig's folder (loader.go,
        // GetAuthInfoFileReferences); a bare name is looked up in PATH.
        self.command = command.contains("/") ? FileAccess.resolve(command, relativeTo: FileAccess.directory(of: origin), home: home) : command
        self.args = entry.args
        self.env = env
        self.apiVersion = apiVersion
        self.interactiveMode = mode
        self.provideClusterInfo = entry.provideClusterInfo
        self.installHint = entry.installHint
        self.cluster = cluster
        self.user = user
    }

    public init(
        command: String, args: [String] = [], env: [(name: String, value: String)] = [], apiVersion: String = apiVersions[0],
        interactiveMode: InteractiveMode = .never, provideClusterInfo: Bool = false, installHint: String? = nil,
        cluster: ExecClusterInfo, user: String = "exec"
    ) {
        self.command = command
        self.args = args
        self.env = env
        self.apiVersion = apiVersion
        self.interactiveMode = interactiveMode
        self.provideClusterInfo = provideClusterInfo
        self.installHint = installHint
        self.cluster = cluster
        self.user = user
    }

    /// `KUBERNETES_EXEC_INFO`: an ExecCredential with only the spec (exec.go, `refreshCredsLocked`).
    func execInfo(interactive: Bool) -> String {
        var spec: [String] = []
        if provideClusterInfo {
            var cluster = ["\"server\":\(JSONString.quote(self.cluster.server))"]
            if let name = self.cluster.tlsServerName, !name.isEmpty { cluster.append("\"tls-server-name\":\(JSONString.quote(name))") }
            if self.cluster.insecureSkipTLSVerify { cluster.append("\"insecure-skip-tls-verify\":true") }
            if let ca = self.cluster.certificateAuthorityData, !ca.isEmpty {
                cluster.append("\"certificate-authority-data\":\(JSONString.quote(Data(ca).base64EncodedString()))")
            }
            if let proxy = self.cluster.proxyURL, !proxy.isEmpty { cluster.append("\"proxy-url\":\(JSONString.quote(proxy))") }
            if self.cluster.disableCompression { cluster.append("\"disable-compression\":true") }
            if let config = self.cluster.config { cluster.append("\"config\":\(config)") }
            spec.append("\"cluster\":{" + cluster.joined(separator: ",") + "}")
        }
        spec.append("\"interactive\":\(interactive)")
        return "{\"kind\":\"ExecCredential\",\"apiVersion\":\(JSONString.quote(apiVersion)),\"spec\":{" + spec.joined(separator: ",") + "}}"
    }
}

/// What a plugin answered: a bearer token, or a client certificate and key, possibly with an expiry.
/// `description` never shows the token or the key.
public struct ExecCredentials: Sendable, CustomStringConvertible, Equatable {
    public var token: String?
    public var certificatePEM: [UInt8]?
    public var keyPEM: [UInt8]?
    public var expiresAt: Date?
    /// Distinguishes one run of the plugin from the next (client-go compares the cached pointer).
    let generation: Int

    public var description: String {
        var parts: [String] = []
        if token != nil { parts.append("token") }
        if certificatePEM != nil { parts.append("client certificate") }
        if let expiresAt { parts.append("expires \(KubeTime.time(expiresAt))") }
        return "ExecCredentials(\(parts.joined(separator: ", ")))"
    }
}

/// The plugin failed or answered something unusable: one line naming the plugin, the kubeconfig user, the
/// cause and the fix. Never holds a token.
public struct ExecPluginError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// Runs an exec credential plugin and caches its answer the way client-go's exec authenticator does
/// (plugin/pkg/client/auth/exec/exec.go): one run at a time; the answer is used until its
/// `expirationTimestamp` has passed (`credsExpired`: no margin), or forever without one; after a 401 the
/// plugin runs again unless another request already refreshed it (`maybeRefreshCreds`).
public actor ExecCredentialProvider {
    public nonisolated let config: ExecConfig
    private var cached: ExecCredentials?
    private var running: Task<ExecCredentials, any Error>?
    private var generation = 0
    /// A plugin that neither answers nor exits is killed after this long (client-go waits forever; a
    /// controller must not). Interactive runs wait for the user.
    static let timeout: Duration = .seconds(120)
    /// Standard input is a terminal (tests replace it).
    let isTerminal: @Sendable () -> Bool
    let now: @Sendable () -> Date

    public init(config: ExecConfig) {
        self.init(config: config, isTerminal: { isatty(0) == 1 }, now: { Date() })
    }

    init(config: ExecConfig, isTerminal: @escaping @Sendable () -> Bool, now: @escaping @Sendable () -> Date) {
        self.config = config
        self.isTerminal = isTerminal
        self.now = now
    }

    /// The cached credentials, or a new run of the plugin when there are none or they expired.
    public func credentials() async throws -> ExecCredentials {
        if let cached, !(cached.expiresAt.map { now() > $0 } ?? false) { return cached }
        return try await refresh()
    }

    /// After a 401 with `used`: runs the plugin again unless the credentials changed meanwhile. Returns
    /// whether there are other credentials to try.
    public func refresh(after used: ExecCredentials) async -> Bool {
        if let cached, cached.generation != used.generation { return true }
        guard let fresh = try? await refresh() else { return false }
        return fresh.token != used.token || fresh.certificatePEM != used.certificatePEM
    }

    private func refresh() async throws -> ExecCredentials {
        if let running { return try await running.value }
        generation += 1
        let config = self.config
        let generation = self.generation
        let isTerminal = self.isTerminal
        let task = Task<ExecCredentials, any Error> {
            try await NIOThreadPool.singleton.runIfActive {
                try Self.run(config, generation: generation, isTerminal: isTerminal)
            }
        }
        running = task
        defer { running = nil }
        let credentials = try await task.value
        cached = credentials
        return credentials
    }

    /// One run of the plugin, blocking.
    static func run(_ config: ExecConfig, generation: Int, isTerminal: () -> Bool) throws -> ExecCredentials {
        let who = "exec plugin \(config.command) (kubeconfig user \"\(config.user)\")"
        let interactive: Bool
        switch config.interactiveMode {
        case .never: interactive = false
        case .ifAvailable: interactive = isTerminal()
        case .always:
            guard isTerminal() else {
                throw ExecPluginError(message: "\(who) needs a terminal (interactiveMode: Always) but standard input is not one; log in with it once from a terminal, or use a plugin that works unattended")
            }
            interactive = true
        }
        var environment = ProcessInfo.processInfo.environment
        for variable in config.env { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = config.execInfo(interactive: interactive)

        let result: PluginProcess.Result
        do {
            result = try PluginProcess.run(
                command: config.command, arguments: config.args, environment: environment, interactive: interactive,
                timeout: interactive ? nil : timeout
            )
        } catch .notFound(let code) where code == EACCES {
            throw ExecPluginError(message: "\(who) is not executable by this user: check its permissions (chmod +x) and the file system's noexec mount option")
        } catch .notFound {
            let hint = config.installHint.map { Printable.escape($0, limit: 300) } ?? "install it, or fix the command in the kubeconfig"
            throw ExecPluginError(message: "\(who) not found\(config.command.contains("/") ? "" : " in PATH"): \(hint)")
        } catch .timedOut {
            throw ExecPluginError(message: "\(who) did not finish within \(timeout.components.seconds)s (or printed too much) and was stopped; run it by hand to see what it waits for")
        } catch .spawnFailed(let code) {
            throw ExecPluginError(message: "\(who) could not be started: \(String(cString: strerror(code)))")
        }
        guard result.status == 0 else {
            throw ExecPluginError(message: "\(who) failed with exit code \(result.status)\(lastLine(result.stderr)); run it by hand to see why")
        }
        return try decode(result.stdout, config: config, who: who, generation: generation)
    }

    /// The plugin's answer, checked as exec.go checks it.
    static func decode(_ stdout: [UInt8], config: ExecConfig, who: String, generation: Int) throws -> ExecCredentials {
        struct Answer: Decodable {
            var apiVersion: String?
            var kind: String?
            var status: Status?
            struct Status: Decodable {
                var expirationTimestamp: String?
                var token: String?
                var clientCertificateData: String?
                var clientKeyData: String?
            }
        }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: Data(stdout))
        } catch {
            throw ExecPluginError(message: "\(who) did not print an ExecCredential as JSON on standard output (\(stdout.isEmpty ? "it printed nothing" : "\(stdout.count) bytes that are not one"))")
        }
        guard answer.kind == "ExecCredential" else {
            throw ExecPluginError(message: "\(who) printed kind \"\(Printable.escape(answer.kind ?? ""))\", not ExecCredential")
        }
        guard answer.apiVersion == config.apiVersion else {
            throw ExecPluginError(message: "\(who) is configured to use API version \(config.apiVersion), plugin returned version \(Printable.escape(answer.apiVersion ?? "(none)")): set the kubeconfig's exec apiVersion to what the plugin speaks")
        }
        guard let status = answer.status else {
            throw ExecPluginError(message: "\(who) didn't return a status field")
        }
        let token = status.token.flatMap { $0.isEmpty ? nil : $0 }
        let certificate = status.clientCertificateData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let key = status.clientKeyData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        guard token != nil || certificate != nil || key != nil else {
            throw ExecPluginError(message: "\(who) didn't return a token or cert/key pair")
        }
        guard (certificate == nil) == (key == nil) else {
            throw ExecPluginError(message: "\(who) returned only certificate or key, not both")
        }
        var expiresAt: Date?
        if let text = status.expirationTimestamp, !text.isEmpty {
            guard let date = KubeTime.parse(text) else {
                throw ExecPluginError(message: "\(who) returned expirationTimestamp \"\(Printable.escape(text))\", which is not an RFC 3339 time")
            }
            expiresAt = date
        }
        return ExecCredentials(token: token, certificatePEM: certificate, keyPEM: key, expiresAt: expiresAt, generation: generation)
    }

    /// `: <last line of standard error>`, escaped and short, or nothing.
    static func lastLine(_ stderr: [UInt8]) -> String {
        let text = String(decoding: stderr, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last.map(String.init)?.trimmingASCIIWhitespace(), !line.isEmpty else { return "" }
        return " (\(Printable.escape(line, limit: 200)))"
    }
}
