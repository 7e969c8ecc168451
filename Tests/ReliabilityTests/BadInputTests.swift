import Foundation
import KubeClient
import Logging
import SyncEngine
import Testing
import TestSupport

@testable import AWSClient

/// The bad-input matrix: what a user sees for each mistake, exactly, and that it is one line naming the
/// cause and the fix. docs/reliability.md lists the same messages.
@Suite struct SettingsValueTests {
    static let base = [
        "NAMESPACES": "default team-a",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "us-east-1",
    ]

    static func parse(_ changes: [String: String?]) -> Result<HelperSettings, ConfigurationError> {
        var values = base
        for (key, value) in changes { values[key] = value }
        return Result { () throws(ConfigurationError) in
            try HelperSettings.parse(SettingValues(values.mapValues { SettingValue($0, origin: "file /config/X") }))
        }
    }

    static func problems(_ changes: [String: String?]) -> [String] {
        switch parse(changes) {
        case .success: return []
        case let .failure(error): return error.problems
        }
    }

    static let emptyNamespaces =
        "NAMESPACES is empty or missing: list the target namespaces, separated by spaces, commas or newlines (e.g. \"default team-a\"), in the NAMESPACES variable or --namespaces; or set NAMESPACE_SELECTOR"

    /// As the executable says it: with the file it reads, in the folder it was given.
    static func emptyNamespaces(folder: String) -> String {
        "NAMESPACES is empty or missing: list the target namespaces, separated by spaces, commas or newlines (e.g. \"default team-a\"), in \(folder)/NAMESPACES, the NAMESPACES variable or --namespaces; or set NAMESPACE_SELECTOR"
    }

    @Test(arguments: ["", " \n", "\u{FEFF}", "\r\n\t\r\n"])
    func emptyNamespaces(_ raw: String) {
        #expect(Self.problems(["NAMESPACES": raw]) == [Self.emptyNamespaces])
    }

    @Test func missingNamespaces() {
        #expect(Self.problems(["NAMESPACES": nil]) == [Self.emptyNamespaces])
    }

    @Test func crlfBomAndTabsAreTrimmed() throws {
        let settings = try Self.parse([
            "NAMESPACES": "\u{FEFF}default\r\n\tteam-a\r\n",
            "AWS_DEFAULT_REGION": "\u{FEFF}us-east-1\r\n",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE\r\n",
            "SECRET_NAME": "\tregistry-aws-ecr \r\n",
        ]).get()
        #expect(settings.namespaces.explicitNames == ["default", "team-a"])
        #expect(settings.aws.regions == ["us-east-1"])
        #expect(settings.aws.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(settings.secretName == "registry-aws-ecr")
    }

    @Test func duplicateNamespaceIsAWarningNotAnError() throws {
        let settings = try Self.parse(["NAMESPACES": "default team-a default"]).get()
        #expect(settings.namespaces.explicitNames == ["default", "team-a"])
        #expect(settings.warnings == ["NAMESPACES (file /config/X) lists \"default\" more than once; using it once"])
    }

