import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// What a new user meets in the first hour: typos, help, an unreachable or misconfigured cluster, a
    /// broken configuration. Needs neither moto nor a cluster (the unreachable server is a closed port).
    @Suite struct FirstHourTests {
        /// A temp folder with valid settings files, and the binary run in it.
        struct Sandbox {
            let directory: String
            let binary: String

            init() throws {
                binary = try TestEnvironment.helperBinary()
                directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-first-hour-\(UUID().uuidString)").path
                for folder in ["config", "aws", "home"] {
                    try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
                }
                try write("config/NAMESPACES", "default team-a\n")
                try write("aws/AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE\n")
                try write("aws/AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
                try write("aws/AWS_DEFAULT_REGION", "us-east-1\n")
                try write("kubeconfig", KubeTestServer.kubeconfig(server: "https://127.0.0.1:1", caPEM: "", token: "t0ken-\(UUID().uuidString)"))
            }

            func write(_ name: String, _ text: String) throws {
                try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
            }

            func remove() { try? FileManager.default.removeItem(atPath: directory) }

            var locations: [String] {
                ["--config-dir", directory + "/config", "--aws-config-dir", directory + "/aws", "--kubeconfig", directory + "/kubeconfig"]
            }

            /// Runs the binary; returns what it printed and how long it took.
            func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> (CommandResult, Duration) {
                var environment = [
                    "PATH": "/usr/bin:/bin", "HOME": directory + "/home", "HTTP_PORT": "0",
                    // AWS is a closed port too: one attempt, refused at once.
                    "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1",
                ]
                environment.merge(extra) { _, new in new }
                let started = ContinuousClock.now
                let process = try ChildProcess(executable: binary, arguments: arguments, environment: environment, outputDirectory: directory)
                let termination = try await process.wait(timeout: .seconds(60))
                let elapsed = started.duration(to: .now)
                return (CommandResult(termination: termination, stdout: process.stdout, stderr: process.stderr), elapsed)
            }
        }

        /// Help text with its line wrapping undone.
        static func flat(_ text: String) -> String {
            text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        }

        static func withSandbox(_ body: (Sandbox) async throws -> Void) async throws {
            let sandbox = try Sandbox()
            defer { sandbox.remove() }
            try await body(sandbox)
        }

        // MARK: - The command line

        @Test func aTypoGetsTheNearestCommand() async throws {
            try await Self.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["synk"])
                #expect(result.exitCode == 64, "\(result)")
                #expect(result.stderrLines == [
                    "Error: 'synk' is not a command of aws-ecr-cred-helper; did you mean 'sync'? Commands: run, sync, render, check, status, cleanup, credential-provider, completion, version; see 'aws-ecr-cred-helper --help'",
                ], "\(result)")
                #expect(result.stdout.isEmpty)
                let (stat, _) = try await sandbox.run(["stat"])
                #expect(stat.stderr.contains("did you mean 'status'?"), "\(stat)")
            }
        }

        @Test func aTypoInAFlagGetsTheNearestFlagOfThatCommand() async throws {
            try await Self.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["sync", "--namespace-selctor", "a=b"])
                #expect(result.exitCode == 64, "\(result)")
                #expect(result.stderrLines == ["Error: unknown option '--namespace-selctor' for sync; did you mean '--namespace-selector'? See 'aws-ecr-cred-helper sync --help'"], "\(result)")
                let (secret, _) = try await sandbox.run(["sync", "--aws-secret-access-key", "x"])
                #expect(secret.stderr.contains("AWS_SECRET_ACCESS_KEY has no flag"), "\(secret)")
                #expect(!secret.stderr.contains("x\n"))
            }
        }

        /// kubectl's habits (issue 24): `-n` is not a flag of ours; `--namespace X` without NAMESPACES gets a hint.
        @Test func kubectlNamespaceHabitsGetAHint() async throws {
            try await Self.withSandbox { sandbox in
                let (short, _) = try await sandbox.run(["sync", "-n", "nu-a"] + sandbox.locations)
                #expect(short.exitCode == 64, "\(short)")
                #expect(short.stderrLines == ["Error: sync has no -n: the target namespaces are --namespaces <list> (NAMESPACES), e.g. --namespaces team-a; --namespace is the helper's own namespace, as kubectl's -n"], "\(short)")
                try FileManager.default.removeItem(atPath: sandbox.directory + "/config/NAMESPACES")
                let (long, _) = try await sandbox.run(["sync", "--namespace", "nu-a"] + sandbox.locations)
                #expect(long.exitCode == 1, "\(long)")
                #expect(long.stderr.contains("(--namespace nu-a is the helper's own namespace, not a target: did you mean --namespaces nu-a?)"), "\(long)")
            }
        }

        /// An empty SECRET_NAME file is an error naming the file (issue 24), not the default used silently.
        @Test func emptySecretNameFileIsAnError() async throws {
            try await Self.withSandbox { sandbox in
                try sandbox.write("config/SECRET_NAME", "\n")
                let (result, _) = try await sandbox.run(["status"] + sandbox.locations)
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.stderrLines == [
                    "Error: SECRET_NAME (file \(sandbox.directory)/config/SECRET_NAME): is empty: write the secret's name (it must match the resourceNames of the ClusterRole), or remove it to use the default registry-aws-ecr",
                ], "\(result)")
            }
        }

        @Test func aCommandRefusesTheSettingsItDoesNotUse() async throws {
            try await Self.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["status", "--concurrency", "3"])
                #expect(result.exitCode == 64, "\(result)")
                #expect(result.stderrLines == ["Error: status does not use --concurrency (CONCURRENCY); it is a setting of run, sync"], "\(result)")
                let (render, _) = try await sandbox.run(["render", "--namespace", "ops"])
                #expect(render.stderrLines == ["Error: render does not use --namespace; it is a setting of run, sync, check, status, cleanup"], "\(render)")
            }
        }

        /// Each command shows only the settings it uses, each with its default and its variable and file.
        @Test func helpShowsEachCommandItsOwnSettings() async throws {
            try await Self.withSandbox { sandbox in
                let (status, _) = try await sandbox.run(["status", "--help"])
                #expect(status.exitCode == 0, "\(status)")
                for expected in [
                    "--namespaces <list>", "--namespace-selector <selector>", "--secret-name <name>", "Default: registry-aws-ecr.",
                    "variable SECRET_NAME, file SECRET_NAME in --config-dir", "--kubeconfig <path>", "--context <name>", "--namespace <name>",
                    "--config-dir <dir>", "Default: /config.", "--log-format <format>", "-o, --output <format>",
                ] {
                    #expect(Self.flat(status.stdout).contains(expected), "status --help lacks \(expected):\n\(status.stdout)")
                }
                for unused in ["--concurrency", "--aws-region", "--refresh-interval", "--http-port", "--leader-election", "--dry-run", "--aws-config-dir", "AWS_ACCESS_KEY_ID"] {
                    #expect(!status.stdout.contains(unused), "status --help shows \(unused), which status does not use")
                }
                let lines = status.stdout.split(separator: "\n")
                // 13 of its own (--instance among them), and fleet mode's four (--clusters-dir,
                // --cluster-secret-selector, --cluster, --include-local).
                #expect(lines.filter { $0.hasPrefix("  --") }.count <= 17, "\(status.stdout)")
                #expect(lines.allSatisfy { $0.count <= 100 }, "lines wrap at 100 columns")

                let (cleanup, _) = try await sandbox.run(["cleanup", "--help"])
                #expect(cleanup.stdout.contains("--dry-run") && cleanup.stdout.contains("--patch-service-accounts"), "\(cleanup.stdout)")
                // Cleanup removes only this installation's secrets, in the namespaces it selects.
                #expect(cleanup.stdout.contains("--namespaces ") && cleanup.stdout.contains("--instance ") && cleanup.stdout.contains("--yes"), "\(cleanup.stdout)")

                let (run, _) = try await sandbox.run(["run", "--help"])
                for expected in ["--http-port <port>", "Default: 8080.", "--leader-election-lease-duration <duration>", "Default: 15s.", "--leader-election-renew-deadline <duration>", "POD_NAME", "AWS_SECRET_ACCESS_KEY", "file in --aws-config-dir"] {
                    #expect(Self.flat(run.stdout).contains(expected), "run --help lacks \(expected)")
                }
            }
        }

        @Test(arguments: [
            ("sync", ["  0     every target namespace holds a fresh secret", "  1     nothing could be attempted", "  2     some namespaces do not hold a fresh secret", "  64    the command line"]),
            ("status", ["  0     every target namespace holds", "  1     status could not be read", "  2     some namespace's secret is missing, expired or foreign"]),
            ("check", ["  0     every check passed", "  1     something failed"]),
        ])
        func helpStatesTheExitCodes(command: String, expected: [String]) async throws {
            try await Self.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["help", command])
                #expect(result.exitCode == 0)
                #expect(result.stdout.contains("EXIT CODES:"), "\(result.stdout)")
                for line in expected { #expect(result.stdout.contains(line), "\(command) --help lacks \"\(line)\":\n\(result.stdout)") }
            }
        }

        /// The README and --help say the same about how lists are separated (the parser splits on both).
        @Test func helpAndReadmeAgreeOnSeparators() async throws {
            try await Self.withSandbox { sandbox in
                let (result, _) = try await sandbox.run(["sync", "--help"])
                let phrase = "separated by spaces, commas or newlines"
                #expect(Self.flat(result.stdout).contains(phrase), "\(result.stdout)")
                let readme = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
                #expect(readme.contains(phrase))
                #expect(!readme.contains("space-separated"), "the README must not promise spaces only")
            }
        }

        @Test func withLogFormatJSONEveryErrorLineIsJSON() async throws {
            try await Self.withSandbox { sandbox in
                for arguments in [["synk"], ["status"] + sandbox.locations, ["sync", "--namespaces", "Bad_Name"] + sandbox.locations] {
                    let (result, _) = try await sandbox.run(arguments, environment: ["LOG_FORMAT": "json"])
                    #expect(result.exitCode != 0)
                    #expect(!result.stderrLines.isEmpty)
                    for line in result.stderrLines {
                        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                        #expect(object?["level"] as? String == "error" && object?["msg"] != nil, "not a JSON error line: \(line)")
                    }
                }
            }
        }

        // MARK: - An API server that is not there

        /// One line naming the server, the cause in plain words and the fix, within 2 s: the bound a user at a
        /// terminal relies on (the issue's). The refusal itself takes microseconds; the rest is starting the
        /// debug binary, so the bound holds with room even on a loaded machine.
        @Test(arguments: ["status", "sync", "cleanup"])
        func refusedConnectionIsOneLineWithinTwoSeconds(_ command: String) async throws {
            try await Self.withSandbox { sandbox in
                let (result, elapsed) = try await sandbox.run([command] + sandbox.locations)
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.stderrLines == [
                    "Error: cannot reach the Kubernetes API server at https://127.0.0.1:1: connection refused (nothing listens at that address and port); check the server address (the kubeconfig's cluster server, or KUBERNETES_SERVICE_HOST/PORT in a pod) and that the API server is running",
                ], "\(result)")
                #expect(elapsed < .seconds(2), "\(command) took \(elapsed) to report a refused connection")
            }
        }

        /// A port that accepts TCP and never answers TLS (a plain-HTTP port, another service): "TLS handshake
        /// timeout", kubectl's words, not a connect timeout (which would send the user to the firewall).
        @Test func silentTLSPortIsATLSHandshakeTimeout() async throws {
            let listener = try SilentListener()
            defer { listener.close() }
            try await Self.withSandbox { sandbox in
                let server = "https://127.0.0.1:\(listener.port)"
                try sandbox.write("kubeconfig", """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: c, cluster: {server: "\(server)"}}]
                    users: [{name: u, user: {token: t}}]
                    contexts: [{name: c, context: {cluster: c, user: u}}]
                    current-context: c
                    """)
                let (result, _) = try await sandbox.run(["status"] + sandbox.locations)
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.stderrLines == [
                    "Error: cannot reach the Kubernetes API server at \(server): TLS handshake timeout (the address accepts connections but never completed TLS); check that it is the API server's HTTPS port, not a plain-HTTP port or another service, and the proxy or load balancer in front of it",
                ], "\(result)")
            }
        }

        /// A settings folder given but absent (a mount that did not happen): one warning at start, naming the
        /// setting and where it was given; not a failure, since optional files may be absent on purpose.
        @Test func anAbsentConfigDirIsOneWarning() async throws {
            try await Self.withSandbox { sandbox in
                let absent = sandbox.directory + "/absent"
                let (result, _) = try await sandbox.run(["status"] + sandbox.locations + ["--config-dir", absent, "--namespaces", "default"])
                #expect(result.exitCode == 1, "the server is a closed port: \(result)")
                let warnings = result.stderrLines.filter { $0.contains("WARNING") }
                #expect(warnings.count == 1 && warnings.first?.hasSuffix(" WARNING CONFIG_DIR (flag --config-dir): the folder \(absent) does not exist; no setting is read from files there, only from the environment and flags") == true, "\(result)")
                #expect(result.stderrLines.last?.hasPrefix("Error: cannot reach the Kubernetes API server") == true, "\(result)")
            }
        }

        /// `check` asks the server once; when it cannot be reached the RBAC rules are skipped, not failed one by one.
        @Test func checkTestsConnectivityOnceThenSkipsTheRules() async throws {
            try await Self.withSandbox { sandbox in
                let (result, elapsed) = try await sandbox.run(["check"] + sandbox.locations)
                #expect(result.exitCode == 1, "\(result)")
                let refused = result.stdoutLines.filter { $0.contains("connection refused") }
                #expect(refused.count == 2, "one for AWS (a closed port too), one for the API server: \(result)")
                #expect(result.stdoutLines.contains { $0.hasPrefix("kubernetes API server") && $0.contains("FAIL") && $0.contains("https://127.0.0.1:1") }, "\(result)")
                #expect(result.stdoutLines.contains { $0.hasPrefix("RBAC") && $0.contains("skipped") }, "\(result)")
                #expect(!result.stdout.contains("secrets/"), "no rule was asked: \(result)")
                #expect(elapsed < .seconds(2), "check took \(elapsed)")
            }
        }

        /// A server whose certificate the kubeconfig's CA did not sign: TLS, named as such, on both servers.
        @Test(arguments: APIServerKind.enabled)
        func untrustedServerCertificateIsATLSLine(_ kind: APIServerKind) async throws {
            // Another CA than the server's: a second stand-in's.
            let other = try await KubeTestServer.start(KubeTestServerConfiguration())
            let otherCA = other.caPEM
            try? await other.stop()
            let standIn: KubeTestServer?
            let url: String
            switch kind {
            case .standIn:
                let server = try await KubeTestServer.start(KubeTestServerConfiguration(users: [TestUser(name: "u", token: "tok", rules: [.everything])]))
                standIn = server
                url = server.url
            case .real:
                standIn = nil
                url = try #require(RealAPIServer.shared).url
            }
            do {
                try await Self.withSandbox { sandbox in
                    try sandbox.write("kubeconfig", KubeTestServer.kubeconfig(server: url, caPEM: otherCA, token: "tok"))
                    let (result, elapsed) = try await sandbox.run(["status"] + sandbox.locations)
                    #expect(result.exitCode == 1, "\(result)")
                    #expect(result.stderrLines.count == 1, "\(result)")
                    // What the certificate holds, never BoringSSL's internals or a source path.
                    #expect(result.stderrLines == [
                        "Error: TLS with the Kubernetes API server at \(url) failed: its certificate (for \(kind.certificateNames)) is not signed by the cluster CA this client trusts; check the cluster CA (certificate-authority-data in the kubeconfig, ca.crt in a pod) is this cluster's",
                    ], "\(result)")
                    #expect(elapsed < .seconds(2), "\(elapsed)")
                }
            } catch {
                try? await standIn?.stop()
                throw error
            }
            try? await standIn?.stop()
        }

        // MARK: - Configuration problems

        /// An invalid namespace, an invalid region and a quoted secret key: all three at once, each naming
        /// the file it came from; in `check`, FAIL rows and never "configuration ok".
        @Test func everyConfigurationProblemAtOnceWithItsFile() async throws {
            try await Self.withSandbox { sandbox in
                try sandbox.write("config/NAMESPACES", "default Team_A\n")
                try sandbox.write("aws/AWS_DEFAULT_REGION", "Placeholder\n")
                try sandbox.write("aws/AWS_SECRET_ACCESS_KEY", "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n")
                let config = sandbox.directory + "/config", aws = sandbox.directory + "/aws"
                let expected = [
                    "NAMESPACES (file \(config)/NAMESPACES): \"Team_A\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)",
                    "AWS_SECRET_ACCESS_KEY (file \(aws)/AWS_SECRET_ACCESS_KEY): the value contains quote characters: remove the quotes",
                    "AWS_DEFAULT_REGION (file \(aws)/AWS_DEFAULT_REGION): \"Placeholder\" is not an AWS region name (like us-east-1, eu-central-1, cn-north-1, us-gov-west-1)",
                ]
                for command in ["sync", "render"] {
                    let (result, _) = try await sandbox.run([command] + sandbox.locations.dropLast(2))
                    #expect(result.exitCode == 1, "\(command): \(result)")
                    #expect(result.stderrLines == ["Error: " + expected[0]] + expected.dropFirst(), "\(command): \(result)")
                    #expect(!result.output.contains("wJalrXUtnFEMI"), "the secret key was echoed")
                }
                let (check, _) = try await sandbox.run(["check"] + sandbox.locations)
                #expect(check.exitCode == 1, "\(check)")
                #expect(!check.stdout.contains("configuration  ok"), "\(check)")
                #expect(check.stdoutLines.filter { $0.hasPrefix("configuration") && $0.contains("FAIL") }.count == 3, "\(check)")
                #expect(!check.stdout.contains("GetAuthorizationToken"), "nothing is contacted while the configuration is invalid: \(check)")
            }
        }

        /// The advice for a missing value names the folder in use, not the default /config.
        @Test func emptyNamespacesNamesTheConfigDirInUse() async throws {
            try await Self.withSandbox { sandbox in
                try sandbox.write("config/NAMESPACES", "\n")
                let (result, _) = try await sandbox.run(["sync"] + sandbox.locations)
                #expect(result.stderrLines == [
                    "Error: NAMESPACES is empty or missing: list the target namespaces, separated by spaces, commas or newlines (e.g. \"default team-a\"), in \(sandbox.directory)/config/NAMESPACES, the NAMESPACES variable or --namespaces; or set NAMESPACE_SELECTOR",
                ], "\(result)")
            }
        }

        /// Process settings go through the same model: every problem at once, with its source.
        @Test func processSettingsAreReportedWithTheRest() async throws {
            try await Self.withSandbox { sandbox in
                try sandbox.write("config/NAMESPACES", "Bad_Name\n")
                let (result, _) = try await sandbox.run(
                    ["run", "--http-port", "80a"] + sandbox.locations,
                    environment: ["LEADER_ELECTION": "yes please", "KUBERNETES_SERVICE_HOST": ""]
                )
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.stderrLines == [
                    "Error: HTTP_PORT (flag --http-port): \"80a\" is not a port number from 0 to 65535 (0 turns the listener off)",
                    "LEADER_ELECTION (environment LEADER_ELECTION): \"yes please\" is not true or false",
                    "NAMESPACES (file \(sandbox.directory)/config/NAMESPACES): \"Bad_Name\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)",
                ], "\(result)")
            }
        }
    }
}

extension APIServerKind {
    /// The subject alternative names of the server's certificate, as the helper names them.
    var certificateNames: String {
        switch self {
        case .standIn: "localhost, kubernetes, kubernetes.default, kubernetes.default.svc, 127.0.0.1, ::1"
        // The envtest PKI: the service IP 10.0.0.1 first after the loopback address.
        case .real: "127.0.0.1, 10.0.0.1, localhost, kubernetes, kubernetes.default, kubernetes.default.svc"
        }
    }
}
