import Foundation
import KubeTestServer
import SyncEngine
import TestSupport
import Testing

extension HelperBinaryTests {
    /// `run` as an operator sees it: probes, Prometheus metrics, and Events on the helper's own Pod.
    @Suite(.enabled(if: TestEnvironment.hasMoto, TestEnvironment.motoReason))
    struct OperabilityTests {
        static let prefix = "aws_ecr_cred_helper_"

        @Test func probesAndMetricsFollowAFailedThenSuccessfulRefresh() async throws {
            try await HelperWorld.with { world in
                let wrongKey = String(world.moto.allowed.secretAccessKey.reversed())
                try world.writeOriginalConfig(namespaces: ["default", "team-a"], secretKey: wrongKey)
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(port)"]) { process in
                    let health = try await HTTPProbe.waitFor(port: port, "/healthz", status: 200)
                    #expect(health.body.contains("ok"))

                    // The first refresh fails: not ready, and the failure is counted.
                    let failing = try await eventuallyValue("a refresh failure in /metrics", timeout: .seconds(20)) {
                        guard let answer = await HTTPProbe.get(port: port, "/metrics") else { return nil as PrometheusText? }
                        let metrics = PrometheusText(answer.body)
                        return metrics.total(Self.prefix + "refresh_failures_total") > 0 ? metrics : nil
                    }
                    #expect(failing.problems.isEmpty, "\(failing.problems)")
                    let notReady = try #require(await HTTPProbe.get(port: port, "/readyz"))
                    #expect(notReady.status == 503, "\(notReady.body)")
                    #expect(notReady.body.contains("no successful sync"), "\(notReady.body)")
                    #expect(!notReady.body.contains(wrongKey))
                    #expect((await HTTPProbe.get(port: port, "/healthz"))?.status == 200, "a failing refresh is not a dead process")
                    #expect(await world.secret("default") == nil)

                    // The key is fixed in the mounted file: no restart, ready within seconds.
                    try world.writeAWS("AWS_SECRET_ACCESS_KEY", world.moto.allowed.secretAccessKey + "\n")
                    _ = try await HTTPProbe.waitFor(port: port, "/readyz", status: 200, timeout: .seconds(20))
                    try await world.waitForSecrets(["default", "team-a"], process: process)

                    let answer = try #require(await HTTPProbe.get(port: port, "/metrics"))
                    #expect(answer.status == 200)
                    let metrics = PrometheusText(answer.body)
                    #expect(metrics.problems.isEmpty, "\(metrics.problems)\n\(answer.body)")
                    let lastSuccess = try #require(metrics.values(Self.prefix + "last_success_timestamp_seconds").first, "\(answer.body)")
                    #expect(lastSuccess.value > 1_600_000_000)
                    let expiry = metrics.values(Self.prefix + "token_expiry_timestamp_seconds")
                    #expect(!expiry.isEmpty, "moto's expiresAt lies in the past, but it is still a value: \(answer.body)")
                    #expect(expiry.allSatisfy { $0.labels.contains("region=\"\(world.moto.region)\"") && $0.labels.contains("registry=\"") }, "\(expiry)")
                    let written = metrics.values(Self.prefix + "secret_writes_total").filter { $0.labels.contains("outcome=\"written\"") }
                    #expect(written.reduce(0) { $0 + $1.value } >= 2, "\(answer.body)")
                    #expect(metrics.total(Self.prefix + "refresh_failures_total") >= 1)
                    #expect(metrics.values(Self.prefix + "aws_requests_total").contains { $0.labels.contains("outcome=\"failure\"") })
                    #expect(metrics.values(Self.prefix + "aws_requests_total").contains { $0.labels.contains("outcome=\"success\"") })
                    for name in ["refresh_failures_total", "secret_writes_total", "aws_requests_total"] {
                        #expect(metrics.types[Self.prefix + name] == "counter", "\(name): \(metrics.types[Self.prefix + name] ?? "no TYPE")")
                    }
                    for name in ["last_success_timestamp_seconds", "token_expiry_timestamp_seconds", "managed_namespaces"] {
                        #expect(metrics.types[Self.prefix + name] == "gauge", "\(name): \(metrics.types[Self.prefix + name] ?? "no TYPE")")
                    }
                    // HELP and TYPE on every family, as the catalogue says (promtool check metrics needs both).
                    for (name, type) in metrics.types where name.hasPrefix(Self.prefix) {
                        let family = HelperMetrics.family(named: name)
                        #expect(family?.kind.rawValue == type, "\(name): TYPE \(type), catalogue \(String(describing: family?.kind))")
                        #expect(metrics.helps[name] == family?.help, "\(name): HELP \(metrics.helps[name] ?? "missing")")
                    }
                    // Every family but the opt-in one, and the oldest secret expiry: moto's tokens carry no
                    // future expiresAt, so no secret has a known expiry.
                    let declared = Set(HelperMetrics.families.filter { !$0.optIn }.map(\.name)).subtracting([HelperMetrics.oldestSecretExpiry.name])
                    #expect(Set(metrics.types.keys) == declared, "\(metrics.types.keys.sorted())")
                    #expect(metrics.values(Self.prefix + "managed_namespaces").first?.value == 2)
                    #expect(metrics.values(Self.prefix + "target_namespaces").filter { $0.labels == "state=\"fresh\"" }.first?.value == 2)
                    #expect(metrics.values(Self.prefix + "leader").first?.value == 1, "without election this replica is the writer")
                    #expect(!answer.body.contains(world.moto.allowed.secretAccessKey))
                }
            }
        }

