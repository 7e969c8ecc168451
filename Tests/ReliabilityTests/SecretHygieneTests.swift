import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeClient
import KubeTestServer
import Logging
import SyncEngine
import Testing
import TestSupport

/// No secret key, session token, password, docker `auth` value or bearer token appears in logs (at trace),
/// errors, status, Events, metrics or descriptions, on the success path and on every failure path.
@Suite struct SecretHygieneTests {
    /// Every form a registry password takes in the secret: itself, and base64 of `AWS:password`.
    static func registryForms(_ password: String) -> [String] {
        [password, Data("AWS:\(password)".utf8).base64EncodedString()]
    }

    @Test func engineFlowsAtTraceLevelLeakNothing() async throws {
        var rules = PolicyRule.originalHelperRole()
        rules.append(PolicyRule(resources: ["events"], verbs: ["create"]))
        let fixture = try await ReliabilityFixture.start(rules: rules)
        defer { Task { await fixture.shutdown() } }
        let events = EventRecorder(client: fixture.kube, podName: "helper-0", podNamespace: "kube-system", logger: fixture.logs.logger(label: "events"))
        let controller = fixture.controller(events: events)
        var errors: [String] = []
        try await fixture.running(controller) {
            try await eventually("initial sync") { await fixture.allFresh(generation: 0) }
            // AWS fails twice, then a namespace is forbidden, writes fail and connections drop, then all recovers.
            fixture.tokens.failNext(2)
            fixture.forceRefresh()
            errors.append(try await eventuallyValue("AWS failure reported") { await fixture.status.current.lastError })
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/team-b/", fault: .status(403), times: 3))
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/team-a/", fault: .status(500), times: 1))
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/default/", fault: .dropConnection, times: 1))
            try await eventually("recovered", timeout: .seconds(30)) { await fixture.allFresh() }
            errors += await fixture.status.current.failingNamespaces.values
        }
        // Errors the client raises, rendered as a user sees them.
        for error in await clientErrors(fixture) { errors.append(error) }

        let settings = try fixture.settings.load()
        let login = try await fixture.tokens.fetchLogin(for: settings.aws)
        let desired = DesiredSecret(name: settings.secretName, installation: settings.installation, login: login)
        let descriptions = [
            "\(settings)", String(reflecting: settings), "\(settings.aws)", "\(login)", String(reflecting: login),
            "\(desired)", String(reflecting: desired), "\(desired.secret(in: "x"))", "\(fixture.kube.configuration)",
            dumped(settings), dumped(desired),
        ]
        let eventObjects = await fixture.server.objects("events", namespace: "kube-system")
        let eventMessages = eventObjects.map(\.jsonString)
        // Two failed fetches then a success: one RefreshFailed, one RefreshRecovered (not a pair per attempt).
        let reasons = eventObjects.compactMap { $0["reason"]?.stringValue }.sorted()
        #expect(reasons == ["RefreshFailed", "RefreshRecovered"], "\(reasons)")

        var secrets = [ReliabilityFixture.helperToken, fixture.server.adminToken, ReliabilityFixture.secretKey]
        for generation in 0...fixture.tokens.generation + 1 {
            secrets += Self.registryForms(ScriptedTokenSource.password(region: "us-east-1", generation: generation))
            secrets.append("\(ReliabilityFixture.secretKey)\(generation)")
        }
        let haystacks = [("logs", fixture.logs.all), ("errors", errors), ("descriptions", descriptions), ("events", eventMessages)]
        for (name, lines) in haystacks {
            let leaks = lines.filter { line in secrets.contains { line.contains($0) } }
            #expect(leaks.isEmpty, "secret material in \(name): \(leaks.prefix(3))")
        }
        // The dockerconfigjson bytes must not be printable as a byte list either.
        let passwordBytes = Array(ScriptedTokenSource.password(region: "us-east-1", generation: 0).utf8).map(String.init).joined(separator: ", ")
        #expect(descriptions.allSatisfy { !$0.contains(passwordBytes) }, "a description prints the secret's bytes")
        #expect(fixture.logs.all.count > 20, "trace logging was on")
    }

    private func dumped<T>(_ value: T) -> String {
        var out = ""
        dump(value, to: &out)
        return out
    }

    /// Failures of the helper's client as errors: 401, 403, 404, 500, transport.
    private func clientErrors(_ fixture: ReliabilityFixture) async -> [String] {
        var out: [String] = []
        let secret = Secret(name: "registry-aws-ecr", namespace: "team-a", type: DesiredSecret.type, data: [".dockerconfigjson": Array("{}".utf8)])
        for fault in [Fault.status(401), .status(403), .status(500), .dropConnection] {
            await fixture.server.inject(FaultRule(method: "PATCH", pathContains: "/namespaces/team-a/", fault: fault, times: 1))
            do { _ = try await fixture.kube.apply(secret, fieldManager: "hygiene") } catch { out.append("\(error)"); out.append(String(reflecting: error)) }
        }
        do { _ = try await fixture.kube.get(Secret.self, namespace: "nowhere", name: "x") } catch { out.append("\(error)") }
        return out
    }