    @Test func invalidNamespaceNames() {
        #expect(Self.problems(["NAMESPACES": "default Team_A"]) == [
            "NAMESPACES (file /config/X): \"Team_A\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)",
        ])
        let long = String(repeating: "a", count: 64)
        #expect(Self.problems(["NAMESPACES": long]).first?.contains("\"\(long)\" is not a valid namespace name") == true)
        // Control characters are shown escaped, never raw.
        let control = Self.problems(["NAMESPACES": "team\u{7}x"])
        #expect(control.first?.contains("\"team\\u{7}x\"") == true, "\(control)")
    }

    @Test func invalidSecretName() {
        #expect(Self.problems(["SECRET_NAME": "Registry_AWS"]) == [
            "SECRET_NAME (file /config/X): \"Registry_AWS\" is not a valid secret name (lowercase letters, digits, '-' and '.', at most 253 characters); it must also match the resourceNames of the ClusterRole",
        ])
    }

    @Test func selectorWithALineBreakIsStillOneLine() {
        #expect(Self.problems(["NAMESPACES": nil, "NAMESPACE_SELECTOR": "env in (a,\r\nb"]) == [
            "NAMESPACE_SELECTOR (file /config/X): cannot parse \"env in (a,\\r\\nb\" in label selector \"env in (a,\\r\\nb\": use key=value, key!=value, key in (a,b), key notin (a,b), key, !key, key>N or key<N",
        ])
    }

    @Test(arguments: ["1e30", "99999999999999999999s", "9999999999999h", "1e309"])
    func absurdDurationIsAProblemNotACrash(_ text: String) {
        // Found by libFuzzer: these trapped converting to Duration, crashing the helper on every cycle.
        #expect(Self.problems(["REFRESH_INTERVAL": text]) == [
            "REFRESH_INTERVAL (file /config/X): \"\(text)\" is not a duration of at least 1s (e.g. 11h30m, 45m, 3600)",
        ])
    }

    @Test func malformedRegion() {
        #expect(Self.problems(["AWS_DEFAULT_REGION": "Placeholder"]) == [
            "AWS_DEFAULT_REGION (file /config/X): \"Placeholder\" is not an AWS region name (like us-east-1, eu-central-1, cn-north-1, us-gov-west-1)",
        ])
    }

    @Test func wellFormedButUnknownRegionPassesValidation() throws {
        // Only AWS knows its regions; the call itself reports it (see AWSBadInputTests).
        #expect(try Self.parse(["AWS_DEFAULT_REGION": "xx-nowhere-9"]).get().aws.regions == ["xx-nowhere-9"])
    }

    @Test func everyProblemAtOnceOneLineEachNoSecret() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let problems = Self.problems([
            "NAMESPACES": "Bad_NS", "SECRET_NAME": "UPPER", "AWS_DEFAULT_REGION": "nowhere", "AWS_ACCESS_KEY_ID": "short",
            "REFRESH_INTERVAL": "soon", "CONCURRENCY": "0",
        ])
        #expect(problems.count == 6, "\(problems)")
        for problem in problems {
            #expect(!problem.contains("\n") && !problem.contains(secret), "\(problem)")
        }
    }

    @Test func secretKeyWithoutKeyIDNeverEchoesTheSecret() {
        let problems = Self.problems(["AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": "s3cr3t-value-that-must-not-appear"])
        #expect(problems == ["AWS_ACCESS_KEY_ID is missing while AWS_SECRET_ACCESS_KEY is set (file /config/X): add the access key id that belongs to the secret key, in the AWS_ACCESS_KEY_ID variable or --aws-access-key-id"])
    }
}

/// Files in the config folders, through the executable (its FileSettingsSource reads them).
@Suite struct ConfigFileTests {
    /// The executable reading `folder`; `render` stops at the configuration when it is invalid (exit 1).
    static func render(_ folder: TemporaryFolder, environment extra: [String: String] = [:]) async throws -> HelperBinary.Result {
        var environment = ["HOME": folder.path, "AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"]
        environment.merge(extra) { _, new in new }
        return try await HelperBinary.run(
            ["render", "--config-dir", folder.path + "/config", "--aws-config-dir", folder.path + "/aws"], environment: environment
        )
    }

    static func folders(namespaces: [UInt8]?) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/config", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/aws", withIntermediateDirectories: true)
        if let namespaces { try folder.write("config/NAMESPACES", namespaces) }
        try folder.write("aws/AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE\n")
        try folder.write("aws/AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
        try folder.write("aws/AWS_DEFAULT_REGION", "us-east-1\n")
        return folder
    }

    @Test func emptyAndMissingNamespacesFile() async throws {
        for content in [[UInt8](), nil] {
            let folder = try Self.folders(namespaces: content)
            let result = try await Self.render(folder)
            #expect(result.status == 1)
            #expect(result.errorLines == ["Error: \(SettingsValueTests.emptyNamespaces(folder: folder.path + "/config"))"], "\(result.stderr)")
        }
    }

    @Test func oneMegabyteFileIsRefusedWithoutReadingIt() async throws {
        let folder = try Self.folders(namespaces: [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20))
        let result = try await Self.render(folder)
        #expect(result.status == 1)
        #expect(result.errorLines.first == "Error: NAMESPACES: \(folder.path)/config/NAMESPACES is 1048576 bytes, more than the 65536 bytes a setting may have: is the right Secret mounted?", "\(result.stderr)")
    }

    @Test func nonUTF8BytesAreShownEscaped() async throws {
        let folder = try Self.folders(namespaces: Array("default ".utf8) + [0xFF, 0xFE] + Array("team\n".utf8))
        let result = try await Self.render(folder)
        #expect(result.status == 1)
        #expect(result.errorLines == [
            "Error: NAMESPACES (file \(folder.path)/config/NAMESPACES): \"\\u{fffd}\\u{fffd}team\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)",
        ], "\(result.stderr)")
    }

    @Test func folderInPlaceOfAFile() async throws {
        let folder = try Self.folders(namespaces: nil)
        try FileManager.default.createDirectory(atPath: folder.path + "/config/NAMESPACES", withIntermediateDirectories: true)
        let result = try await Self.render(folder)
        #expect(result.status == 1)
        #expect(result.errorLines.first == "Error: NAMESPACES: \(folder.path)/config/NAMESPACES is a folder, expected a file", "\(result.stderr)")
    }

    @Test(.enabled(if: MotoEnvironment.current != nil, "needs moto: run scripts/test.sh"))
    func crlfBomAndTabsInFilesWork() async throws {
        let moto = try #require(MotoEnvironment.current)
        let folder = try Self.folders(namespaces: Array("\u{FEFF}default\r\n\tteam-a\r\n".utf8))
        try folder.write("aws/AWS_ACCESS_KEY_ID", "\u{FEFF}\(moto.allowed.accessKeyId)\r\n")
        try folder.write("aws/AWS_SECRET_ACCESS_KEY", "\(moto.allowed.secretAccessKey)\r\n")
        try folder.write("aws/AWS_DEFAULT_REGION", "\t\(moto.region)\r\n")
        let result = try await Self.render(folder, environment: ["AWS_ENDPOINT_URL": moto.endpoint])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("namespace: \"default\"") && result.stdout.contains("namespace: \"team-a\""), "\(result.stdout)")
    }
}