        /// Per-namespace freshness as counts by state, with no namespace name in any label; per-namespace
        /// failure counts only when the user opts in.
        @Test(arguments: APIServerKind.enabled)
        func namespaceStatesAreCountsAndPerNamespaceSeriesAreOptIn(_ kind: APIServerKind) async throws {
            try await HelperWorld.with(kind, namespaces: ["default", "team-a"]) { world in
                let missing = "team-missing-" + uniqueSuffix(6)
                try await world.put("secrets", namespace: "team-a", .object([
                    "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": .object(["name": .string(world.secretName), "namespace": "team-a"]),
                    "data": .object(["note": "c29tZW9uZSBlbHNlJ3M="]),
                ]))
                try world.writeOriginalConfig(namespaces: ["default", "team-a", missing])
                @Sendable func states(_ port: Int) async -> [String: Double]? {
                    guard let answer = await HTTPProbe.get(port: port, "/metrics") else { return nil }
                    let samples = PrometheusText(answer.body).values(Self.prefix + "target_namespaces")
                    let states = Dictionary(samples.map { ($0.labels, $0.value) }) { a, _ in a }
                    return states == ["state=\"fresh\"": 1, "state=\"foreign\"": 1, "state=\"failing\"": 1] ? states : nil
                }
                let port = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(port)"]) { _ in
                    _ = try await eventuallyValue("one namespace fresh, one foreign, one failing", timeout: .seconds(30)) { await states(port) }
                    let body = try #require(await HTTPProbe.get(port: port, "/metrics")).body
                    #expect(!body.contains(missing) && !body.contains("namespace="), "no namespace name in a label by default:\n\(body)")
                    #expect(!body.contains(Self.prefix + "namespace_write_failures_total"))
                    let failed = PrometheusText(body).values(Self.prefix + "secret_writes_total").filter { $0.labels == "outcome=\"failed\"" }
                    #expect((failed.first?.value ?? 0) >= 1, "\(body)")
                }
                let optIn = try HTTPProbe.freePort()
                try await world.running(environment: ["HTTP_PORT": "\(optIn)", "METRICS_PER_NAMESPACE": "true"]) { _ in
                    let series = try await eventuallyValue("a failure series for \(missing)", timeout: .seconds(30)) { () -> [PrometheusText.Sample]? in
                        guard let answer = await HTTPProbe.get(port: optIn, "/metrics") else { return nil }
                        let series = PrometheusText(answer.body).values(Self.prefix + "namespace_write_failures_total")
                        return series.isEmpty ? nil : series
                    }
                    #expect(series.map(\.labels) == ["target_namespace=\"\(missing)\""], "only the failing namespace: \(series)")
                }
                let refused = try await world.run("run", environment: ["METRICS_PER_NAMESPACE": "sometimes"], timeout: .seconds(30))
                #expect(refused.exitCode != 0 && refused.exitCode != nil, "\(refused)")
                #expect(refused.stderrLines.contains { $0.contains("METRICS_PER_NAMESPACE") && $0.contains("sometimes") }, "\(refused)")
            }
        }

        @Test(arguments: APIServerKind.enabled)
        func failedRefreshRecordsWarningEventOnOwnPodAndRecoveryANormalOne(_ kind: APIServerKind) async throws {
            let rules = PolicyRule.originalHelperRole() + [PolicyRule(resources: ["events"], verbs: ["create", "patch"])]
            try await HelperWorld.with(kind, rules: rules) { world in
                let wrongKey = String(world.moto.allowed.secretAccessKey.reversed())
                try world.writeOriginalConfig(namespaces: ["default"], secretKey: wrongKey)
                let pod = "aws-ecr-cred-helper-5d8f7c9b4-" + uniqueSuffix(5)
                @Sendable func events(_ reason: String) async throws -> [JSONValue] {
                    try await world.objects("events", namespace: "kube-system").filter {
                        $0["reason"]?.stringValue == reason && $0["involvedObject"]?["name"]?.stringValue == pod
                    }
                }
                try await world.running(environment: ["POD_NAME": pod, "POD_NAMESPACE": "kube-system"]) { process in
                    let failed = try await eventuallyValue("a RefreshFailed event", timeout: .seconds(20)) {
                        try await events("RefreshFailed").first
                    }
                    #expect(failed["type"]?.stringValue == "Warning")
                    #expect(failed["involvedObject"]?["kind"]?.stringValue == "Pod")
                    #expect(failed["involvedObject"]?["name"]?.stringValue == pod)
                    #expect(failed["involvedObject"]?["namespace"]?.stringValue == "kube-system")
                    let message = failed["message"]?.stringValue ?? ""
                    #expect(message.contains("SignatureDoesNotMatch") || message.lowercased().contains("secret access key"), "\(message)")
                    #expect(!message.contains(wrongKey))

                    try world.writeAWS("AWS_SECRET_ACCESS_KEY", world.moto.allowed.secretAccessKey + "\n")
                    let recovered = try await eventuallyValue("a RefreshRecovered event", timeout: .seconds(20)) {
                        try await events("RefreshRecovered").first
                    }
                    #expect(recovered["type"]?.stringValue == "Normal")
                    #expect(recovered["involvedObject"]?["name"]?.stringValue == pod)
                    // One Warning for the failing stretch, not one per retry.
                    let warnings = try await events("RefreshFailed")
                    #expect(warnings.count == 1)
                    #expect(process.isRunning)
                }
            }
        }

        /// 8080 is often taken on a workstation: the error names the setting and the way out.
        @Test func portInUseIsOneClearLine() async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default"])
                try await HTTPProbe.withOccupiedPort { port in
                    let result = try await world.run("run", environment: ["HTTP_PORT": "\(port)"], timeout: .seconds(30))
                    #expect(result.exitCode != 0 && result.exitCode != nil, "\(result)")
                    let errors = result.stderrLines.filter { $0.hasPrefix("Error: ") }
                    #expect(errors.count == 1, "\(result)")
                    #expect(errors == ["Error: HTTP_PORT \(port) is in use by another process: set HTTP_PORT (or --http-port) to a free port, or 0 to turn /healthz, /readyz and /metrics off"], "\(result)")
                    // The cause first and alone: the refresh the shutdown cancelled is no failure of its own.
                    #expect(!result.stderr.contains("refresh failed") && !result.stderr.contains("CancellationError"), "\(result)")
                }
            }
        }

        @Test func withoutEventsPermissionItLogsOnceAndKeepsWorking() async throws {
            try await HelperWorld.with { world in
                try world.writeOriginalConfig(namespaces: ["default"], secretKey: "not-the-secret-key-at-all-0123456789")
                try await world.running(environment: ["POD_NAME": "helper-pod", "POD_NAMESPACE": "kube-system"]) { process in
                    try await process.waitForLog("not recording Kubernetes Events")
                    try world.writeAWS("AWS_SECRET_ACCESS_KEY", world.moto.allowed.secretAccessKey + "\n")
                    try await world.waitForSecrets(["default"], process: process)
                    #expect(await world.server.objects("events", namespace: nil).isEmpty)
                }
            }
        }
    }
}
