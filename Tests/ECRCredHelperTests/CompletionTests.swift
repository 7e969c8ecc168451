import Foundation
import TestSupport
import Testing

/// `completion bash|zsh|fish`: scripts written from the command declarations, checked by the shells
/// themselves where installed, and the bash one by completing words as bash would.
@Suite struct CompletionTests {
    static func script(_ shell: String) async throws -> (script: String, directory: String) {
        let directory = NSTemporaryDirectory() + "completion-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try await ChildProcess.run(try TestEnvironment.helperBinary(), ["completion", shell], environment: [:], outputDirectory: directory)
        #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(result)")
        let path = directory + "/completion." + shell
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, directory)
    }

    static func shell(_ name: String) -> String? {
        ["/usr/bin/" + name, "/bin/" + name].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What bash offers after `words` (the last one being completed) with the script sourced.
    static func complete(_ words: [String], script: String, directory: String) async throws -> [String] {
        let quoted = (["aws-ecr-cred-helper"] + words).map { "'" + $0 + "'" }.joined(separator: " ")
        let program = "source \(script); COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count); _aws_ecr_cred_helper; echo \"${COMPREPLY[*]}\""
        let result = try await ChildProcess.run("/bin/bash", ["-c", program], environment: ["PATH": "/usr/bin:/bin"], outputDirectory: directory)
        #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(result)")
        return result.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    @Test func bashCompletesCommandsFlagsAndValues() async throws {
        let (script, directory) = try await Self.script("bash")
        let syntax = try await ChildProcess.run("/bin/bash", ["-n", script], environment: [:], outputDirectory: directory)
        #expect(syntax.exitCode == 0, "bash -n: \(syntax)")

        #expect(try await Self.complete(["st"], script: script, directory: directory) == ["status"])
        #expect(try await Self.complete(["c"], script: script, directory: directory) == ["check", "cleanup", "credential-provider", "completion"])
        #expect(try await Self.complete(["credential-provider", ""], script: script, directory: directory) == ["get", "install"])
        #expect(try await Self.complete(["completion", ""], script: script, directory: directory) == ["bash", "zsh", "fish"])
        #expect(try await Self.complete(["help", "cre"], script: script, directory: directory) == ["credential-provider"])
        // Each command's own flags, from its declarations: status has --output, not --http-port.
        let status = try await Self.complete(["status", "--"], script: script, directory: directory)
        #expect(status.contains("--output") && status.contains("--namespaces") && status.contains("--include-local"), "\(status)")
        #expect(!status.contains("--http-port") && !status.contains("--dry-run"), "\(status)")
        #expect(try await Self.complete(["status", "-o", ""], script: script, directory: directory) == ["wide", "json", "yaml"])
        #expect(try await Self.complete(["check", "--output", "j"], script: script, directory: directory) == ["json"])
        #expect(try await Self.complete(["cleanup", "--dry"], script: script, directory: directory) == ["--dry-run"])
        #expect(try await Self.complete(["credential-provider", "install", "--bin"], script: script, directory: directory) == ["--bin-dir"])
        // Flags first mean run.
        #expect(try await Self.complete(["--http-p"], script: script, directory: directory) == ["--http-port"])
    }

    @Test func zshAndFishScriptsParse() async throws {
        let (zsh, zshDirectory) = try await Self.script("zsh")
        #expect(try String(contentsOfFile: zsh, encoding: .utf8).hasPrefix("#compdef aws-ecr-cred-helper\n"))
        if let shell = Self.shell("zsh") {
            let syntax = try await ChildProcess.run(shell, ["-n", zsh], environment: [:], outputDirectory: zshDirectory)
            #expect(syntax.exitCode == 0, "zsh -n: \(syntax)")
            // bashcompinit calls the function under `emulate sh` (arrays from 0), as done here.
            let program = "autoload -U compinit; compinit -u; source \(zsh); f() { emulate -L sh; setopt kshglob noshglob braceexpand; COMP_WORDS=(aws-ecr-cred-helper status -o ''); COMP_CWORD=3; _aws_ecr_cred_helper; echo \"${COMPREPLY[*]}\"; }; f"
            let completed = try await ChildProcess.run(shell, ["-f", "-c", program], environment: ["HOME": zshDirectory], outputDirectory: zshDirectory)
            #expect(completed.stdout == "wide json yaml\n", "\(completed)")
        }
        let (fish, fishDirectory) = try await Self.script("fish")
        let lines = try String(contentsOfFile: fish, encoding: .utf8).split(separator: "\n")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("complete -c aws-ecr-cred-helper ") }, "\(lines)")
        #expect(lines.contains { $0.contains("__fish_seen_subcommand_from status") && $0.contains("-l output -s o -x -a 'wide json yaml'") }, "\(lines)")
        if let shell = Self.shell("fish") {
            let syntax = try await ChildProcess.run(shell, ["--no-execute", fish], environment: [:], outputDirectory: fishDirectory)
            #expect(syntax.exitCode == 0, "fish --no-execute: \(syntax)")
        }
    }

    @Test func aShellItDoesNotKnowIsAUsageError() async throws {
        let directory = NSTemporaryDirectory() + "completion-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let unknown = try await ChildProcess.run(try TestEnvironment.helperBinary(), ["completion", "tcsh"], environment: [:], outputDirectory: directory)
        #expect(unknown.exitCode == 64 && unknown.stderr.contains("<shell> is one of bash, zsh, fish, not 'tcsh'"), "\(unknown)")
        let missing = try await ChildProcess.run(try TestEnvironment.helperBinary(), ["completion"], environment: [:], outputDirectory: directory)
        #expect(missing.exitCode == 64 && missing.stderr.contains("completion needs <shell>: one of bash, zsh, fish"), "\(missing)")
    }
}
