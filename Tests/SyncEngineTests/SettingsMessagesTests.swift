import Testing
@testable import SyncEngine

/// Issue 24's messages: what a user who made a common slip reads.
@Suite struct SettingsMessagesTests {
    static func problems(_ pairs: [String: (String, String)]) -> [String] {
        let values = SettingValues(pairs.mapValues { SettingValue($0.0, origin: $0.1) })
        do {
            _ = try HelperSettings.parse(values, concerns: [.namespaces, .secret])
            return []
        } catch {
            return error.problems
        }
    }

    /// An empty SECRET_NAME file is an error naming the file, not the default used silently.
    @Test(arguments: ["", "\n", "  \r\n"])
    func emptySecretNameFile(_ contents: String) {
        let problems = Self.problems([
            "NAMESPACES": ("default", "file /config/NAMESPACES"),
            "SECRET_NAME": (contents, "file /config/SECRET_NAME"),
        ])
        #expect(problems == [
            "SECRET_NAME (file /config/SECRET_NAME): is empty: write the secret's name (it must match the resourceNames of the ClusterRole), or remove it to use the default registry-aws-ecr",
        ])
    }

    @Test func secretNameAbsentIsTheDefault() {
        #expect(Self.problems(["NAMESPACES": ("default", "file /config/NAMESPACES")]).isEmpty)
    }

    /// kubectl's habit: `sync --namespace team-a` names the helper's own namespace, not a target.
    @Test func namespaceInsteadOfNamespaces() {
        let problems = Self.problems(["NAMESPACE": ("nu-a", "flag --namespace")])
        #expect(problems.count == 1)
        #expect(problems.first?.hasSuffix("(--namespace nu-a is the helper's own namespace, not a target: did you mean --namespaces nu-a?)") == true, "\(problems)")
    }

    @Test(arguments: [
        ("kube-system/aws-ecr-cred-helper", "kube-system.aws-ecr-cred-helper"),
        ("platform", "platform"),
    ])
    func instanceSetting(_ text: String, _ label: String) throws {
        let values = SettingValues([
            "NAMESPACES": SettingValue("default", origin: "test"), "INSTANCE": SettingValue(text, origin: "flag --instance"),
            "POD_NAMESPACE": SettingValue("ignored-when-instance-is-set", origin: "environment POD_NAMESPACE"),
        ])
        #expect(try HelperSettings.parse(values, concerns: [.namespaces, .secret]).installation.label == label)
    }

    @Test func instanceDefaultFollowsThePodsNamespace() throws {
        let inPod = SettingValues([
            "NAMESPACES": SettingValue("default", origin: "test"), "POD_NAMESPACE": SettingValue("kube-system", origin: "environment POD_NAMESPACE"),
        ])
        #expect(try HelperSettings.parse(inPod, concerns: [.namespaces, .secret]).installation.label == "kube-system.registry-aws-ecr")
        let workstation = SettingValues(["NAMESPACES": SettingValue("default", origin: "test")])
        #expect(try HelperSettings.parse(workstation, concerns: [.namespaces, .secret]).installation.label == "registry-aws-ecr")
    }

    @Test func invalidInstance() {
        let problems = Self.problems(["NAMESPACES": ("default", "test"), "INSTANCE": ("two words", "flag --instance")])
        #expect(problems == [
            "INSTANCE (flag --instance): \"two words\" is not a valid installation name (letters, digits, '-', '_', '.' and '/', e.g. kube-system/aws-ecr-cred-helper)",
        ])
    }
}