    /// The executable's long-running mode at trace level, with AWS (moto) answering: stderr, stdout,
    /// /metrics, /readyz, /healthz and `status` hold no secret.
    @Test(.enabled(if: MotoEnvironment.current != nil, "needs moto: run scripts/test.sh"))
    func runningBinaryAtTraceLeaksNothing() async throws {
        let moto = try #require(MotoEnvironment.current)
        var rules = PolicyRule.originalHelperRole()
        rules.append(PolicyRule(resources: ["events"], verbs: ["create"]))
        let server = try await KubeTestServer.start(KubeTestServerConfiguration(
            users: [TestUser(name: ReliabilityFixture.helperUser, token: ReliabilityFixture.helperToken, rules: rules)],
            namespaces: ["default", "kube-system", "team-a"]
        ))
        defer { Task { try? await server.stop() } }
        let folder = try TemporaryFolder()
        try server.writeKubeconfig(to: folder.path + "/kubeconfig", token: ReliabilityFixture.helperToken, namespace: "kube-system")
        try FileManager.default.createDirectory(atPath: folder.path + "/config", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/aws", withIntermediateDirectories: true)
        try folder.write("config/NAMESPACES", "default team-a\n")
        try folder.write("aws/AWS_ACCESS_KEY_ID", moto.allowed.accessKeyId + "\n")
        try folder.write("aws/AWS_SECRET_ACCESS_KEY", moto.allowed.secretAccessKey + "\n")
        try folder.write("aws/AWS_DEFAULT_REGION", moto.region + "\n")
        let port = try FreePort.pick()
        let environment = [
            "HOME": folder.path, "KUBECONFIG": folder.path + "/kubeconfig", "AWS_ENDPOINT_URL": moto.endpoint,
            "LOG_LEVEL": "trace", "HTTP_PORT": "\(port)", "POD_NAME": "helper-0", "POD_NAMESPACE": "kube-system",
        ]
        let arguments = ["run", "--config-dir", folder.path + "/config", "--aws-config-dir", folder.path + "/aws"]
        let helper = try HelperProcess.start(arguments, environment: environment, in: folder)
        defer { helper.terminate() }

        let base = "http://127.0.0.1:\(port)"
        try await eventually("ready", timeout: .seconds(30)) { await HTTPGet.status(base + "/readyz") == 200 }
        let secret = try #require(try await server.object("secrets", namespace: "team-a", name: "registry-aws-ecr")?.decode(Secret.self))
        let config = try #require(secret.decodedString(".dockerconfigjson"))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        let auths = try #require(root["auths"] as? [String: [String: Any]])
        var secrets = [moto.allowed.secretAccessKey, ReliabilityFixture.helperToken, server.adminToken]
        for entry in auths.values {
            secrets += [entry["password"] as? String, entry["auth"] as? String].compactMap { $0 }.filter { $0.count >= 8 }
        }
        #expect(secrets.count >= 5)

        // A failure path too: a write fails with 403 once the secret is deleted.
        await server.inject(FaultRule(method: "PATCH", pathContains: "/secrets/", fault: .status(403), times: 2))
        await server.delete("secrets", namespace: "team-a", name: "registry-aws-ecr")
        try await eventually("restored", timeout: .seconds(20)) { await server.object("secrets", namespace: "team-a", name: "registry-aws-ecr") != nil }

        var outputs: [(String, String)] = []
        for path in ["/metrics", "/readyz", "/healthz"] { outputs.append((path, await HTTPGet.body(base + path) ?? "")) }
        let status = try await HelperBinary.run(["status", "--config-dir", folder.path + "/config", "--aws-config-dir", folder.path + "/aws"], environment: environment)
        outputs.append(("status stdout", status.stdout))
        outputs.append(("status stderr", status.stderr))
        await helper.stop()
        outputs.append(("run stdout", helper.stdout))
        outputs.append(("run stderr", helper.stderr))
        #expect(helper.stderr.contains("trace") || helper.stderr.contains("TRACE"), "trace logging was on")
        #expect(outputs[0].1.contains("aws_ecr_cred_helper_"), "metrics served")
        for (name, text) in outputs {
            let leaks = secrets.filter { text.contains($0) }
            #expect(leaks.isEmpty, "secret material in \(name)")
        }
    }
}


enum FreePort {
    static func pick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

enum HTTPGet {
    static func status(_ url: String) async -> Int? {
        guard let (_, response) = try? await URLSession.shared.data(from: URL(string: url)!) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    static func body(_ url: String) async -> String? {
        guard let (data, _) = try? await URLSession.shared.data(from: URL(string: url)!) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
