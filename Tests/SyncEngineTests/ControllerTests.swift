#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeClient
import KubeTestServer
import SyncEngine
import Testing
import TestSupport

/// The reconcile behaviour against the Kubernetes test server, under the original helper's ClusterRole.
@Suite struct ControllerTests {
    @Test func createsThenUpdatesAndAResyncWritesNothing() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        let controller = fixture.controller()

        let first = try await controller.syncOnce()
        #expect(first.allSucceeded)
        #expect(first.written == 3)
        for namespace in ["default", "team-a", "team-b"] {
            let secret = try #require(try await fixture.secret(namespace))
            #expect(secret.type == "kubernetes.io/dockerconfigjson")
            #expect(secret.decodedString(".dockerconfigjson")?.contains("token-us-east-1-123456789012-0") == true)
        }
        #expect(try await fixture.secret("kube-system") == nil)

        // Nothing changed: no write at all.
        await fixture.server.resetRequests()
        let second = try await controller.syncOnce()
        #expect(second.unchanged == 3)
        #expect(await fixture.writes().isEmpty)

        // A new token: every secret is updated in place, one write each.
        fixture.tokens.rotate()
        let third = try await controller.syncOnce()
        #expect(third.written == 3)
        #expect(await fixture.writes().count == 3)
        #expect(try await fixture.secret("team-a")?.decodedString(".dockerconfigjson")?.contains("-1\"") == true)
    }

    @Test func missingNamespaceIsReportedWhileTheRestSucceed() async throws {
        let fixture = try await EngineFixture.start(settings: ["NAMESPACES": "default ghost team-a"])
        defer { Task { await fixture.shutdown() } }
        let report = try await fixture.controller().syncOnce()
        #expect(report.succeeded == ["default", "team-a"])
        #expect(report.failed == ["ghost"])
        let line = try #require(report.problemLines.first)
        #expect(line.contains("ghost") && line.contains("does not exist"), "\(line)")
    }

    @Test func forbiddenNamespaceIsReportedWhileTheRestSucceed() async throws {
        // A role that may patch the secret but not create it: a namespace without the secret is forbidden.
        let rules = [PolicyRule(resources: ["secrets"], verbs: ["get", "list", "watch", "patch"], resourceNames: ["registry-aws-ecr"])]
        let fixture = try await EngineFixture.start(rules: rules)
        defer { Task { await fixture.shutdown() } }
        let existing = DesiredSecret(name: "registry-aws-ecr", installation: try fixture.settings.load().installation, login: try await fixture.tokens.fetchLogin(for: fixture.settings.load().aws))
        try await fixture.server.put("secrets", namespace: "default", JSONValue(encoding: existing.secret(in: "default")))
        fixture.tokens.rotate()
        let report = try await fixture.controller().syncOnce()
        #expect(report.outcomes["default"] == .written)
        #expect(report.failed == ["team-a", "team-b"])
        #expect(report.problemLines.allSatisfy { $0.contains("forbidden") && $0.contains("create") }, "\(report.problemLines)")
    }

    @Test func foreignSecretIsLeftAloneAndTheOriginalsIsAdopted() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        // Someone's Opaque secret with our name, and one the original shell helper wrote (no labels).
        let foreign = Secret(name: "registry-aws-ecr", namespace: "team-a", type: "Opaque", data: ["password": Array("mine".utf8)])
        try await fixture.server.put("secrets", namespace: "team-a", JSONValue(encoding: foreign))
        let original = Secret(name: "registry-aws-ecr", namespace: "team-b", type: "kubernetes.io/dockerconfigjson",
                              data: [".dockerconfigjson": Array(#"{"auths":{"x":{"auth":"old"}}}"#.utf8)])
        try await fixture.server.put("secrets", namespace: "team-b", JSONValue(encoding: original))

        let report = try await fixture.controller().syncOnce()
        #expect(report.outcomes["team-a"] == .foreign(type: "Opaque"))
        #expect(report.outcomes["team-b"] == .written)
        #expect(try await fixture.secret("team-a")?.decodedString("password") == "mine")
        #expect(try await fixture.secret("team-b")?.metadata.labels?["app.kubernetes.io/managed-by"] == "aws-ecr-cred-helper")
    }

    @Test func failedTokenFetchLeavesSecretsUntouched() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        let controller = fixture.controller()
        _ = try await controller.syncOnce()
        let before = try await fixture.secret("team-a")
        await fixture.server.resetRequests()
        fixture.tokens.setFailing(true)
        await #expect(throws: (any Error).self) { try await controller.syncOnce() }
        #expect(await fixture.writes().isEmpty)
        #expect(try await fixture.secret("team-a") == before)
    }

    @Test func severalRegionsAndAccountsInOneSecretWithOneCallPerRegion() async throws {
        let fixture = try await EngineFixture.start(settings: [
            "AWS_REGIONS": "us-east-1 eu-west-1", "REGISTRY_IDS": "111111111111 222222222222",
        ])
        defer { Task { await fixture.shutdown() } }
        _ = try await fixture.controller().syncOnce()
        let config = try #require(try await fixture.secret("default")?.decodedString(".dockerconfigjson"))
        for host in ["111111111111.dkr.ecr.us-east-1", "222222222222.dkr.ecr.us-east-1", "111111111111.dkr.ecr.eu-west-1", "222222222222.dkr.ecr.eu-west-1"] {
            #expect(config.contains("https://\(host).amazonaws.com"), "\(host) missing")
        }
        #expect(fixture.tokens.calls == 1)  // the source makes one call per region; the engine asks once
    }

    @Test func serviceAccountPatchingIsIdempotentAndKeepsUserEntries() async throws {
        var rules = PolicyRule.originalHelperRole()
        rules.append(PolicyRule(resources: ["serviceaccounts"], verbs: ["get", "patch"], resourceNames: ["default"]))
        let fixture = try await EngineFixture.start(rules: rules, settings: ["PATCH_SERVICE_ACCOUNTS": "true"])
        defer { Task { await fixture.shutdown() } }
        let account = ServiceAccount(metadata: ObjectMeta(name: "default", namespace: "team-a"), imagePullSecrets: [LocalObjectReference(name: "users-own")])
        try await fixture.server.put("serviceaccounts", namespace: "team-a", JSONValue(encoding: account))

        let controller = fixture.controller()
        _ = try await controller.syncOnce()
        let patched = try #require(try await fixture.server.object("serviceaccounts", namespace: "team-a", name: "default")?.decode(ServiceAccount.self))
        #expect(patched.imagePullSecrets?.map(\.name) == ["users-own", "registry-aws-ecr"])

        await fixture.server.resetRequests()
        _ = try await controller.syncOnce()
        let patches = await fixture.server.requests().filter { $0.resource == "serviceaccounts" && $0.verb == "patch" }
        #expect(patches.isEmpty)
    }
}

