import CommonBasics
import Logging

/// Credentials of a profile in the AWS shared files, resolved the way botocore's `AssumeRoleProvider`,
/// `AssumeRoleWithWebIdentityProvider` and `SharedCredentialProvider` (botocore/credentials.py) and
/// aws-sdk-go-v2's `setFromIniSections` (config/shared_config.go) resolve them:
///
/// 1. `role_arn` without `web_identity_token_file`: AssumeRole with the credentials of `source_profile`, or of
///    `credential_source = Environment` (the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables). Both, or
///    neither, is an error. `external_id`, `role_session_name` and `duration_seconds` are passed on.
///    A source profile with static keys is used for its keys even when it also names a role (its `role_arn` is
///    only followed when it has no keys); a profile may name itself as `source_profile` only if it holds keys;
///    any other repeat is a loop and an error (botocore `_validate_source_profile`).
/// 2. `web_identity_token_file` (with `role_arn`): AssumeRoleWithWebIdentity, the token file re-read each time.
/// 3. `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`, or the older `aws_security_token`).
///    One without the other is an error (aws-sdk-go-v2 "partial credentials found for profile").
/// 4. `credential_process`: the command's JSON answer (`ProcessCredentialProvider`, as botocore's
///    `ProcessProvider`), renewed before its `Expiration`; also in a source profile without keys or role (botocore
///    resolves such a source profile through its whole profile chain, which includes the process provider).
///
/// `credential_source = Ec2InstanceMetadata | EcsContainer`, SSO and MFA are not supported (nodes outside AWS
/// have neither metadata service): they are refused with a message saying so.
public enum AWSProfileCredentials {
    /// The provider for `profile` in `config`. `stsRegion` is used unless the profile names a `region`.
    public static func provider(
        profile: String,
        config: AWSSharedConfig,
        environment: [String: String],
        sts: STSClient,
        stsRegion: String,
        logger: Logger
    ) throws -> any AWSCredentialProvider {
        let resolver = Resolver(config: config, environment: environment, sts: sts, defaultRegion: stsRegion, logger: logger)
        return try resolver.resolve(profile, visited: [profile], topLevel: true)
    }

    struct Resolver {
        let config: AWSSharedConfig
        let environment: [String: String]
        let sts: STSClient
        let defaultRegion: String
        let logger: Logger

        var sources: String { config.files.isEmpty ? "the AWS shared files (none found)" : config.files.joined(separator: " and ") }

        func fail(_ message: String) -> AWSError {
            AWSError.invalidConfiguration(message)
        }

