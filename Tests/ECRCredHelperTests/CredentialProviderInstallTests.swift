import Foundation
import TestSupport
import Testing
import Yams

/// `credential-provider install`: the binary copied, the kubelet's CredentialProviderConfig written or merged
/// without touching other providers, the node's credentials file written from a Secret's files.
extension HelperBinaryTests {
    @Suite struct CredentialProviderInstallTests {
        let root: String

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-install-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }

        func install(_ arguments: [String]) async throws -> CommandResult {
            let binary = try TestEnvironment.helperBinary()
            let child = try ChildProcess(
                executable: binary,
                arguments: ["credential-provider", "install", "--host-root", root, "--bin-dir", "/usr/libexec/kubernetes/credential-provider",
                            "--source", binary] + arguments,
                environment: ["PATH": "/usr/bin:/bin"], outputDirectory: root)
            let termination = try await child.wait(timeout: .seconds(60))
            return CommandResult(termination: termination, stdout: child.stdout, stderr: child.stderr)
        }

        func read(_ path: String) throws -> String {
            try String(contentsOfFile: root + path, encoding: .utf8)
        }

        func yaml(_ path: String) throws -> [String: Any] {
            try #require(try Yams.load(yaml: try read(path)) as? [String: Any])
        }

        func providers(_ path: String) throws -> [[String: Any]] {
            try #require(try yaml(path)["providers"] as? [[String: Any]])
        }

        static let existing = """
            # written by the node's image builder
            apiVersion: kubelet.config.k8s.io/v1
            kind: CredentialProviderConfig
            providers:
            - name: ecr-credential-provider
              matchImages:
              - "*.dkr.ecr.*.amazonaws.com"
              defaultCacheDuration: 12h
              apiVersion: credentialprovider.kubelet.k8s.io/v1
              args: [get-credentials]
              env:
              - name: AWS_PROFILE
                value: 'node'
            - name: gcr-helper
              matchImages: ["gcr.io", "*.gcr.io"]
              defaultCacheDuration: "1m"
              apiVersion: credentialprovider.kubelet.k8s.io/v1beta1

            """

        /// A --bin-dir whose folders do not exist (a typo makes a tree): created, and said, never silently.
        @Test func foldersItCreatesAreNamed() async throws {
            let binary = try TestEnvironment.helperBinary()
            let arguments = ["credential-provider", "install", "--host-root", root, "--bin-dir", "/nonexistent/bin", "--source", binary, "--config", "/provider.yaml"]
            let first = try await ChildProcess.run(binary, arguments, environment: ["PATH": "/usr/bin:/bin"], outputDirectory: root)
            #expect(first.exitCode == 0, "\(first)")
            #expect(first.stdoutLines.first == "created /nonexistent, /nonexistent/bin: they did not exist", "\(first)")
            let again = try await ChildProcess.run(binary, arguments, environment: ["PATH": "/usr/bin:/bin"], outputDirectory: root)
            #expect(again.exitCode == 0 && !again.stdout.contains("created"), "nothing created the second time: \(again)")
        }

