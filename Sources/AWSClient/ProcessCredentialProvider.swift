import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// `credential_process` of an AWS shared config profile, run as botocore's `ProcessProvider` runs it
/// (botocore/credentials.py): the command split as a POSIX shell would (`shlex.split`, no shell), run with the
/// process's environment, its standard output the JSON `{"Version": 1, "AccessKeyId", "SecretAccessKey",
/// "SessionToken"?, "Expiration"?}`. With `Expiration` the credentials are renewed before then (wrap this in a
/// `CachingCredentialProvider`); without, they are kept. A non-zero exit fails with the last line of its
/// standard error; its standard output (credentials) never reaches a message. E.g. AWS's
/// `aws_signing_helper credential-process --certificate ... --private-key ...` for IAM Roles Anywhere.
public struct ProcessCredentialProvider: AWSCredentialProvider, CustomStringConvertible {
    public let command: String
    public let profile: String
    let arguments: [String]
    let environment: [String: String]
    let timeout: Duration

    public init(command: String, profile: String, environment: [String: String], timeout: Duration = .seconds(60)) throws {
        guard let arguments = Self.split(command), !arguments.isEmpty else {
            throw AWSError.invalidConfiguration(
                "credential_process of profile \"\(profile)\" is not a command line (empty, or a quote is not closed): \(Printable.escape(command))")
        }
        self.command = command
        self.profile = profile
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    public var description: String { "ProcessCredentialProvider(profile \(profile), \(arguments[0]))" }

    public func credentials() async throws -> AWSCredentials {
        let (program, rest, environment, timeout) = (arguments[0], Array(arguments.dropFirst()), self.environment, self.timeout)
        let who = "credential_process of profile \"\(profile)\" (\(program))"
        // posix_spawn, read and waitpid block: on NIO's thread pool, never on the cooperative pool.
        let outcome: Result<PluginProcess.Result, PluginProcess.Failure> = try await NIOThreadPool.singleton.runIfActive {
            do throws(PluginProcess.Failure) {
                return .success(try PluginProcess.run(command: program, arguments: rest, environment: environment, interactive: false, timeout: timeout))
            } catch {
                return .failure(error)
            }
        }
        let result: PluginProcess.Result
        switch outcome {
        case .success(let r): result = r
        case .failure(.notFound(let code)) where code == EACCES:
            throw AWSError.invalidConfiguration("\(who) is not executable by this user: check its permissions (chmod +x)")
        case .failure(.notFound):
            throw AWSError.invalidConfiguration("\(who) not found\(program.contains("/") ? "" : " in PATH"): install it or correct credential_process")
        case .failure(.timedOut):
            throw AWSError.invalidConfiguration("\(who) did not finish within \(timeout.components.seconds)s (or printed too much) and was stopped; run it by hand to see what it waits for")
        case .failure(.spawnFailed(let code)):
            throw AWSError.invalidConfiguration("\(who) could not be started (errno \(code))")
        }
        guard result.status == 0 else {
            throw AWSError.invalidConfiguration("\(who) failed with exit code \(result.status)\(Self.lastLine(result.stderr)); run it by hand to see why")
        }
        return try Self.decode(result.stdout, who: who)
    }

    struct Output: Decodable {
        var Version: Int?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var SessionToken: String?
        var Expiration: String?
    }

    /// The process's answer, checked as botocore checks it.
    static func decode(_ stdout: [UInt8], who: String) throws -> AWSCredentials {
        guard let output = try? JSONDecoder().decode(Output.self, from: Data(stdout)) else {
            throw AWSError.invalidConfiguration("\(who) printed no JSON object on standard output: it must print {\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}")
        }
        guard output.Version == 1 else {
            throw AWSError.invalidConfiguration("\(who) answered Version \(output.Version.map(String.init) ?? "(none)"): only Version 1 is supported")
        }
        guard let keyID = output.AccessKeyId, !keyID.isEmpty, let secret = output.SecretAccessKey, !secret.isEmpty else {
            throw AWSError.invalidConfiguration("\(who) answered without \(output.AccessKeyId?.isEmpty == false ? "SecretAccessKey" : "AccessKeyId")")
        }
        var expiration: Date?
        if let text = output.Expiration {
            guard let date = UTCTime.parseISO8601(text) else {
                throw AWSError.invalidConfiguration("\(who) answered an Expiration that is not an ISO 8601 time: \(Printable.escape(text))")
            }
            expiration = date
        }
        let token = output.SessionToken.flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// `: <last line of standard error>` (shortened), or nothing.
    static func lastLine(_ stderr: [UInt8]) -> String {
        let text = String(decoding: stderr.suffix(4096), as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last.map({ $0.trimmingASCIIWhitespace() }), !line.isEmpty else { return "" }
        return ": " + Printable.escape(String(line), limit: 300)
    }

    /// Python's `shlex.split(command)` (POSIX mode, as botocore's `compat_shell_split` on Linux): words separated by
    /// white space; '...' literal; "..." with \\ escaping \\, ", $, ` and newline; \\ outside quotes escaping the next
    /// character. nil when a quote or an escape is not closed.
    static func split(_ command: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = command.makeIterator()
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                while true {
                    guard let q = iterator.next() else { return nil }
                    if q == "'" { break }
                    current.append(q)
                }
            case "\"":
                inWord = true
                while true {
                    guard let q = iterator.next() else { return nil }
                    if q == "\"" { break }
                    if q == "\\" {
                        guard let next = iterator.next() else { return nil }
                        if ["\\", "\"", "$", "`", "\n"].contains(next) {
                            if next != "\n" { current.append(next) }
                        } else {
                            current.append(q)
                            current.append(next)
                        }
                    } else {
                        current.append(q)
                    }
                }
            case "\\":
                guard let next = iterator.next() else { return nil }
                inWord = true
                if next != "\n" { current.append(next) }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