        func resolve(_ name: String, visited: [String], topLevel: Bool) throws -> any AWSCredentialProvider {
            guard let profile = config.profiles[name] else {
                if topLevel {
                    throw fail("profile \"\(name)\" is not in \(sources): add [profile \(name)] to the config file or [\(name)] to the credentials file, or set AWS_PROFILE to an existing profile")
                }
                throw fail("the source_profile \"\(name)\" referenced in profile \"\(visited[visited.count - 2])\" does not exist in \(sources)")
            }
            let region = profile["region"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultRegion
            let hasKeys = profile["aws_access_key_id"] != nil || profile["aws_secret_access_key"] != nil
            // A source profile with keys provides those keys (botocore `_resolve_credentials_from_profile`).
            if !topLevel, hasKeys { return try staticKeys(name, profile) }
            if let roleARN = profile["role_arn"], profile["web_identity_token_file"] == nil {
                let base: any AWSCredentialProvider
                switch (profile["source_profile"], profile["credential_source"]) {
                case (_?, _?):
                    throw fail("profile \"\(name)\" contains both source_profile and credential_source: keep one")
                case (nil, nil):
                    throw fail("profile \"\(name)\" has role_arn but neither source_profile nor credential_source: name the profile whose keys assume the role")
                case (nil, let source?):
                    base = try credentialSource(source, profile: name)
                case (let source?, nil):
                    if visited.contains(source) {
                        // Only a profile naming itself, and holding keys, may repeat (botocore `_validate_source_profile`).
                        guard source == name, hasKeys else {
                            throw fail("profiles loop through source_profile: \((visited + [source]).joined(separator: " -> ")); break the cycle")
                        }
                        base = try staticKeys(name, profile)
                    } else {
                        base = try resolve(source, visited: visited + [source], topLevel: false)
                    }
                }
                let sessionName = profile["role_session_name"] ?? STSClient.defaultSessionName()
                let assume = try AssumeRoleCredentialProvider(
                    sts: sts, base: base, roleARN: roleARN, externalID: profile["external_id"], sessionName: sessionName,
                    duration: try durationSeconds(profile, name), region: region)
                return CachingCredentialProvider(assume, logger: logger)
            }
            if let tokenFile = profile["web_identity_token_file"] {
                guard let roleARN = profile["role_arn"] else {
                    throw fail("profile \"\(name)\" has web_identity_token_file but no role_arn: add the role to assume with the token")
                }
                let web = try WebIdentityCredentialProvider(
                    sts: sts, roleARN: roleARN, tokenFile: tokenFile,
                    sessionName: profile["role_session_name"] ?? STSClient.defaultSessionName(), region: region)
                return CachingCredentialProvider(web, logger: logger)
            }
            if hasKeys { return try staticKeys(name, profile) }
            if let command = profile["credential_process"] {
                let process = try ProcessCredentialProvider(command: command, profile: name, environment: environment)
                return CachingCredentialProvider(process, logger: logger)
            }
            for unsupported in ["sso_session", "sso_start_url"] where profile[unsupported] != nil {
                throw fail("profile \"\(name)\" uses \(unsupported), which aws-ecr-cred-helper does not run: give the profile keys, a role_arn with source_profile, web_identity_token_file or credential_process")
            }
            if topLevel {
                throw fail("profile \"\(name)\" in \(sources) has no credentials: add aws_access_key_id and aws_secret_access_key, role_arn with source_profile, web_identity_token_file or credential_process")
            }
            throw fail("the source profile \"\(name)\" must have credentials (aws_access_key_id and aws_secret_access_key, role_arn / web_identity_token_file, or credential_process)")
        }

        func staticKeys(_ name: String, _ profile: [String: String]) throws -> any AWSCredentialProvider {
            guard let keyID = profile["aws_access_key_id"], let secret = profile["aws_secret_access_key"] else {
                let missing = profile["aws_access_key_id"] == nil ? "aws_access_key_id" : "aws_secret_access_key"
                throw fail("partial credentials in profile \"\(name)\": \(missing) is missing")
            }
            let token = profile["aws_session_token"] ?? profile["aws_security_token"]
            let credentials = try AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token.flatMap { $0.isEmpty ? nil : $0 })
                .validated(keyIDSource: "aws_access_key_id of profile \"\(name)\"", secretSource: "aws_secret_access_key of profile \"\(name)\"")
            return StaticCredentialProvider(credentials)
        }

        func credentialSource(_ source: String, profile: String) throws -> any AWSCredentialProvider {
            switch source {
            case "Environment":
                guard let keyID = environment["AWS_ACCESS_KEY_ID"].flatMap({ $0.isEmpty ? nil : $0 }),
                      let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap({ $0.isEmpty ? nil : $0 })
                else {
                    throw fail("profile \"\(profile)\" has credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
                }
                let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
                return StaticCredentialProvider(try AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token).validated())
            case "Ec2InstanceMetadata", "EcsContainer":
                throw fail("profile \"\(profile)\" has credential_source = \(source), which exists only on AWS compute: use source_profile with keys, or Environment")
            default:
                throw fail("the credential_source \"\(Printable.escape(source))\" in profile \"\(profile)\" is not valid (Environment, Ec2InstanceMetadata or EcsContainer)")
            }
        }

        func durationSeconds(_ profile: [String: String], _ name: String) throws -> Duration? {
            guard let text = profile["duration_seconds"] else { return nil }
            guard let seconds = Int(text) else {
                throw fail("duration_seconds \"\(Printable.escape(text))\" in profile \"\(name)\" is not a whole number of seconds")
            }
            return .seconds(seconds)
        }
    }
}
