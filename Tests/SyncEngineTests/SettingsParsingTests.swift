import Testing
@testable import SyncEngine

@Suite struct SettingsParsingTests {
    static func values(_ pairs: [String: String]) -> SettingValues {
        SettingValues(pairs.mapValues { SettingValue($0, origin: "test") })
    }

    static let minimal: [String: String] = [
        "NAMESPACES": "kube-system default",
        "SECRET_NAME": "registry-aws-ecr",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "eu-west-1",
    ]

    @Test func originalSampleWithTrailingNewlines() throws {
        // The original's sample secret carries trailing newlines; CRLF and a BOM come from Windows editors.
        let settings = try HelperSettings.parse(Self.values([
            "NAMESPACES": "\u{FEFF}kube-system default\r\n",
            "SECRET_NAME": "registry-aws-ecr\n",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE\r\n",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "AWS_DEFAULT_REGION": "  eu-west-1\t\n",
        ]))
        #expect(settings.namespaces.explicitNames == ["kube-system", "default"])
        #expect(settings.secretName == "registry-aws-ecr")
        #expect(settings.aws.regions == ["eu-west-1"])
        #expect(settings.aws.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(settings.aws.secretAccessKey?.value == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        #expect(settings.namespaces.isExplicitList)
    }

    @Test(arguments: ["a b c", "a,b,c", "a\nb\nc", "a, b,\tc\n", " a  b\r\nc "])
    func namespaceSeparators(_ text: String) throws {
        var raw = Self.minimal
        raw["NAMESPACES"] = text
        #expect(try HelperSettings.parse(Self.values(raw)).namespaces.explicitNames == ["a", "b", "c"])
    }

    @Test func duplicatesAreUsedOnceWithAWarning() throws {
        var raw = Self.minimal
        raw["NAMESPACES"] = "a b a"
        let settings = try HelperSettings.parse(Self.values(raw))
        #expect(settings.namespaces.explicitNames == ["a", "b"])
        #expect(settings.warnings.count == 1)
    }

    @Test func defaults() throws {
        var raw = Self.minimal
        raw["SECRET_NAME"] = nil
        let settings = try HelperSettings.parse(Self.values(raw))
        #expect(settings.secretName == "registry-aws-ecr")
        #expect(settings.refresh.interval == .seconds(41400))
        #expect(settings.concurrency == 32)
        #expect(settings.serviceAccounts.isEmpty)
    }

    @Test func regionPrecedence() throws {
        var raw = Self.minimal
        raw["AWS_REGION"] = "us-east-2"
        #expect(try HelperSettings.parse(Self.values(raw)).aws.regions == ["us-east-2"])
        raw["AWS_REGIONS"] = "us-west-2, eu-central-1 us-west-2"
        #expect(try HelperSettings.parse(Self.values(raw)).aws.regions == ["us-west-2", "eu-central-1"])
    }

    /// Each bad input gives one line naming the setting, where it came from, and what is expected.
    @Test(arguments: [
        ("NAMESPACES", "Team_A", "\"Team_A\" is not a valid namespace name"),
        ("NAMESPACES", "", "NAMESPACES is empty or missing"),
        ("NAMESPACES", "a\u{0}b", "\"a\\u{0}b\" is not a valid namespace name"),
        ("NAMESPACES", String(repeating: "a", count: 64), "is not a valid namespace name"),
        ("SECRET_NAME", "Registry_AWS", "\"Registry_AWS\" is not a valid secret name"),
        ("AWS_DEFAULT_REGION", "Placeholder...", "\"Placeholder...\" is not an AWS region name"),
        ("AWS_DEFAULT_REGION", "", "no AWS region"),
        ("AWS_SECRET_ACCESS_KEY", "", "AWS_SECRET_ACCESS_KEY is missing for access key AKIA…MPLE"),
        ("AWS_ACCESS_KEY_ID", "", "AWS_ACCESS_KEY_ID is missing while AWS_SECRET_ACCESS_KEY is set"),
        ("AWS_ACCESS_KEY_ID", "Placeholder...", "does not look like an AWS access key id"),
        ("REFRESH_INTERVAL", "soon", "\"soon\" is not a duration"),
        ("REFRESH_FRACTION", "2", "is not a fraction"),
        ("REGISTRY_IDS", "12345", "is not an AWS account id"),
        ("NAMESPACE_SELECTOR", "a in b", "cannot parse"),
        ("PATCH_SERVICE_ACCOUNTS", "maybe", "is not true or false"),
        ("CONCURRENCY", "0", "is not a number from 1 to 1024"),
    ])
    func badInput(key: String, value: String, expected: String) throws {
        var raw = Self.minimal
        raw[key] = value
        let error = try #require(throws: ConfigurationError.self) { try HelperSettings.parse(Self.values(raw)) }
        #expect(error.problems.count == 1, "\(error.problems)")
        #expect(error.description.contains(expected), "\(error.description)")
        #expect(!error.description.contains("wJalrXUtnFEMI"), "secret key leaked: \(error.description)")
    }

    @Test func everyProblemAtOnce() throws {
        let error = try #require(throws: ConfigurationError.self) { try HelperSettings.parse(Self.values([:])) }
        #expect(error.problems.count == 3, "\(error.problems)")  // namespaces, credentials, region
    }

    @Test func webIdentityNeedsNoKeys() throws {
        var raw = Self.minimal
        raw["AWS_ACCESS_KEY_ID"] = nil
        raw["AWS_SECRET_ACCESS_KEY"] = nil
        raw["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ecr"
        raw["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
        let settings = try HelperSettings.parse(Self.values(raw))
        #expect(settings.aws.accessKeyID == nil)
        #expect(settings.aws.roleARN == "arn:aws:iam::123456789012:role/ecr")
    }

    @Test func sensitiveValuesNeverPrint() throws {
        let settings = try HelperSettings.parse(Self.values(Self.minimal))
        let rendered = "\(settings) \(String(reflecting: settings))"
        #expect(!rendered.contains("wJalrXUtnFEMI"))
    }
}

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("11h30m", 41400.0), ("90s", 90), ("1.5h", 5400), ("3600", 3600), ("500ms", 0.5), ("1d", 86400), ("45m", 2700),
    ])
    func parses(_ text: String, seconds: Double) {
        #expect(DurationParsing.parse(text)?.seconds == seconds)
    }

    @Test(arguments: ["", "h", "5x", "-5", "1h-", "soon"])
    func rejects(_ text: String) {
        #expect(DurationParsing.parse(text) == nil)
    }
}
