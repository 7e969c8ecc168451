import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// No secret reaches a terminal or a log collector: not in help, not at trace level, not in JSON logs.
    @Suite struct SecretHygieneTests {
        static let subcommands: [[String]] = [
            ["run"], ["sync"], ["render"], ["check"], ["status"], ["cleanup"], ["version"],
            ["credential-provider"], ["credential-provider", "get"], ["credential-provider", "install"],
        ]

        /// Needs no moto and no cluster: help is printed before anything is read.
        @Test func helpOfEveryCommandEchoesNoSecret() async throws {
            let binary = try TestEnvironment.helperBinary()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecr-helper-help-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let environment = [
                "PATH": "/usr/bin:/bin",
                "HOME": directory,
                "AWS_SECRET_ACCESS_KEY": "env-secret-key-" + UUID().uuidString,
                "AWS_SESSION_TOKEN": "env-session-token-" + UUID().uuidString,
                "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            ]
            let invocations = [["--help"], ["help"]] + Self.subcommands.flatMap { [$0 + ["--help"], ["help"] + $0] }
            for invocation in invocations {
                let process = try ChildProcess(executable: binary, arguments: invocation, environment: environment, outputDirectory: directory)
                let termination = try await process.wait(timeout: .seconds(20))
                #expect(termination == .exited(0), "\(invocation): \(process.output)")
                #expect(process.stdout.contains("USAGE"), "\(invocation): \(process.output)")
                for secret in [environment["AWS_SECRET_ACCESS_KEY"]!, environment["AWS_SESSION_TOKEN"]!] {
                    #expect(!process.output.contains(secret), "\(invocation) printed a secret")
                }
                if invocation.contains("sync") || invocation.contains("credential-provider") {
                    // Secret values have no flag at all: a command line is visible to every process on the node.
                    #expect(!process.stdout.contains("--aws-secret-access-key") && !process.stdout.contains("--aws-session-token"))
                }
            }
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason), arguments: ["text", "json"])
        func syncAtTraceLevelLogsNoSecret(format: String) async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let result = try await world.run("sync", environment: ["LOG_LEVEL": "trace", "LOG_FORMAT": format])
                #expect(result.exitCode == 0, "\(result)")
                #expect(result.stderr.lines.count > 1, "trace level should say something: \(result)")
                try await expectNoSecrets(in: result.output, world: world)
                if format == "json" { expectJSONLines(result.stderr) }

                // A failing AWS call at trace level: the wrong secret is not echoed either.
                let wrong = "Wr0ng" + String(world.moto.allowed.secretAccessKey.dropFirst(5))
                try world.writeAWS("AWS_SECRET_ACCESS_KEY", wrong + "\n")
                let failed = try await world.run("sync", environment: ["LOG_LEVEL": "trace", "LOG_FORMAT": format])
                #expect(failed.exitCode != 0)
                #expect(!failed.output.contains(wrong))
                try await expectNoSecrets(in: failed.output, world: world)
                if format == "json" { expectJSONLines(failed.stderr) }
            }
        }

        @Test(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason), arguments: ["text", "json"])
        func runAtTraceLevelLogsNoSecret(format: String) async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default", "team-a"])
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["LOG_LEVEL": "trace", "LOG_FORMAT": format, "HTTP_PORT": "\(port)"]) { process in
                    try await world.waitForSecrets(["default", "team-a"], process: process)
                    try await process.waitForLog("sync complete")
                    // A repair and the probes, so more code paths log.
                    await world.server.delete("secrets", namespace: "team-a", name: HelperWorld.secretName)
                    try await world.waitForSecrets(["team-a"], process: process)
                    _ = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200)
                    _ = await HTTPProbe.get(port: port, "/metrics")
                    process.terminate()
                    #expect(try await process.wait(timeout: .seconds(20)) == .exited(0), "\(process.stderr.suffix(2000))")
                    try await expectNoSecrets(in: process.output, world: world)
                    if format == "json" { expectJSONLines(process.stderr) }
                }
            }
        }

        /// The AWS secret key, the bearer token, and every password, `auth` value and encoded config the
        /// helper wrote.
        private func expectNoSecrets(in output: String, world: HelperWorld, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            var secrets = [world.moto.allowed.secretAccessKey, world.token]
            for secret in await world.server.objects("secrets", namespace: nil) {
                secrets += try DockerConfig(secret: secret).secretValues
                if let encoded = secret["data"]?[".dockerconfigjson"]?.stringValue { secrets.append(encoded) }
            }
            #expect(secrets.count >= 2, sourceLocation: sourceLocation)
            for secret in secrets where !secret.isEmpty {
                let hit = output.lines.first { $0.contains(secret) }
                #expect(hit == nil, "a secret value was printed in: \(hit ?? "")", sourceLocation: sourceLocation)
            }
        }

        /// Every log line is a JSON object. A failed command's final `Error: ...` line is its answer to the
        /// caller (printed by the argument parser), not a log line.
        private func expectJSONLines(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for line in stderr.lines where !line.hasPrefix("Error: ") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON object line: \(line)", sourceLocation: sourceLocation)
                if let object {
                    #expect(object["msg"] is String && object["level"] is String && object["time"] is String, "\(line)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}
