import Foundation
import Logging
import Testing

@testable import AWSClient

/// The AWS shared files' rules (see AWSSharedConfig): sections, precedence, and profile resolution.
@Suite struct SharedConfigTests {
    func files(config: String?, credentials: String?) throws -> [String: String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shared-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var env = ["HOME": dir.path, "AWS_CONFIG_FILE": dir.path + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir.path + "/credentials"]
        if let config { try Data(config.utf8).write(to: dir.appendingPathComponent("config")) } else { env["AWS_CONFIG_FILE"] = dir.path + "/absent" }
        if let credentials { try Data(credentials.utf8).write(to: dir.appendingPathComponent("credentials")) }
        return env
    }

    @Test func sectionsAndPrecedence() throws {
        let env = try files(
            config: """
                ; comment
                [default]
                region = eu-west-1
                [profile default]
                region = us-east-2
                [profile team]
                Role_ARN = arn:aws:iam::123456789012:role/from-config   # trailing comment
                aws_access_key_id = AKIAFROMCONFIG000000
                s3 =
                  max_concurrent_requests = 4
                [team]
                role_arn = arn:aws:iam::123456789012:role/not-a-profile
                [sso-session corp]
                sso_region = us-east-1
                """,
            credentials: """
                [team]
                aws_access_key_id = AKIAFROMCREDENTIALS0
                [profile team]
                aws_access_key_id = AKIAIGNORED000000000
                """)
        let shared = try AWSSharedConfig.load(environment: env)
        // [profile default] replaces [default].
        #expect(shared.profiles["default"] == ["region": "us-east-2"])
        // Keys are case-insensitive, comments go, nested blocks are skipped, the credentials file wins per key.
        #expect(shared.profiles["team"] == [
            "role_arn": "arn:aws:iam::123456789012:role/from-config", "aws_access_key_id": "AKIAFROMCREDENTIALS0", "s3": "",
        ])
        #expect(shared.profiles.count == 2)
        #expect(shared.files.count == 2)
    }

    @Test func profileNameAndMissingFiles() throws {
        #expect(AWSSharedConfig.profileName(environment: [:]) == "default")
        #expect(AWSSharedConfig.profileName(environment: ["AWS_DEFAULT_PROFILE": "b"]) == "b")
        #expect(AWSSharedConfig.profileName(environment: ["AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"]) == "a")
        let env = try files(config: nil, credentials: nil)
        #expect(try AWSSharedConfig.load(environment: env).profiles.isEmpty)
        #expect(AWSSharedConfig.paths(environment: ["HOME": "/home/k"]) == ("/home/k/.aws/config", "/home/k/.aws/credentials"))
    }

    func provider(_ profile: String, _ config: AWSSharedConfig, environment: [String: String] = [:]) throws -> any AWSCredentialProvider {
        let transport = try AWSHTTPTransport()
        defer { Task { try? await transport.shutdown() } }
        return try AWSProfileCredentials.provider(
            profile: profile, config: config, environment: environment, sts: STSClient(transport: transport), stsRegion: "us-east-1",
            logger: Logger(label: "test"))
    }

    @Test func resolution() throws {
        let role = "arn:aws:iam::123456789012:role/r"
        let config = AWSSharedConfig(profiles: [
            "keys": ["aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "s3cr3t-key-value", "aws_security_token": "old-token"],
            "chained": ["role_arn": role, "source_profile": "middle", "external_id": "ext-1", "duration_seconds": "1800"],
            "middle": ["role_arn": role, "source_profile": "keys"],
            "self": ["role_arn": role, "source_profile": "self", "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "s3cr3t-key-value"],
            "web": ["role_arn": role, "web_identity_token_file": "/var/run/token", "region": "eu-west-1"],
            "env": ["role_arn": role, "credential_source": "Environment"],
            "loopA": ["role_arn": role, "source_profile": "loopB"],
            "loopB": ["role_arn": role, "source_profile": "loopA"],
            "both": ["role_arn": role, "source_profile": "keys", "credential_source": "Environment"],
            "neither": ["role_arn": role],
            "partial": ["aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"],
            "imds": ["role_arn": role, "credential_source": "Ec2InstanceMetadata"],
            "process": ["credential_process": "/bin/true"],
            "empty": [:],
        ])
        let keys = try #require(try provider("keys", config) as? StaticCredentialProvider)
        #expect(keys.value.sessionToken == "old-token")
        let chained = try #require(try provider("chained", config) as? CachingCredentialProvider)
        let outer = try #require(chained.base as? AssumeRoleCredentialProvider)
        #expect(outer.externalID == "ext-1")
        #expect(outer.duration == .seconds(1800))
        let inner = try #require((outer.base as? CachingCredentialProvider)?.base as? AssumeRoleCredentialProvider)
        #expect(inner.base is StaticCredentialProvider)
        let selfRef = try #require((try provider("self", config) as? CachingCredentialProvider)?.base as? AssumeRoleCredentialProvider)
        #expect(selfRef.base is StaticCredentialProvider)
        let web = try #require((try provider("web", config) as? CachingCredentialProvider)?.base as? WebIdentityCredentialProvider)
        #expect(web.region == "eu-west-1")
        #expect(web.tokenFile == "/var/run/token")
        let env = try #require((try provider("env", config, environment: ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"])
            as? CachingCredentialProvider)?.base as? AssumeRoleCredentialProvider)
        #expect(env.base is StaticCredentialProvider)
        let process = try #require((try provider("process", config) as? CachingCredentialProvider)?.base as? ProcessCredentialProvider)
        #expect(process.command == "/bin/true")

        for (profile, mention) in [
            ("loopA", "loopA -> loopB -> loopA"), ("both", "both source_profile and credential_source"),
            ("neither", "neither source_profile nor credential_source"), ("partial", "aws_secret_access_key is missing"),
            ("imds", "exists only on AWS compute"), ("empty", "has no credentials"),
            ("absent", "is not in"), ("env", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"),
        ] {
            do {
                _ = try provider(profile, config)
                Issue.record("\(profile) resolved")
            } catch let error as AWSError {
                #expect(error.kind == .invalidConfiguration)
                #expect(error.description.contains(mention), "\(profile): \(error)")
                #expect(!error.description.contains("s3cr3t-key-value"))
            }
        }
    }
}
