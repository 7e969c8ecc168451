#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `run` is event-driven: new matching namespaces, deleted and edited secrets are handled as they happen
    /// (a config swap too: ReliabilityTests.atomicConfigSwapAddsNamespaceWithoutRestart), on both servers.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct WatchTests {
        static let rules = PolicyRule.originalHelperRole() + [PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"])]

        @Test(arguments: APIServerKind.enabled)
        func patternPicksUpNewNamespacesAndEditedSecretsAreRepaired(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "team-a", "other"], rules: Self.rules) { world in
                try world.writeOriginalConfig(namespaces: ["team-*"])
                try world.writeConfig("EXCLUDE_NAMESPACES", "team-private\n")
                try await world.running { process in
                    try await world.waitForSecrets(["team-a"], process: process)
                    #expect(await world.secret("default") == nil)
                    #expect(await world.secret("other") == nil)

                    try await world.createNamespace("team-new")
                    try await world.createNamespace("team-private")
                    try await world.waitForSecrets(["team-new"], timeout: .seconds(10), process: process)
                    let good = try #require(try await world.dockerConfig("team-a"))
                    #expect(try await world.dockerConfig("team-new") == good)

                    // Someone overwrites the secret's content: it is put back.
                    var edited = try #require(await world.secret("team-a"))
                    if case var .object(fields) = edited {
                        fields["data"] = [".dockerconfigjson": .string(Data(#"{"auths":{}}"#.utf8).base64EncodedString())]
                        edited = .object(fields)
                    }
                    try await world.put("secrets", namespace: "team-a", edited)
                    try await eventually("edited secret repaired", timeout: .seconds(10)) {
                        (try? await world.dockerConfig("team-a")) == good
                    }
                    #expect(await world.secret("team-private") == nil, "an excluded namespace got the secret")

                    // Someone deletes it: it is written again (the watch's DELETED event, not a resync).
                    try await world.delete("secrets", namespace: "team-new", name: world.secretName)
                    try await world.waitForSecrets(["team-new"], timeout: .seconds(10), process: process)
                    #expect(try await world.dockerConfig("team-new") == good)

                    // SIGINT (Ctrl-C in a terminal) stops it as cleanly as SIGTERM.
                    process.signal(SIGINT)
                    #expect(try await process.wait(timeout: .seconds(20)) == .exited(0), "\(process.stderr.suffix(2000))")
                }
            }
        }

        @Test func versionCommandAndFlag() async throws {
            try await HelperWorld.with { world in
                let command = try await world.run("version", locations: false)
                #expect(command.exitCode == 0)
                #expect(command.stdout.hasPrefix("aws-ecr-cred-helper "), "\(command)")
                let flag = try await world.run("--version", locations: false)
                #expect(flag.exitCode == 0)
                #expect(command.stdout.contains(flag.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(flag)")
            }
        }
    }
}
