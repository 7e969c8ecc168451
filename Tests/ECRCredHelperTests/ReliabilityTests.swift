import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `run` under change and shutdown: a Kubernetes-style config swap is picked up without a restart, and
    /// SIGTERM in the middle of a pass ends cleanly without leaving a partial secret.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct ReliabilityTests {
        @Test func sigtermDuringSlowWritesFinishesThePassAndExitsZero() async throws {
            let namespaces = ["default", "kube-system", "team-a"]
            try await HelperWorld.with(namespaces: namespaces) { world in
                try world.writeOriginalConfig(namespaces: namespaces)
                try await world.running(environment: ["LOG_LEVEL": "debug"]) { process in
                    try await world.waitForSecrets(namespaces, process: process)
                    try await process.waitForLog("sync complete")
                    let old = try await configs(world, namespaces)
                    #expect(old.values.allSatisfy { $0.auths.count == 1 })

                    // A second region changes the secret's content; the API server now takes seconds per write.
                    await world.server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .delay(.seconds(2))))
                    try world.writeConfig("AWS_REGIONS", "\(world.moto.region) us-west-2\n")
                    // Tokens fetched for the new settings: the writes are being sent now.
                    try await process.waitForLog("fetched registry tokens", count: 2)
                    process.terminate()

                    let termination = try await process.wait(timeout: .seconds(30))
                    #expect(termination == .exited(0), "\(process.stderr.suffix(3000))")
                    #expect(process.stderr.contains("sync loop stopped"), "\(process.stderr.suffix(3000))")

                    // Every secret is whole: the old one or the new one, never a mix or a fragment.
                    let after = try await configs(world, namespaces)
                    for namespace in namespaces {
                        let config = try #require(after[namespace])
                        #expect(config == old[namespace] || config.auths.count == 2, "\(namespace): \(config.auths.keys)")
                        #expect(config.auths.values.allSatisfy { !$0.password.isEmpty && $0.auth == Data("\($0.username):\($0.password)".utf8).base64EncodedString() })
                    }
                    // The pass in flight was finished, not abandoned.
                    #expect(after.values.allSatisfy { $0.auths.count == 2 }, "\(after.mapValues { $0.auths.keys.sorted() })")
                    let patches = await world.secretWrites().filter { $0.method == "PATCH" }
                    #expect(patches.allSatisfy { $0.status < 300 }, "\(patches)")
                }
            }
        }

        /// Kubernetes kills a pod 30 s after SIGTERM: the helper must be gone well before, even when the API
        /// server hangs every request. Writes in flight get a short grace, then are abandoned (an apply is
        /// atomic on the server: nothing is half-written).
        @Test func sigtermWithAHangingAPIServerExitsWithinSeconds() async throws {
            try await HelperWorld.with(namespaces: ["default", "team-a"]) { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                try await world.running { process in
                    try await world.waitForSecrets(["default"], process: process)
                    try await process.waitForLog("sync complete")
                    await world.server.inject(FaultRule(fault: .delay(.seconds(120))))
                    try world.writeConfig("NAMESPACES", "default team-a\n")
                    try await process.waitForLog("configuration changed on disk")
                    let sent = ContinuousClock.now
                    process.terminate()
                    // The bound a user relies on (the default grace period is 30 s); the helper's own is 3 s.
                    let termination = try await process.wait(timeout: .seconds(10))
                    #expect(termination == .exited(0), "\(process.stderr.suffix(3000))")
                    #expect(sent.duration(to: .now) < .seconds(10))
                    await world.server.clearFaults()
                }
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func atomicConfigSwapAddsNamespaceWithoutRestart(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "team-a", "team-b"]) { world in
                try world.writeAWSFiles()
                // The kubelet's layout for a mounted Secret: files are links into `..data`, which links to a
                // timestamped folder; an update writes a new folder and swaps `..data` in one rename.
                let mount = MountedSecretFolder(path: world.configDirectory)
                try mount.publish(["NAMESPACES": "default\n", "SECRET_NAME": world.secretName + "\n"])

                try await world.running { process in
                    try await world.waitForSecrets(["default"], process: process)
                    #expect(await world.secret("team-a") == nil)

                    try mount.publish(["NAMESPACES": "default\nteam-a\n", "SECRET_NAME": world.secretName + "\n"])
                    try await world.waitForSecrets(["team-a"], timeout: .seconds(10), process: process)
                    try await process.waitForLog("configuration changed on disk")

                    try mount.publish(["NAMESPACES": "default team-a team-b\r\n", "SECRET_NAME": world.secretName + "\n"])
                    try await world.waitForSecrets(["team-b"], timeout: .seconds(10), process: process)
                    #expect(process.isRunning)
                    #expect(process.stderr.components(separatedBy: "starting").count == 2, "the helper restarted")
                }
            }
        }

        @Test func invalidConfigurationIsRetriedNotFatalAndSigtermDuringBackoffExitsCleanly() async throws {
            try await HelperWorld.with { world in
                try world.writeAWSFiles()
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(port)"]) { process in
                    // No NAMESPACES yet: the helper says so and waits for the file, it does not exit.
                    try await process.waitForLog("NAMESPACES is empty or missing")
                    let notReady = try await HTTPProbe.waitFor(port: port, "/readyz", status: 503)
                    #expect(notReady.body.contains("NAMESPACES"), "\(notReady.body)")
                    #expect(process.isRunning)

                    try world.writeConfig("NAMESPACES", "default team-a\n")
                    try await world.waitForSecrets(["default", "team-a"], process: process)
                    _ = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200)
                    let before = await world.server.objects("secrets", namespace: nil)

                    // A rotated key that does not work: refresh fails, the secrets stay, retries back off.
                    try world.writeAWS("AWS_SECRET_ACCESS_KEY", "rotated-but-wrong-0123456789abcdefghijkl\n")
                    try await process.waitForLog("refresh failed, existing secrets left untouched")
                    #expect(await world.server.objects("secrets", namespace: nil) == before)

                    // SIGTERM while waiting for the next attempt: a prompt, clean exit.
                    process.terminate()
                    #expect(try await process.wait(timeout: .seconds(15)) == .exited(0), "\(process.stderr.suffix(2000))")
                    #expect(!process.output.contains("rotated-but-wrong-0123456789abcdefghijkl"))
                }
            }
        }

        /// The watch's first list races the first pass; what the pass wrote must not be written again.
        @Test func startupWritesEachNamespaceOnce() async throws {
            let namespaces = ["default", "kube-system", "team-a", "team-b", "team-c"]
            try await HelperWorld.with(namespaces: namespaces) { world in
                try world.writeOriginalConfig(namespaces: namespaces)
                try await world.running { process in
                    try await world.waitForSecrets(namespaces, process: process)
                    try await process.waitForLog("sync complete")
                    // A repair goes through the same queue as any repair queued at startup: once it is done,
                    // everything queued before it is done too.
                    await world.server.delete("secrets", namespace: "team-c", name: HelperWorld.secretName)
                    try await world.waitForSecrets(["team-c"], process: process)
                    try await process.waitForLog("repaired pull secret")
                    let writes = await world.secretWrites()
                    let perNamespace = Dictionary(grouping: writes, by: { $0.namespace ?? "" }).mapValues(\.count)
                    #expect(perNamespace == ["default": 1, "kube-system": 1, "team-a": 1, "team-b": 1, "team-c": 2], "\(perNamespace)\n\(process.stderr)")
                }
            }
        }

        private func configs(_ world: HelperWorld, _ namespaces: [String]) async throws -> [String: DockerConfig] {
            var configs: [String: DockerConfig] = [:]
            for namespace in namespaces {
                configs[namespace] = try await world.dockerConfig(namespace)
            }
            return configs
        }
    }
}

/// A folder laid out as the kubelet mounts a Secret or ConfigMap: `NAME -> ..data/NAME`,
/// `..data -> ..<version>`, and updates that swap `..data` atomically.
struct MountedSecretFolder {
    let path: String

    func publish(_ files: [String: String]) throws {
        let version = "..2026_11_26_" + UUID().uuidString.prefix(8)
        let folder = path + "/" + version
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, contents) in files {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        let staging = path + "/..data_tmp"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createSymbolicLink(atPath: staging, withDestinationPath: version)
        guard rename(staging, path + "/..data") == 0 else { throw SpawnFailure(description: "cannot swap ..data in \(path)") }
        for name in files.keys {
            let link = path + "/" + name
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "..data/" + name { continue }
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "..data/" + name)
        }
    }
}