/// Kubeconfig mistakes, through the public loader and client.
@Suite struct KubeconfigBadInputTests {
    static func kubeconfig(_ folder: TemporaryFolder, cluster: String) throws -> String {
        let text = """
        apiVersion: v1
        kind: Config
        current-context: main
        clusters:
        - name: c
          cluster:
        \(cluster)
        contexts:
        - name: main
          context: {cluster: c, user: u}
        users:
        - name: u
          user:
            token: kubeconfig-token-value-1234
        """
        try folder.write("config", text)
        return folder.path + "/config"
    }

    static func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func missingContext() throws {
        let folder = try TemporaryFolder()
        let path = try Self.kubeconfig(folder, cluster: "    server: https://127.0.0.1:6443")
        let message = Self.message { _ = try KubeConfiguration.kubeconfig(path: path, context: "prod") }
        #expect(message == "context \"prod\" not found in \(path); contexts: main")
    }

    @Test func unreadableCertificateAuthorityFile() throws {
        let folder = try TemporaryFolder()
        let path = try Self.kubeconfig(folder, cluster: "    server: https://127.0.0.1:6443\n    certificate-authority: /nonexistent/ca.pem")
        let message = try #require(Self.message { _ = try KubeConfiguration.kubeconfig(path: path) })
        #expect(message.contains("/nonexistent/ca.pem") && !message.contains("\n"), "\(message)")
    }

    @Test func certificateAuthorityThatIsNotPEM() async throws {
        let folder = try TemporaryFolder()
        let garbage = Data("not a certificate".utf8).base64EncodedString()
        let path = try Self.kubeconfig(folder, cluster: "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(garbage)")
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        var message = ""
        do {
            let client = try KubernetesClient(configuration: configuration, logger: Logger(label: "t"))
            try await client.shutdown()
            Issue.record("a CA that is not PEM was accepted")
        } catch {
            message = "\(error)"
        }
        #expect(message.hasPrefix("the cluster CA certificate is not valid PEM"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func emptyAndTabIndentedKubeconfig() throws {
        let folder = try TemporaryFolder()
        try folder.write("empty", "")
        #expect(Self.message { _ = try KubeConfiguration.kubeconfig(path: folder.path + "/empty") } == "kubeconfig \(folder.path)/empty is empty")
        try folder.write("tabs", "apiVersion: v1\nclusters:\n\t- name: c\n")
        let message = try #require(Self.message { _ = try KubeConfiguration.kubeconfig(path: folder.path + "/tabs") })
        #expect(message.hasPrefix("kubeconfig \(folder.path)/tabs is not valid YAML"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func quotedKeyWithLineBreaksGivesAOneLineError() throws {
        // Found by libFuzzer: a quoted key spanning lines was quoted raw in the error.
        let folder = try TemporaryFolder()
        try folder.write("config", "apiVersion: v1\n'multi\n\n\nline' x\n")
        let message = try #require(Self.message { _ = try KubeConfiguration.kubeconfig(path: folder.path + "/config") })
        #expect(!message.contains("\n"), "\(message)")
        #expect(message.contains("multi\\n"), "\(message)")
    }

