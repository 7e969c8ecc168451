/// A path to one tracked field: `["data", "key"]`, `["metadata", "labels", "app"]`, `["type"]`.
typealias FieldPath = [String]

/// managedFields-lite: which field manager owns which field of an object. Tracked fields are the members of
/// `metadata.labels`, `metadata.annotations` and of every other top-level object (`data`, `spec`), and every
/// other top-level scalar or list (`type`, `imagePullSecrets`), which is what server-side apply conflicts
/// are about for the objects this project writes.
struct FieldOwnership: Sendable, Hashable {
    struct Manager: Sendable, Hashable {
        var operation: String
        var time: String
    }

    var owners: [FieldPath: Set<String>] = [:]
    var managers: [String: Manager] = [:]

    static let untrackedTopLevel: Set<String> = ["apiVersion", "kind", "metadata", "status"]

    /// The tracked fields of `object` with their values.
    static func leaves(of object: JSONValue?) -> [FieldPath: JSONValue] {
        guard let members = object?.objectValue else { return [:] }
        var leaves: [FieldPath: JSONValue] = [:]
        for (key, value) in members where !untrackedTopLevel.contains(key) {
            if case .object(let inner) = value {
                for (innerKey, innerValue) in inner { leaves[[key, innerKey]] = innerValue }
            } else {
                leaves[[key]] = value
            }
        }
        for section in ["labels", "annotations"] {
            for (key, value) in members["metadata"]?[section]?.objectValue ?? [:] {
                leaves[["metadata", section, key]] = value
            }
        }
        return leaves
    }

    static func value(at path: FieldPath, in object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        for key in path { current = current?[key] }
        return current
    }

    static func set(_ value: JSONValue?, at path: FieldPath, in object: inout JSONValue) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var child = object[first] ?? .object([:])
        if case .object = child {} else { child = .object([:]) }
        set(value, at: Array(path.dropFirst()), in: &child)
        if case .object(let members) = child, members.isEmpty, value == nil {
            object[first] = nil
        } else {
            object[first] = child
        }
    }

    struct Conflict: Sendable {
        var path: FieldPath
        var manager: String
    }

    /// Server-side apply of `applied` by `manager` over `current`: returns the merged object, or the conflicts
    /// when another manager owns a field this apply changes and `force` is false.
    mutating func apply(
        _ applied: JSONValue, over current: JSONValue?, manager: String, force: Bool
    ) -> Result<JSONValue, ConflictList> {
        let appliedLeaves = Self.leaves(of: applied)
        let currentLeaves = Self.leaves(of: current)
        var conflicts: [Conflict] = []
        for (path, value) in appliedLeaves where currentLeaves[path] != value {
            for other in owners[path, default: []] where other != manager {
                conflicts.append(Conflict(path: path, manager: other))
            }
        }
        if !conflicts.isEmpty, !force {
            return .failure(ConflictList(conflicts: conflicts.sorted { $0.path.lexicographicallyPrecedes($1.path) }))
        }
        var merged = current ?? applied
        // Fields this manager stopped applying are removed unless someone else also owns them.
        for (path, fieldOwners) in owners where fieldOwners.contains(manager) && appliedLeaves[path] == nil {
            var remaining = fieldOwners
            remaining.remove(manager)
            if remaining.isEmpty {
                owners[path] = nil
                Self.set(nil, at: path, in: &merged)
            } else {
                owners[path] = remaining
            }
        }
        for (path, value) in appliedLeaves {
            Self.set(value, at: path, in: &merged)
            if currentLeaves[path] != value {
                owners[path] = [manager]
            } else {
                owners[path, default: []].insert(manager)
            }
        }
        // Members of applied top-level objects that are empty (e.g. `data: {}`) still exist in the result.
        for (key, value) in applied.objectValue ?? [:] where !Self.untrackedTopLevel.contains(key) {
            if merged[key] == nil { merged[key] = value }
        }
        managers[manager] = Manager(operation: "Apply", time: Timestamp.now())
        pruneManagers()
        return .success(merged)
    }

    /// A non-apply write (create, update, patch) by `manager`: it takes every field it changed.
    mutating func update(from old: JSONValue?, to new: JSONValue, manager: String) {
        let oldLeaves = Self.leaves(of: old)
        let newLeaves = Self.leaves(of: new)
        var changed = false
        for (path, value) in newLeaves where oldLeaves[path] != value {
            owners[path] = [manager]
            changed = true
        }
        for path in oldLeaves.keys where newLeaves[path] == nil {
            owners[path] = nil
            changed = true
        }
        if changed || old == nil { managers[manager] = Manager(operation: "Update", time: Timestamp.now()) }
        pruneManagers()
    }

    private mutating func pruneManagers() {
        var live = Set<String>()
        for fieldOwners in owners.values { live.formUnion(fieldOwners) }
        managers = managers.filter { live.contains($0.key) }
    }

    /// `metadata.managedFields` in the real FieldsV1 shape.
    func managedFields(apiVersion: String) -> JSONValue {
        var entries: [JSONValue] = []
        for (manager, info) in managers.sorted(by: { $0.key < $1.key }) {
            var fields: JSONValue = .object([:])
            for (path, fieldOwners) in owners where fieldOwners.contains(manager) {
                Self.set(.object([:]), at: path.map { "f:" + $0 }, in: &fields)
            }
            entries.append([
                "manager": .string(manager), "operation": .string(info.operation), "apiVersion": .string(apiVersion),
                "time": .string(info.time), "fieldsType": "FieldsV1", "fieldsV1": fields,
            ])
        }
        return .array(entries)
    }
}

struct ConflictList: Error, Sendable {
    var conflicts: [FieldOwnership.Conflict]

    static func render(_ path: FieldPath) -> String {
        "." + path.joined(separator: ".")
    }

    /// The real message: `Apply failed with 1 conflict: conflict with "x" using v1: .data.k`.
    func status(_ kind: ResourceKind, name: String) -> APIStatus {
        let count = conflicts.count
        let message: String
        if count == 1, let only = conflicts.first {
            message = "Apply failed with 1 conflict: conflict with \"\(only.manager)\" using \(kind.apiVersion): \(Self.render(only.path))"
        } else {
            let byManager = Dictionary(grouping: conflicts, by: \.manager).sorted { $0.key < $1.key }
            let parts = byManager.map { manager, items in
                "conflicts with \"\(manager)\" using \(kind.apiVersion):\n" + items.map { "- \(Self.render($0.path))" }.joined(separator: "\n")
            }
            message = "Apply failed with \(count) conflicts: " + parts.joined(separator: "\n")
        }
        let causes: [JSONValue] = conflicts.map {
            [
                "reason": "FieldManagerConflict",
                "message": .string("conflict with \"\($0.manager)\" using \(kind.apiVersion)"),
                "field": .string(Self.render($0.path)),
            ]
        }
        return APIStatus(
            code: 409, reason: "Conflict", message: message,
            details: APIStatus.details(kind, name: name, causes: causes))
    }
}