/// The event-driven loop: watches repair within a second, config changes apply without a restart.
@Suite struct ControllerLoopTests {
    @Test func deletedAndEditedSecretsAreRepaired() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("initial sync", timeout: .seconds(10)) { try await fixture.secret("team-b") != nil }
            let good = try #require(try await fixture.secret("team-b")?.decodedData(".dockerconfigjson"))

            await fixture.server.delete("secrets", namespace: "team-b", name: "registry-aws-ecr")
            try await eventually("deleted secret restored", timeout: .seconds(5)) {
                try await fixture.secret("team-b")?.decodedData(".dockerconfigjson") == good
            }

            var edited = try #require(try await fixture.secret("team-a"))
            edited.data = [".dockerconfigjson": Base64Bytes(Array("{}".utf8))]
            try await fixture.server.put("secrets", namespace: "team-a", JSONValue(encoding: edited))
            try await eventually("edited secret repaired", timeout: .seconds(5)) {
                try await fixture.secret("team-a")?.decodedData(".dockerconfigjson") == good
            }
        }
    }

    @Test func watchDropAndGoneAreSurvived() async throws {
        let fixture = try await EngineFixture.start(watchHistoryLimit: 5)
        defer { Task { await fixture.shutdown() } }
        try await fixture.running(fixture.controller()) {
            try await eventually("initial sync") { try await fixture.secret("team-b") != nil }
            try await eventually("watch open") { await fixture.server.openWatchCount > 0 }
            await fixture.server.closeWatches()
            // Push the history past its limit so a resume gets 410 Gone and must relist.
            for i in 0..<20 { await fixture.server.createNamespace("filler-\(i)") }
            await fixture.server.delete("secrets", namespace: "team-b", name: "registry-aws-ecr")
            try await eventually("restored after relist", timeout: .seconds(15)) { try await fixture.secret("team-b") != nil }
        }
    }

    @Test func configChangeTakesEffectWithoutRestart() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await fixture.running(fixture.controller()) {
            try await eventually("initial sync") { try await fixture.secret("team-a") != nil }
            #expect(try await fixture.secret("kube-system") == nil)
            fixture.settings.update { $0["NAMESPACES"] = "default team-a team-b kube-system" }
            try await eventually("new namespace from edited list", timeout: .seconds(5)) { try await fixture.secret("kube-system") != nil }
            // Rotated keys: a new token is fetched at once.
            let calls = fixture.tokens.calls
            fixture.tokens.rotate()
            fixture.settings.update { $0["AWS_SECRET_ACCESS_KEY"] = "rotated/K7MDENG/bPxRfiCYEXAMPLEKEY" }
            try await eventually("token refetched after key rotation", timeout: .seconds(5)) {
                try await fixture.secret("default")?.decodedString(".dockerconfigjson")?.contains("-1\"") == true
            }
            #expect(fixture.tokens.calls > calls)
        }
    }

    /// Memory follows the targets: with an explicit list, only the listed namespaces' secrets are kept, and
    /// a changed list or PRUNE_UNSELECTED (which must see every namespace holding the secret) widens it.
    @Test func anExplicitListKeepsOnlyItsNamespacesSecrets() async throws {
        let fixture = try await EngineFixture.start(settings: ["NAMESPACES": "default team-a team-b"])
        defer { Task { await fixture.shutdown() } }
        let first = fixture.controller()
        try await fixture.running(first) {
            try await eventually("three secrets written") {
                for namespace in ["default", "team-a", "team-b"] where try await fixture.secret(namespace) == nil { return false }
                return true
            }
        }
        fixture.settings.update { $0["NAMESPACES"] = "team-a" }
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("only team-a kept") { controller.observedSecretNamespaces == ["team-a"] }
            fixture.settings.update { $0["NAMESPACES"] = "team-a team-b" }
            try await eventually("team-b kept once listed") { controller.observedSecretNamespaces == ["team-a", "team-b"] }
            fixture.settings.update { $0["PRUNE_UNSELECTED"] = "true" }
            try await eventually("every holder kept for pruning") { controller.observedSecretNamespaces == ["default", "team-a", "team-b"] }
        }
    }

    /// With patterns, the stores keep only namespaces the names and patterns may include: not the rest of the
    /// cluster (issue 13). A wider pattern widens them; PRUNE_UNSELECTED keeps every holder of the secret.
    @Test func patternsKeepOnlyTheNamespacesTheyMayInclude() async throws {
        var rules = PolicyRule.originalHelperRole()
        rules.append(PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"]))
        let fixture = try await EngineFixture.start(rules: rules, settings: ["NAMESPACES": "default team-*"])
        defer { Task { await fixture.shutdown() } }
        try await fixture.running(fixture.controller()) {
            try await eventually("default and the teams written") {
                for namespace in ["default", "team-a", "team-b"] where try await fixture.secret(namespace) == nil { return false }
                return true
            }
        }
        fixture.settings.update {
            $0["NAMESPACES"] = "team-*"
            $0["EXCLUDE_NAMESPACES"] = "team-b"
        }
        let controller = fixture.controller()
        try await fixture.running(controller) {
            try await eventually("only team-a kept") {
                controller.observedNamespaces == ["team-a"] && controller.observedSecretNamespaces == ["team-a"]
            }
            fixture.settings.update { $0["EXCLUDE_NAMESPACES"] = "" }
            try await eventually("team-b kept once no longer excluded") {
                controller.observedNamespaces == ["team-a", "team-b"] && controller.observedSecretNamespaces == ["team-a", "team-b"]
            }
            fixture.settings.update { $0["PRUNE_UNSELECTED"] = "true" }
            try await eventually("every holder kept for pruning") {
                controller.observedSecretNamespaces == ["default", "team-a", "team-b"] && controller.observedNamespaces == ["team-a", "team-b"]
            }
        }
    }

    @Test func newNamespaceMatchingAPatternIsServed() async throws {
        var rules = PolicyRule.originalHelperRole()
        rules.append(PolicyRule(resources: ["namespaces"], verbs: ["list", "watch"]))
        let fixture = try await EngineFixture.start(rules: rules, settings: ["NAMESPACES": "team-*", "EXCLUDE_NAMESPACES": "team-legacy*"])
        defer { Task { await fixture.shutdown() } }
        try await fixture.running(fixture.controller()) {
            try await eventually("initial sync") {
                let a = try await fixture.secret("team-a")
                let b = try await fixture.secret("team-b")
                return a != nil && b != nil
            }
            await fixture.server.createNamespace("team-new")
            await fixture.server.createNamespace("team-legacy-1")
            // Served by the namespace watch: the resync (5 minutes) is far beyond this bound.
            try await eventually("new namespace served", timeout: .seconds(10)) { try await fixture.secret("team-new") != nil }
            #expect(try await fixture.secret("default") == nil)
            #expect(try await fixture.secret("team-legacy-1") == nil)
        }
    }

    @Test func readinessFollowsSyncAndExpiry() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        #expect(await fixture.status.readiness().ready == false)
        fixture.tokens.setLifetime(1)
        try await fixture.running(fixture.controller()) {
            try await eventually("ready after first sync") { await fixture.status.readiness().ready }
            fixture.tokens.setFailing(true)
            try await eventually("not ready once the token expired and refreshing fails", timeout: .seconds(10)) {
                await !fixture.status.readiness(now: Date()).ready
            }
        }
    }

    @Test func noSecretMaterialInLogs() async throws {
        let fixture = try await EngineFixture.start()
        defer { Task { await fixture.shutdown() } }
        try await fixture.running(fixture.controller()) {
            try await eventually("sync") { try await fixture.secret("team-a") != nil }
            await fixture.server.delete("secrets", namespace: "team-a", name: "registry-aws-ecr")
            try await eventually("repair") { try await fixture.secret("team-a") != nil }
        }
        let auth = Data("AWS:token-us-east-1-123456789012-0".utf8).base64EncodedString()
        let leaks = fixture.logs.lines(containingAnyOf: ["wJalrXUtnFEMI", "token-us-east-1-123456789012", auth, EngineFixture.helperToken])
        #expect(leaks.isEmpty, "\(leaks)")
        #expect(!fixture.logs.all.isEmpty)
    }
}
