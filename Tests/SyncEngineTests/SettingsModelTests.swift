import Logging
import Testing
@testable import KubeClient
@testable import SyncEngine

/// The settings model: one declaration per setting, one parser per concern, every problem at once with
/// where it came from, process settings through the same reader.
@Suite struct SettingsModelTests {
    static func values(_ pairs: [String: (String, String)]) -> SettingValues {
        SettingValues(pairs.mapValues { SettingValue($0.0, origin: $0.1) })
    }

    static let minimal: [String: (String, String)] = [
        "NAMESPACES": ("default", "file /cfg/NAMESPACES"),
        "AWS_ACCESS_KEY_ID": ("AKIAIOSFODNN7EXAMPLE", "file /aws/AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "file /aws/AWS_SECRET_ACCESS_KEY"),
        "AWS_DEFAULT_REGION": ("eu-west-1", "file /aws/AWS_DEFAULT_REGION"),
    ]

    @Test func declarationsAreConsistent() {
        var flags = Set<String>()
        for setting in Setting.allCases {
            let declaration = setting.declaration
            #expect(!declaration.help.isEmpty, "\(setting) has no help")
            #expect(declaration.help.hasSuffix("."), "\(setting): help should be a sentence")
            if let flag = setting.flag {
                #expect(flags.insert(flag).inserted, "two settings share --\(flag)")
                #expect(flag == flag.lowercased() && !flag.contains("_"), "--\(flag)")
            }
            #expect(setting.key == setting.key.uppercased(), "\(setting.key)")
        }
        // Secrets never have a flag: a command line is visible to every process on the node.
        #expect(Setting.secretAccessKey.flag == nil && Setting.sessionToken.flag == nil)
        // The interface names users already have.
        #expect(Setting.namespaces.flag == "namespaces" && Setting.configDirectory.flag == "config-dir")
        #expect(Setting.httpPort.flag == "http-port" && Setting.leaderElection.flag == "leader-election")
        #expect(Setting.withFlag("aws-region") == .region)
    }

    /// The issue's case: an invalid namespace, an invalid region and a quoted secret key are reported
    /// together, each with its source.
    @Test func everyProblemAtOnceWithItsSourceIncludingAQuotedSecretKey() throws {
        var raw = Self.minimal
        raw["NAMESPACES"] = ("Team_A", "file /cfg/NAMESPACES")
        raw["AWS_DEFAULT_REGION"] = ("Placeholder", "environment AWS_DEFAULT_REGION")
        raw["AWS_SECRET_ACCESS_KEY"] = ("\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"", "file /aws/AWS_SECRET_ACCESS_KEY")
        let error = try #require(throws: ConfigurationError.self) { try HelperSettings.parse(Self.values(raw)) }
        #expect(error.problems.count == 3, "\(error.problems)")
        #expect(error.problems.contains { $0.hasPrefix("NAMESPACES (file /cfg/NAMESPACES): \"Team_A\"") }, "\(error.problems)")
        #expect(error.problems.contains { $0.hasPrefix("AWS_DEFAULT_REGION (environment AWS_DEFAULT_REGION): \"Placeholder\"") }, "\(error.problems)")
        #expect(error.problems.contains { $0 == "AWS_SECRET_ACCESS_KEY (file /aws/AWS_SECRET_ACCESS_KEY): the value contains quote characters: remove the quotes" }, "\(error.problems)")
        #expect(!error.description.contains("wJalrXUtnFEMI"))
        #expect(error.issues.map(\.setting) == [.namespaces, .secretAccessKey, .defaultRegion])
    }

    @Test(arguments: [
        ("AWS_ACCESS_KEY_ID", "'AKIAIOSFODNN7EXAMPLE'", "AWS_ACCESS_KEY_ID (t): the value contains quote characters"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI K7MDENG", "AWS_SECRET_ACCESS_KEY (t): the value contains spaces, line breaks or non-ASCII characters"),
        ("AWS_SESSION_TOKEN", "tok\nen", "AWS_SESSION_TOKEN (t): the value contains spaces"),
    ])
    func pastedKeysAreCheckedWithTheSettings(key: String, value: String, expected: String) throws {
        var raw = Self.minimal
        raw[key] = (value, "t")
        let error = try #require(throws: ConfigurationError.self) { try HelperSettings.parse(Self.values(raw)) }
        #expect(error.problems.count == 1 && error.problems[0].hasPrefix(expected), "\(error.problems)")
        #expect(!error.description.contains("K7MDENG") && !error.description.contains("tok"), "a key was echoed: \(error)")
    }

    /// "Is missing" advice names the folder actually used, not the default.
    @Test func missingValuesNameTheFilesWhereTheyBelong() throws {
        var values = SettingValues()
        values.filePaths = [
            "NAMESPACES": "/srv/helper/config/NAMESPACES", "AWS_ACCESS_KEY_ID": "/srv/helper/aws/AWS_ACCESS_KEY_ID",
            "AWS_DEFAULT_REGION": "/srv/helper/aws/AWS_DEFAULT_REGION",
        ]
        let error = try #require(throws: ConfigurationError.self) { try HelperSettings.parse(values) }
        #expect(error.problems.count == 3, "\(error.problems)")
        #expect(error.problems[0].contains("in /srv/helper/config/NAMESPACES, the NAMESPACES variable or --namespaces"), "\(error.problems)")
        #expect(error.problems.contains { $0.contains("files in /srv/helper/aws") }, "\(error.problems)")
        #expect(error.problems.contains { $0.contains("/srv/helper/aws/AWS_DEFAULT_REGION") }, "\(error.problems)")
        #expect(!error.description.contains(" /config/") && !error.description.contains(" /config-aws"), "the default folder is not the one in use: \(error)")
    }

    /// A file that exists but cannot be read is reported by the reader; "is missing" is not said of it.
    @Test func unreadableFilesAreNotAlsoMissing() throws {
        var values = SettingValues(Self.minimal.mapValues { SettingValue($0.0, origin: $0.1) })
        values["NAMESPACES"] = nil
        values.unreadable = ["NAMESPACES"]
        #expect(throws: Never.self) { try HelperSettings.parse(values) }
    }

    /// A command validates only the concerns it uses: `status` needs no AWS credentials.
    @Test func onlyTheCommandsConcernsAreValidated() throws {
        let values = Self.values(["NAMESPACES": ("default", "t"), "REFRESH_INTERVAL": ("soon", "t")])
        let settings = try HelperSettings.parse(values, concerns: [.namespaces, .secret])
        #expect(settings.namespaces.explicitNames == ["default"])
        #expect(throws: ConfigurationError.self) { try HelperSettings.parse(values, concerns: [.namespaces, .schedule]) }
    }

    // MARK: - Process settings

    static func process(_ pairs: [String: String], kubeNamespace: String? = "kube-system") -> (ProcessSettings, [String]) {
        var reader = SettingsReader(SettingValues(pairs.mapValues { SettingValue($0, origin: "t") }))
        let settings = ProcessSettings.read(&reader, concerns: [.listener, .leaderElection, .pod], kubeNamespace: kubeNamespace, hostname: "host-1")
        return (settings, reader.problems.map(\.line))
    }

    @Test func processDefaults() {
        let (settings, problems) = Self.process([:])
        #expect(problems.isEmpty)
        #expect(settings.httpPort == 8080)
        #expect(settings.leaderElection == nil)
    }

    @Test func leaderElectionSettings() throws {
        let (settings, problems) = Self.process([
            "LEADER_ELECTION": "true", "POD_NAME": "helper-0", "POD_NAMESPACE": "ops",
            "LEADER_ELECTION_LEASE_DURATION": "40s", "LEADER_ELECTION_RENEW_DEADLINE": "30s",
        ])
        #expect(problems.isEmpty, "\(problems)")
        let election = try #require(settings.leaderElection)
        #expect(election.namespace == "ops" && election.identity == "helper-0" && election.leaseName == "aws-ecr-cred-helper")
        #expect(election.leaseDuration == .seconds(40) && election.renewDeadline == .seconds(30))
        // Without POD_NAMESPACE the configuration's namespace (in-cluster, --namespace or the context's).
        #expect(Self.process(["LEADER_ELECTION": "on"]).0.leaderElection?.namespace == "kube-system")
        #expect(Self.process(["LEADER_ELECTION": "on"]).0.leaderElection?.identity == "host-1")
    }

    @Test(arguments: [
        (["HTTP_PORT": "80a"], "HTTP_PORT (t): \"80a\" is not a port number from 0 to 65535 (0 turns the listener off)"),
        (["HTTP_PORT": "70000"], "HTTP_PORT (t): \"70000\" is not a port number"),
        (["LEADER_ELECTION": "maybe"], "LEADER_ELECTION (t): \"maybe\" is not true or false"),
        (["LEADER_ELECTION": "true", "LEADER_ELECTION_LEASE_DURATION": "10s"], "LEADER_ELECTION_RENEW_DEADLINE (default, 10s) must be shorter than LEADER_ELECTION_LEASE_DURATION (t, 10s)"),
        (["LEADER_ELECTION": "true", "LEADER_ELECTION_RENEW_DEADLINE": "2s"], "LEADER_ELECTION_RENEW_DEADLINE (t): 2s leaves no room for a second renewal attempt"),
        (["LEADER_ELECTION": "true", "LEADER_ELECTION_LEASE_DURATION": "soon"], "LEADER_ELECTION_LEASE_DURATION (t): \"soon\" is not a duration"),
        (["LEADER_ELECTION": "true", "LEADER_ELECTION_LEASE_NAME": "Lease_1"], "LEADER_ELECTION_LEASE_NAME (t): \"Lease_1\" is not a valid Lease name"),
    ])
    func badProcessSettings(pairs: [String: String], expected: String) {
        let problems = Self.process(pairs).1
        #expect(problems.count == 1 && problems[0].hasPrefix(expected), "\(problems)")
    }

    @Test func leaderElectionNeedsANamespace() {
        let problems = Self.process(["LEADER_ELECTION": "true"], kubeNamespace: nil).1
        #expect(problems == ["LEADER_ELECTION is on (t) but the Lease namespace is unknown: set LEADER_ELECTION_NAMESPACE, or POD_NAMESPACE from the downward API"])
    }

    @Test func loggingSettings() {
        var reader = SettingsReader(SettingValues(["LOG_LEVEL": SettingValue("WARN", origin: "t"), "LOG_FORMAT": SettingValue("json\n", origin: "t")]))
        #expect(LoggingSettings.read(&reader) == LoggingSettings(level: .warning, json: true))
        var bad = SettingsReader(SettingValues(["LOG_LEVEL": SettingValue("loud", origin: "t"), "LOG_FORMAT": SettingValue("xml", origin: "t")]))
        _ = LoggingSettings.read(&bad)
        #expect(bad.problems.map(\.line) == [
            "LOG_FORMAT (t): \"xml\" is not text or json",
            "LOG_LEVEL (t): \"loud\" is not one of trace, debug, info, notice, warning, error, critical",
        ])
    }
}
