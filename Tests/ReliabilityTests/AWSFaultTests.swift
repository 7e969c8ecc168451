import Foundation
import KubeClient
import KubeTestServer
import Logging
import SyncEngine
import Testing
import TestSupport

/// Faults on the AWS side, through the engine: a refresh that cannot get a token writes nothing, the
/// existing secrets stay valid, the failure is one line in the status, and the next attempt recovers.
@Suite struct AWSFaultTests {
    @Test func tokenSourceFailingLeavesSecretsAndRecovers() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("initial sync") { await fixture.allFresh(generation: 0) }
            fixture.tokens.failNext(2)
            fixture.forceRefresh()
            let error = try await eventuallyValue("the failure is reported") { await fixture.status.current.lastError }
            #expect(error == "AWS is unavailable (scripted test failure)")
            #expect(await fixture.allFresh(generation: 0), "the old secrets stay in place")
            #expect(await fixture.status.readiness().ready, "unexpired secrets keep the helper ready")
            try await eventually("recovered with the new token", timeout: .seconds(20)) { await fixture.allFresh() }
            try await eventually("the error clears with the success") { await fixture.status.current.lastError == nil }
        }
        #expect(fixture.observer.violations.isEmpty, "\(fixture.observer.violations)")
        #expect(fixture.tokens.calls >= 4)
    }

    @Test func awsDownAtStartWritesNothingUntilItComesBack() async throws {
        let fixture = try await ReliabilityFixture.start()
        defer { Task { await fixture.shutdown() } }
        fixture.tokens.setFailing(true)
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("two failed attempts", timeout: .seconds(15)) { fixture.tokens.calls >= 2 }
            #expect(await fixture.requests("patch").isEmpty)
            let readiness = await fixture.status.readiness()
            #expect(!readiness.ready && readiness.reason.contains("no successful sync yet"), "\(readiness)")
            fixture.tokens.setFailing(false)
            try await eventually("synced once AWS answers", timeout: .seconds(20)) { await fixture.allFresh() }
        }
        #expect(fixture.observer.violations.isEmpty, "\(fixture.observer.violations)")
    }

    /// ECR through scripts/aws/fault_proxy.py in front of moto (signature checking on).
    @Test(
        .enabled(if: MotoEnvironment.current != nil && ScriptServer.python != nil, "needs moto and TEST_PYTHON: run scripts/test.sh"),
        arguments: ["throttling", "server-error", "malformed", "bad-base64", "dropped"]
    )
    func ecrFaultsThroughTheEngine(_ kind: String) async throws {
        let moto = try #require(MotoEnvironment.current)
        let proxy = try await FaultProxy(upstream: moto.endpoint)
        defer { proxy.stop() }
        var logger = Logger(label: "aws")
        logger.logLevel = .critical
        let source = try ECRTokenSource(environment: ["AWS_ENDPOINT_URL": proxy.url], logger: logger)
        let registry = "https://\(moto.account).dkr.ecr.\(moto.region).amazonaws.com"
        let fixture = try await ReliabilityFixture.start(
            settings: [
                "AWS_ACCESS_KEY_ID": moto.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.allowed.secretAccessKey,
                "AWS_DEFAULT_REGION": moto.region,
            ],
            registries: [registry]
        )
        defer { Task { await fixture.shutdown(); try? await source.shutdown() } }

        let target = "GetAuthorizationToken"
        let rules: [[String: Any]] = switch kind {
        case "throttling":
            [["match": ["target": target], "times": 3, "status": 400, "headers": ["Content-Type": "application/x-amz-json-1.1"],
              "body": #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#]]
        case "server-error":
            [["match": ["target": target], "times": 3, "status": 503, "body": "<html>Service Unavailable</html>"]]
        case "malformed":
            [["match": ["target": target], "times": 1, "status": 200, "headers": ["Content-Type": "application/x-amz-json-1.1"],
              "body": #"{"authorizationData":[{"proxyEndpoint":"https://x.dkr.ecr.us-east-1.amazonaws.com"}]}"#]]
        case "bad-base64":
            [["match": ["target": target], "times": 1, "status": 200, "headers": ["Content-Type": "application/x-amz-json-1.1"],
              "body": #"{"authorizationData":[{"authorizationToken":"%%%","proxyEndpoint":"https://x.dkr.ecr.us-east-1.amazonaws.com","expiresAt":4102444800}]}"#]]
        default:
            [["match": ["target": target], "times": 3, "drop": true]]
        }

        let controller = fixture.controller(tokens: source)
        try await fixture.running(controller) {
            try await eventually("initial sync through moto", timeout: .seconds(15)) {
                var all = true
                for namespace in fixture.targets where await fixture.secret(namespace) == nil { all = false }
                return all
            }
            let before = await fixture.status.current.lastSuccess
            var contents: [String: [UInt8]] = [:]
            for namespace in fixture.targets { contents[namespace] = await fixture.secret(namespace)?.decodedData(".dockerconfigjson") }
            try await proxy.addRules(rules)
            // A change on the AWS side of the settings makes the controller fetch a token at once.
            fixture.settings.update { $0["AWS_ROLE_SESSION_NAME"] = "reliability-\(kind)" }
            let error = try await eventuallyValue("the failure is reported", timeout: .seconds(20)) { await fixture.status.current.lastError }
            #expect(!error.contains("\n"), "\(error)")
            #expect(!error.contains(moto.allowed.secretAccessKey))
            for namespace in fixture.targets {
                #expect(await fixture.secret(namespace)?.decodedData(".dockerconfigjson") == contents[namespace], "a failed refresh changes no secret")
            }
            try await eventually("recovered", timeout: .seconds(30)) {
                let status = await fixture.status.current
                return status.lastError == nil && status.lastSuccess != before
            }
            let faults = try await proxy.requests().compactMap(\.fault)
            #expect(!faults.isEmpty)
        }
        #expect(fixture.observer.violations.isEmpty, "\(fixture.observer.violations)")
        #expect(fixture.observer.versionsSeen >= fixture.targets.count)
    }
}
