import Foundation
import KubeTestServer
import TestSupport
import Testing

extension HelperBinaryTests {
    /// A busy API server under API Priority and Fairness: the helper's requests get a share of seats, and
    /// the excess is rejected (429, Retry-After) or queued. The helper writes at the rate it is granted
    /// and never gives up early. The stand-in's throttle mode and the real server with APF on (a private
    /// one, with the helper's ServiceAccount in a priority level of one share) run the same cases.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct ThrottlingTests {
        enum Mode: String, Sendable, CaseIterable { case reject, queue }

        struct Case: Sendable, CustomTestStringConvertible {
            var kind: APIServerKind
            var mode: Mode
            var testDescription: String { "\(kind), \(mode)" }
            static var all: [Case] { APIServerKind.enabled.flatMap { kind in Mode.allCases.map { Case(kind: kind, mode: $0) } } }
        }

        /// Sets up a throttled world: the stand-in in throttle mode, or a private real server with APF.
        private func withThrottledWorld(
            _ test: Case, namespaces count: Int, _ body: (HelperWorld, [String]) async throws -> Void
        ) async throws {
            let server = test.kind == .real ? try await RealAPIServer.startPrivate(extraFlags: RealAPIServer.priorityAndFairnessFlags) : nil
            do {
                let names = (0..<count).map { String(format: "throttled-%03d", $0) }
                try await HelperWorld.with(test.kind, namespaces: ["default"], realServer: server) { world in
                    for name in names { try await world.createNamespace(name) }
                    if let server {
                        let account = String(world.helperUser.split(separator: ":").last ?? "")
                        try await server.throttle(serviceAccount: account, namespace: "kube-system", queue: test.mode == .queue)
                    } else {
                        await world.server.throttle(ThrottleConfiguration(
                            seats: 2, mode: test.mode == .queue ? .queue : .reject, serviceTime: .milliseconds(5),
                            users: [world.helperUser]))
                    }
                    try await body(world, names)
                }
                await server?.stop()
            } catch {
                await server?.stop()
                throw error
            }
        }

        /// `sync` writes every namespace and exits 0, however many answers were 429; throttling is one
        /// summary line, not a line per namespace.
        @Test(arguments: Case.all)
        func syncWritesEverythingAtTheGrantedRate(_ test: Case) async throws {
            let count = test.kind == .real ? 300 : 80
            try await withThrottledWorld(test, namespaces: count) { world, names in
                try world.writeOriginalConfig(namespaces: names)
                let result = try await world.run("sync", timeout: .seconds(240))
                #expect(result.exitCode == 0, "\(result.stderr.suffix(3000))")
                #expect(result.stdoutLines.filter { $0.hasSuffix("\twritten") }.count == count, "\(result.stdout.suffix(2000))")
                #expect(try await world.managedSecrets().count == count)
                let throttleLines = result.stderrLines.filter { $0.contains("throttled") }
                #expect(throttleLines.count <= 1, "\(throttleLines)")
                if test.kind == .standIn && test.mode == .reject {
                    #expect(world.server.throttleRejections > 0, "the stand-in never throttled: the test proves nothing")
                    #expect(throttleLines.count == 1, "\(result.stderr.suffix(2000))")
                }
            }
        }

        /// `run` converges under throttling, and once it stops, repairs are immediate again.
        @Test(arguments: Case.all.filter { $0.mode == .reject })
        func runConvergesAndRecovers(_ test: Case) async throws {
            let count = test.kind == .real ? 150 : 60
            try await withThrottledWorld(test, namespaces: count) { world, names in
                try world.writeOriginalConfig(namespaces: names)
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(port)"]) { process in
                    try await world.waitForSecrets(names, timeout: .seconds(180), process: process)
                    _ = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200, timeout: .seconds(30))
                    let metrics = try #require(await HTTPProbe.get(port: port, "/metrics"))
                    if test.kind == .standIn {
                        #expect(PrometheusText(metrics.body).total("aws_ecr_cred_helper_api_throttled_requests_total") > 0, "\(metrics.body)")
                        await world.server.throttle(nil)
                    }
                    try await world.delete("secrets", namespace: names[0], name: world.secretName)
                    try await world.waitForSecrets([names[0]], timeout: .seconds(30), process: process)
                    #expect(process.isRunning)
                }
            }
        }

        /// The stand-in's rejection is kube-apiserver's: 429, `Retry-After: 1`, a plain-text body.
        @Test(arguments: APIServerKind.enabled)
        func rejectionLooksLikeTheRealServers(_ kind: APIServerKind) async throws {
            try await withThrottledWorld(Case(kind: kind, mode: .reject), namespaces: 0) { world, _ in
                let rejected = try await firstRejection(world)
                #expect(rejected.status == 429)
                #expect(rejected.retryAfter == "1")
                #expect(rejected.body.hasPrefix("Too many requests, please try again later."), "\(rejected.body)")
            }
        }

        private func firstRejection(_ world: HelperWorld) async throws -> (status: Int, retryAfter: String?, body: String) {
            let url = world.real?.url ?? world.server.url
            let ca = world.real?.caPEM ?? world.server.caPEM
            return try await HTTPProbe.firstRejection(url: url, caPEM: ca, token: world.token, secretName: world.secretName, parallel: 64)
        }
    }
}