        @Test func mergesIntoAnExistingConfigKeepingOtherProviders() async throws {
            let config = "/etc/kubernetes/credential-providers.yaml"
            try FileManager.default.createDirectory(atPath: root + "/etc/kubernetes", withIntermediateDirectories: true)
            try Data(Self.existing.utf8).write(to: URL(fileURLWithPath: root + config))
            let before = try #require(try Yams.load(yaml: Self.existing) as? [String: Any])
            let otherProviders = try #require(before["providers"] as? [[String: Any]])

            let result = try await install(["--config", config, "--env", "AWS_PROFILE=ecr"])
            #expect(result.exitCode == 0, "\(result)")
            #expect(result.stdout.contains("--image-credential-provider-config=\(config)"))
            let after = try providers(config)
            #expect(after.count == 3)
            // The other providers, field for field (types included: 12h stays a string, args a list).
            #expect(NSDictionary(dictionary: after[0]) == NSDictionary(dictionary: otherProviders[0]))
            #expect(NSDictionary(dictionary: after[1]) == NSDictionary(dictionary: otherProviders[1]))
            let ours = after[2]
            #expect(ours["name"] as? String == "aws-ecr-cred-helper")
            #expect(ours["apiVersion"] as? String == "credentialprovider.kubelet.k8s.io/v1")
            #expect(ours["args"] as? [String] == ["credential-provider"])
            #expect(ours["defaultCacheDuration"] as? String == "1h")
            #expect((ours["matchImages"] as? [String])?.contains("*.dkr.ecr.*.amazonaws.com") == true)
            #expect((ours["matchImages"] as? [String])?.contains("public.ecr.aws") == true)
            #expect(ours["env"] as? [[String: String]] == [["name": "AWS_PROFILE", "value": "ecr"]])
            #expect(ours["tokenAttributes"] == nil)
            #expect(try yaml(config)["kind"] as? String == "CredentialProviderConfig")

            // The binary is in place and runs.
            let installed = root + "/usr/libexec/kubernetes/credential-provider/aws-ecr-cred-helper"
            #expect(FileManager.default.isExecutableFile(atPath: installed))

            // Again: nothing changes. With ServiceAccount-token mode: our entry is replaced in place.
            let first = try read(config)
            #expect(try await install(["--config", config, "--env", "AWS_PROFILE=ecr"]).exitCode == 0)
            #expect(try read(config) == first)
            let sa = try await install(["--config", config, "--service-account-token-audience", "sts.amazonaws.com"])
            #expect(sa.exitCode == 0, "\(sa)")
            let replaced = try providers(config)
            #expect(replaced.count == 3)
            let attributes = try #require(replaced[2]["tokenAttributes"] as? [String: Any])
            #expect(attributes["serviceAccountTokenAudience"] as? String == "sts.amazonaws.com")
            // Per-ServiceAccount cache: one ServiceAccount's credentials are never served to another.
            #expect(attributes["cacheType"] as? String == "ServiceAccount")
            #expect(attributes["requireServiceAccount"] as? Bool == false)
            #expect(attributes["optionalServiceAccountAnnotationKeys"] as? [String]
                    == ["aws-ecr-cred-helper/role-arn", "eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"])
            #expect(NSDictionary(dictionary: replaced[0]) == NSDictionary(dictionary: otherProviders[0]))
            // No temporary file is left beside the config.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/etc/kubernetes").filter { $0.contains(".tmp-") }
            #expect(leftovers.isEmpty)
        }

        @Test func writesANewConfigAndIntoAFolder() async throws {
            let result = try await install(["--config", "/etc/kubernetes/image-credential-provider-config.yaml"])
            #expect(result.exitCode == 0, "\(result)")
            let document = try yaml("/etc/kubernetes/image-credential-provider-config.yaml")
            #expect(document["apiVersion"] as? String == "kubelet.config.k8s.io/v1")
            #expect((document["providers"] as? [[String: Any]])?.count == 1)

            // A folder of configs (newer kubelets): our own file inside it, others untouched.
            let folder = "/var/lib/rancher/credentialprovider/config.d"
            try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
            try Data(Self.existing.utf8).write(to: URL(fileURLWithPath: root + folder + "/10-other.yaml"))
            #expect(try await install(["--config", folder]).exitCode == 0)
            #expect(try read(folder + "/10-other.yaml") == Self.existing)
            #expect(try providers(folder + "/aws-ecr-cred-helper.yaml").count == 1)
        }

        /// The kubelet reads its CredentialProviderConfig as YAML or JSON: a JSON file is merged and stays JSON.
        @Test func mergesIntoAJSONConfigAndKeepsItJSON() async throws {
            let config = "/etc/kubernetes/credential-providers.json"
            try FileManager.default.createDirectory(atPath: root + "/etc/kubernetes", withIntermediateDirectories: true)
            let existing = """
                {
                  "apiVersion": "kubelet.config.k8s.io/v1",
                  "kind": "CredentialProviderConfig",
                  "providers": [
                    {
                      "name": "gcr-helper",
                      "matchImages": ["gcr.io", "*.gcr.io"],
                      "defaultCacheDuration": "1m",
                      "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                      "tokenAttributes": {"serviceAccountTokenAudience": "gcp", "cacheType": "Token", "requireServiceAccount": true}
                    }
                  ]
                }

                """
            try Data(existing.utf8).write(to: URL(fileURLWithPath: root + config))
            let before = try #require(try JSONSerialization.jsonObject(with: Data(existing.utf8)) as? [String: Any])
            let result = try await install(["--config", config, "--service-account-token-audience", "sts.amazonaws.com"])
            #expect(result.exitCode == 0, "\(result)")
            let after = try #require(try JSONSerialization.jsonObject(with: Data(try read(config).utf8)) as? [String: Any])
            let providers = try #require(after["providers"] as? [[String: Any]])
            #expect(providers.count == 2)
            let other = try #require((before["providers"] as? [[String: Any]])?.first)
            #expect(NSDictionary(dictionary: providers[0]) == NSDictionary(dictionary: other))
            #expect(providers[1]["name"] as? String == "aws-ecr-cred-helper")
            let attributes = try #require(providers[1]["tokenAttributes"] as? [String: Any])
            #expect(attributes["cacheType"] as? String == "ServiceAccount")
            #expect(attributes["requireServiceAccount"] as? Bool == false)
            // Again: nothing changes.
            let first = try read(config)
            #expect(try await install(["--config", config, "--service-account-token-audience", "sts.amazonaws.com"]).exitCode == 0)
            #expect(try read(config) == first)

            // A new file named *.json is written as JSON.
            let fresh = "/etc/kubernetes/new.json"
            #expect(try await install(["--config", fresh]).exitCode == 0)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(try read(fresh).utf8)) as? [String: Any])
            #expect(document["kind"] as? String == "CredentialProviderConfig")
            #expect((document["providers"] as? [[String: Any]])?.first?["args"] as? [String] == ["credential-provider"])
        }

        /// In a folder of configs the kubelet refuses a provider name found in two files: an entry of ours
        /// already in one of them is replaced there, and no second file is written.
        @Test func inAFolderOurEntryIsReplacedInTheFileThatHasIt() async throws {
            let folder = "/etc/kubernetes/credential-providers.d"
            try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
            let handWritten = Self.existing + """
                - name: aws-ecr-cred-helper
                  matchImages: ["*.dkr.ecr.*.amazonaws.com"]
                  defaultCacheDuration: 5m
                  apiVersion: credentialprovider.kubelet.k8s.io/v1beta1

                """
            try Data(handWritten.utf8).write(to: URL(fileURLWithPath: root + folder + "/20-nodes.yaml"))
            try Data("not: [a config\n".utf8).write(to: URL(fileURLWithPath: root + folder + "/05-broken.yaml"))
            let result = try await install(["--config", folder])
            #expect(result.exitCode == 0, "\(result)")
            #expect(result.stdout.contains("\(folder)/20-nodes.yaml"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: root + folder + "/aws-ecr-cred-helper.yaml"))
            let providers = try providers(folder + "/20-nodes.yaml")
            #expect(providers.map { $0["name"] as? String } == ["ecr-credential-provider", "gcr-helper", "aws-ecr-cred-helper"])
            #expect(providers[2]["apiVersion"] as? String == "credentialprovider.kubelet.k8s.io/v1")
            #expect(providers[2]["defaultCacheDuration"] as? String == "1h")
        }

        /// A DaemonSet's container must not exit (it would be restarted in a loop): with --watch and no
        /// Secret (ServiceAccount-token mode only) it installs, prints the kubelet flags at once, stays, and
        /// ends cleanly on SIGTERM.
        @Test func watchWithoutASecretStaysUntilSIGTERM() async throws {
            let binary = try TestEnvironment.helperBinary()
            let child = try ChildProcess(
                executable: binary,
                arguments: ["credential-provider", "install", "--host-root", root, "--bin-dir", "/bin-dir", "--source", binary,
                            "--config", "/etc/config.yaml", "--service-account-token-audience", "sts.amazonaws.com", "--watch"],
                environment: ["PATH": "/usr/bin:/bin"], outputDirectory: root)
            defer { child.killNow() }
            try await eventually("the kubelet flags printed while it keeps running", timeout: .seconds(60)) {
                child.stdout.contains("--image-credential-provider-config=/etc/config.yaml")
            }
            #expect(child.isRunning)
            #expect(try providers("/etc/config.yaml").first?["tokenAttributes"] != nil)
            child.terminate()
            let termination = try await child.wait(timeout: .seconds(30))
            #expect(CommandResult(termination: termination, stdout: child.stdout, stderr: child.stderr).exitCode == 0, "\(termination)")
        }

        @Test func refusesWhatIsNotACredentialProviderConfigAndChangesNothing() async throws {
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            let kubelet = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
            try Data(kubelet.utf8).write(to: URL(fileURLWithPath: root + "/etc/kubelet.yaml"))
            let result = try await install(["--config", "/etc/kubelet.yaml"])
            #expect(result.exitCode == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderrLines.count == 1 && result.stderr.contains("KubeletConfiguration"), "\(result)")
            #expect(try read("/etc/kubelet.yaml") == kubelet)

            // A cache duration the kubelet could not read is a usage error; nothing is written.
            for duration in ["1d", "3600", "-1h", "1h30", "soon"] {
                let bad = try await install(["--config", "/etc/kubelet.yaml", "--default-cache-duration", duration])
                #expect(bad.exitCode == 64 && bad.stdout.isEmpty && bad.stderrLines.count == 1, "\(duration): \(bad)")
            }
            #expect(try read("/etc/kubelet.yaml") == kubelet)

            try Data("providers: [\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/broken.yaml"))
            let broken = try await install(["--config", "/etc/broken.yaml"])
            #expect(broken.exitCode == 1 && broken.stderrLines.count == 1 && broken.stderr.contains("nothing was changed"), "\(broken)")
        }

        /// The DaemonSet's mode: a Secret update (Kubernetes swaps the mount's `..data` link) rewrites the file.
        @Test func watchRewritesTheCredentialsFileWhenTheSecretChanges() async throws {
            let mount = root + "/mount"
            func writeVersion(_ name: String, keyID: String) throws {
                let folder = mount + "/" + name
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(keyID.utf8).write(to: URL(fileURLWithPath: folder + "/AWS_ACCESS_KEY_ID"))
                try Data("secret-\(name)-value-0123456789".utf8).write(to: URL(fileURLWithPath: folder + "/AWS_SECRET_ACCESS_KEY"))
                try? FileManager.default.removeItem(atPath: mount + "/..data_tmp")
                try FileManager.default.createSymbolicLink(atPath: mount + "/..data_tmp", withDestinationPath: name)
                guard rename(mount + "/..data_tmp", mount + "/..data") == 0 else { throw SpawnFailure(description: "rename failed") }
                for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] where !FileManager.default.fileExists(atPath: mount + "/" + key) {
                    try FileManager.default.createSymbolicLink(atPath: mount + "/" + key, withDestinationPath: "..data/" + key)
                }
            }
            try writeVersion("v1", keyID: "AKIAFIRSTVERSION0001")
            let binary = try TestEnvironment.helperBinary()
            let child = try ChildProcess(
                executable: binary,
                arguments: ["credential-provider", "install", "--host-root", root, "--bin-dir", "/bin-dir", "--source", binary,
                            "--config", "/etc/config.yaml", "--credentials-from", mount, "--watch"],
                environment: ["PATH": "/usr/bin:/bin"], outputDirectory: root)
            defer { child.killNow() }
            let file = root + "/etc/aws-ecr-cred-helper/credentials"
            try await eventually("the first credentials file", timeout: .seconds(60)) {
                (try? String(contentsOfFile: file, encoding: .utf8))?.contains("AKIAFIRSTVERSION0001") == true
            }
            try writeVersion("v2", keyID: "AKIASECONDVERSION002")
            try await eventually("the credentials file rewritten from the new Secret", timeout: .seconds(30)) {
                (try? String(contentsOfFile: file, encoding: .utf8))?.contains("AKIASECONDVERSION002") == true
            }
            #expect(child.isRunning)
            #expect(!child.output.contains("secret-v2-value"))
        }

        @Test func writesTheNodesCredentialsFileFromASecretsFiles() async throws {
            let secret = root + "/secret"
            try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: true)
            let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            for (key, value) in ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE\n", "AWS_SECRET_ACCESS_KEY": secretKey + "\n",
                                 "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ecr-pull", "AWS_DEFAULT_REGION": "eu-west-1"] {
                try Data(value.utf8).write(to: URL(fileURLWithPath: secret + "/" + key))
            }
            let config = "/etc/kubernetes/credential-providers.yaml"
            let result = try await install(["--config", config, "--credentials-from", secret])
            #expect(result.exitCode == 0, "\(result)")
            #expect(!result.output.contains(secretKey))
            let file = "/etc/aws-ecr-cred-helper/credentials"
            let text = try read(file)
            #expect(text.contains("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = \(secretKey)\n"))
            #expect(text.contains("role_arn = arn:aws:iam::123456789012:role/ecr-pull\nsource_profile = default\n"))
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: root + file)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
            let ours = try #require(try providers(config).first)
            #expect(ours["env"] as? [[String: String]] == [["name": "AWS_SHARED_CREDENTIALS_FILE", "value": file]])

            // A Secret without keys is refused with one line, naming the folder and not the values.
            try FileManager.default.removeItem(atPath: secret + "/AWS_ACCESS_KEY_ID")
            let missing = try await install(["--config", config, "--credentials-from", secret])
            #expect(missing.exitCode == 1 && missing.stderrLines.count == 1, "\(missing)")
            #expect(!missing.output.contains(secretKey))
        }

        /// IAM Roles Anywhere settings in the Secret: the certificate and key are copied to the node (0600, beside
        /// the credentials file) and the settings passed to the provider; no credentials file, no key in the config.
        @Test func passesRolesAnywhereSettingsOnWithTheCertificateOnTheNode() async throws {
            let secret = root + "/secret"
            let tls = root + "/tls"
            for folder in [secret, tls] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let keyText = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnotarealkeyjustbytes\n-----END PRIVATE KEY-----\n"
            try Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: tls + "/tls.crt"))
            try Data(keyText.utf8).write(to: URL(fileURLWithPath: tls + "/tls.key"))
            let anchor = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/1"
            let profile = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/2"
            for (key, value) in [
                "AWS_ROLES_ANYWHERE_CERTIFICATE": tls + "/tls.crt\n", "AWS_ROLES_ANYWHERE_PRIVATE_KEY": tls + "/tls.key\n",
                "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": anchor, "AWS_ROLES_ANYWHERE_PROFILE_ARN": profile,
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ecr-pull", "AWS_ROLES_ANYWHERE_SESSION_DURATION": "2h",
            ] {
                try Data(value.utf8).write(to: URL(fileURLWithPath: secret + "/" + key))
            }
            let config = "/etc/kubernetes/credential-providers.yaml"
            let result = try await install(["--config", config, "--credentials-from", secret])
            #expect(result.exitCode == 0, "\(result)")
            #expect(!result.output.contains("notarealkey"))
            let folder = "/etc/aws-ecr-cred-helper/roles-anywhere"
            #expect(try read(folder + "/tls.key") == keyText)
            #expect(try read(folder + "/tls.crt").hasPrefix("-----BEGIN CERTIFICATE-----"))
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: root + folder + "/tls.key")[.posixPermissions] as? Int)
            #expect(mode == 0o600)
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/aws-ecr-cred-helper/credentials"))
            let ours = try #require(try providers(config).first)
            #expect(
                ours["env"] as? [[String: String]] == [
                    ["name": "AWS_ROLES_ANYWHERE_CERTIFICATE", "value": folder + "/tls.crt"],
                    ["name": "AWS_ROLES_ANYWHERE_PRIVATE_KEY", "value": folder + "/tls.key"],
                    ["name": "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN", "value": anchor],
                    ["name": "AWS_ROLES_ANYWHERE_PROFILE_ARN", "value": profile],
                    ["name": "AWS_ROLE_ARN", "value": "arn:aws:iam::123456789012:role/ecr-pull"],
                    ["name": "AWS_ROLES_ANYWHERE_SESSION_DURATION", "value": "7200"],
                ])
            #expect(!(try read(config)).contains("notarealkey"))
        }
    }
}
