import Foundation
import Logging
import Testing

@testable import AWSClient

/// `credential_process` in shared config profiles, as botocore's ProcessProvider runs it: the command split as
/// shlex splits it, its JSON answer, Expiration honoured (renewed before then, kept without), failures in one line
/// without the process's standard output.
@Suite struct ProcessCredentialsTests {
    /// A folder with an executable script printing `answer` and counting its runs in `runs`.
    struct Script {
        let directory: URL
        var path: String { directory.appendingPathComponent("credential process.sh").path }
        var runs: Int { ((try? String(contentsOf: directory.appendingPathComponent("runs"), encoding: .utf8)) ?? "").split(separator: "\n").count }

        init(_ body: String) throws {
            directory = try TestEnv.tempDirectory()
            let script = "#!/bin/sh\necho run >> \"\(directory.path)/runs\"\n" + body + "\n"
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    func resolve(_ profile: [String: String], environment: [String: String] = [:], now: @escaping @Sendable () -> Date = { Date() }) async throws
        -> any AWSCredentialProvider
    {
        try await withTransport { transport in
            try AWSProfileCredentials.provider(
                profile: "p", config: AWSSharedConfig(profiles: ["p": profile]), environment: environment, sts: STSClient(transport: transport),
                stsRegion: "us-east-1", logger: Logger(label: "test"))
        }
    }

    @Test func shellSplitting() {
        #expect(ProcessCredentialProvider.split("a b  c") == ["a", "b", "c"])
        #expect(ProcessCredentialProvider.split("'/opt/my tools/helper' --x \"a \\\"b\\\" $c\" d\\ e") == ["/opt/my tools/helper", "--x", "a \"b\" $c", "d e"])
        #expect(ProcessCredentialProvider.split("\"a\\nb\"") == ["a\\nb"])
        #expect(ProcessCredentialProvider.split("x ''") == ["x", ""])
        #expect(ProcessCredentialProvider.split("'unclosed") == nil)
        #expect(ProcessCredentialProvider.split("  ") == [])
    }

    @Test func answerWithExpirationIsRenewedBeforeThen() async throws {
        let expiration = "2999-01-01T00:00:00Z"
        let script = try Script("""
            [ "$1" = "--certificate" ] && [ "$2" = "/certs/tls 1.crt" ] || { echo "wrong arguments: $*" >&2; exit 3; }
            echo '{"Version": 1, "AccessKeyId": "ASIAPROCESSEXAMPLE01", "SecretAccessKey": "process-secret-value", "SessionToken": "process-token", "Expiration": "\(expiration)"}'
            """)
        defer { script.remove() }
        let provider = try await resolve(["credential_process": "'\(script.path)' --certificate '/certs/tls 1.crt'"])
        let first = try await provider.credentials()
        #expect(first.accessKeyID == "ASIAPROCESSEXAMPLE01")
        #expect(first.secretAccessKey == "process-secret-value")
        #expect(first.sessionToken == "process-token")
        #expect(first.expiration == UTCTime.parseISO8601(expiration))
        _ = try await provider.credentials()
        #expect(script.runs == 1, "cached until shortly before Expiration")
    }

    @Test func expirationSoonRunsTheProcessAgain() async throws {
        let soon = UTCTime.iso8601(Date().addingTimeInterval(60))
        let script = try Script("echo '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESSEXAMPLE01\", \"SecretAccessKey\": \"s\", \"Expiration\": \"\(soon)\"}'")
        defer { script.remove() }
        let provider = try await resolve(["credential_process": script.path.replacingOccurrences(of: " ", with: "\\ ")])
        _ = try await provider.credentials()
        _ = try await provider.credentials()
        #expect(script.runs == 2, "credentials expiring within 5 minutes are renewed")
    }

    @Test func withoutExpirationKeptAsStatic() async throws {
        let script = try Script("echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESSEXAMPLE01\", \"SecretAccessKey\": \"s\"}'")
        defer { script.remove() }
        let provider = try await resolve(["credential_process": "\"\(script.path)\""])
        let credentials = try await provider.credentials()
        #expect(credentials.expiration == nil)
        #expect(!credentials.isTemporary)
        _ = try await provider.credentials()
        #expect(script.runs == 1)
    }

    @Test func failuresInOneLineWithoutTheAnswer() async throws {
        let cases: [(String, String)] = [
            ("echo 'some noise'; echo 'no certificate at /certs/tls.crt' >&2; exit 2", "failed with exit code 2: no certificate at /certs/tls.crt; run it by hand to see why"),
            ("echo '{\"Version\": 2, \"AccessKeyId\": \"AKIAPROCESSEXAMPLE01\", \"SecretAccessKey\": \"do-not-show-me\"}'", "answered Version 2: only Version 1 is supported"),
            ("echo '{\"Version\": 1, \"SecretAccessKey\": \"do-not-show-me\"}'", "answered without AccessKeyId"),
            ("echo 'do-not-show-me'", "printed no JSON object on standard output: it must print {\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}"),
            ("echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESSEXAMPLE01\", \"SecretAccessKey\": \"do-not-show-me\", \"Expiration\": \"tomorrow\"}'", "answered an Expiration that is not an ISO 8601 time: tomorrow"),
        ]
        for (body, ending) in cases {
            let script = try Script(body)
            defer { script.remove() }
            let provider = try await resolve(["credential_process": "'\(script.path)'"])
            let error = await expectAWSError { _ = try await provider.credentials() }
            #expect(error?.description == "invalid AWS configuration: credential_process of profile \"p\" (\(script.path)) \(ending)")
            #expect(error?.description.contains("do-not-show-me") == false)
        }
        let missing = try await resolve(["credential_process": "/nonexistent/aws_signing_helper credential-process"])
        let error = await expectAWSError { _ = try await missing.credentials() }
        #expect(error?.description == "invalid AWS configuration: credential_process of profile \"p\" (/nonexistent/aws_signing_helper) not found: install it or correct credential_process")
        do {
            _ = try await resolve(["credential_process": "'unclosed"])
            Issue.record("an unclosed quote resolved")
        } catch {
            #expect("\(error)" == "invalid AWS configuration: credential_process of profile \"p\" is not a command line (empty, or a quote is not closed): 'unclosed")
        }
    }

    /// A source profile without keys or role gets its credentials from its credential_process (botocore's profile chain).
    @Test func sourceProfileWithProcess() async throws {
        let config = AWSSharedConfig(profiles: [
            "ecr": ["role_arn": "arn:aws:iam::123456789012:role/r", "source_profile": "certificate"],
            "certificate": ["credential_process": "/usr/local/bin/aws_signing_helper credential-process --certificate /c --private-key /k"],
        ])
        try await withTransport { transport in
            let provider = try AWSProfileCredentials.provider(
                profile: "ecr", config: config, environment: [:], sts: STSClient(transport: transport), stsRegion: "us-east-1", logger: Logger(label: "test"))
            let assume = try #require((provider as? CachingCredentialProvider)?.base as? AssumeRoleCredentialProvider)
            let process = try #require((assume.base as? CachingCredentialProvider)?.base as? ProcessCredentialProvider)
            #expect(process.profile == "certificate")
        }
    }
}