    @Test func contextNameWithLineBreaksGivesAOneLineError() throws {
        // Found by libFuzzer: names listed in "has no current-context ... (contexts: ...)" were raw.
        let folder = try TemporaryFolder()
        try folder.write("config", #"{"contexts": [{"name": "a\n\nb", "context": {"cluster": "c"}}]}"#)
        let message = try #require(Self.message { _ = try KubeConfiguration.kubeconfig(path: folder.path + "/config") })
        #expect(message == "kubeconfig \(folder.path)/config has no current-context; pass a context with --context (contexts: a\\n\\nb)")
    }

    @Test func tokenNeverInTheDescription() throws {
        let folder = try TemporaryFolder()
        let path = try Self.kubeconfig(folder, cluster: "    server: https://127.0.0.1:6443")
        let configuration = try KubeConfiguration.kubeconfig(path: path)
        #expect(!"\(configuration)".contains("kubeconfig-token-value-1234"))
    }
}

/// AWS answers that are not what they should be, and a region AWS does not have.
@Suite struct AWSBadInputTests {
    static func described(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func tokenWithoutColon() {
        let token = Data("AWSnocolonpassword".utf8).base64EncodedString()
        let message = Self.described { _ = try ECRAuthorization.decodeToken(token, proxyEndpoint: "https://x", expiresAt: nil) }
        #expect(message == "unexpected response to the AWS call from AWS: authorizationToken does not decode to \"user:password\" (no colon); check that the endpoint (AWS_ENDPOINT_URL*) is an AWS API.")
        #expect(message?.contains("nocolonpassword") == false)
    }

    @Test func tokenThatIsNotBase64() {
        let message = Self.described { _ = try ECRAuthorization.decodeToken("!!!not-base64-secretish!!!", proxyEndpoint: "https://x", expiresAt: nil) }
        #expect(message == "unexpected response to the AWS call from AWS: authorizationToken is not valid base64 (26 characters); check that the endpoint (AWS_ENDPOINT_URL*) is an AWS API.")
    }

    @Test func responseWithMissingFields() {
        let cases: [(String, String)] = [
            (#"{}"#, "the response has no authorizationData"),
            (#"{"authorizationData":[{"proxyEndpoint":"https://1.dkr.ecr.us-east-1.amazonaws.com"}]}"#, "authorizationData[0] has no authorizationToken"),
            (#"{"authorizationData":[{"authorizationToken":"QVdTOnB3"}]}"#, "authorizationData[0] has no proxyEndpoint"),
            (#"{"authorizationData":"QVdTOnB3"}"#, "the response is not the expected JSON (wrong type at authorizationData)"),
            (#"<html>502 Bad Gateway</html>"#, "the response is not the expected JSON (invalid JSON)"),
        ]
        for (body, cause) in cases {
            let message = Self.described { _ = try ECRClient.decodeResponse(Array(body.utf8)) }
            #expect(message == "unexpected response to ecr:GetAuthorizationToken from AWS: \(cause); check that the endpoint (AWS_ENDPOINT_URL*) is an AWS API.", "\(body)")
        }
    }

    @Test func unknownRegionIsOneLine() async throws {
        // No AWS_ENDPOINT_URL: the region's endpoint name does not resolve (as on a real network, where
        // api.ecr.xx-nowhere-9.amazonaws.com has no DNS record).
        let source = try ECRTokenSource(environment: ["AWS_MAX_ATTEMPTS": "1"], logger: Logger(label: "t"))
        defer { Task { try? await source.shutdown() } }
        var access = try SettingsValueTests.parse(["AWS_DEFAULT_REGION": "xx-nowhere-9"]).get().aws
        access.registryIDs = []
        let message: String
        do {
            _ = try await source.fetchLogin(for: access)
            Issue.record("fetch succeeded for a region that does not exist")
            return
        } catch {
            message = "\(error)"
        }
        #expect(!message.contains("\n"), "\(message)")
        #expect(message.hasPrefix("cannot reach https://api.ecr.xx-nowhere-9.amazonaws.com for ecr:GetAuthorizationToken"), "\(message)")
        #expect(message.hasSuffix("check network access, DNS and HTTPS_PROXY/NO_PROXY."), "\(message)")
    }
}
