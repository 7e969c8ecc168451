/// The discovery documents `kubectl` and client libraries read before talking to resources.
enum Discovery {
    static let version: JSONValue = [
        "major": "1", "minor": "31", "gitVersion": "v1.31.0-kube-test-server", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2024-08-13T00:00:00Z", "goVersion": "go1.22.5", "compiler": "gc",
        "platform": "linux/amd64",
    ]

    static func apiVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static var groupNames: [String] {
        var names: [String] = []
        for kind in ResourceKind.all where !kind.group.isEmpty && !names.contains(kind.group) { names.append(kind.group) }
        return names
    }

    static func groupDocument(_ name: String) -> JSONValue {
        let versions = Array(Set(ResourceKind.all.filter { $0.group == name }.map(\.version))).sorted()
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return [
            "name": .string(name), "versions": .array(entries),
            "preferredVersion": entries.first ?? .null,
        ]
    }

    static var apiGroups: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groupNames.map(groupDocument))]
    }

    static func group(_ name: String) -> JSONValue? {
        guard groupNames.contains(name) else { return nil }
        var document = groupDocument(name)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return document
    }

    static func resourceList(group: String, version: String) -> JSONValue? {
        let kinds = ResourceKind.all.filter { $0.group == group && $0.version == version }
        guard !kinds.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for kind in kinds {
            var entry: JSONValue = [
                "name": .string(kind.plural), "singularName": .string(kind.singular), "namespaced": .bool(kind.namespaced),
                "kind": .string(kind.kind), "verbs": .array(kind.verbs.map { .string($0) }),
                "storageVersionHash": "",
            ]
            if !kind.shortNames.isEmpty { entry["shortNames"] = .array(kind.shortNames.map { .string($0) }) }
            resources.append(entry)
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ]
    }
}
