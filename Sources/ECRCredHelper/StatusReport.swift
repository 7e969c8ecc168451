import KubeClient
import SyncEngine

/// What `status` prints, in every format, for one cluster or a fleet: single-cluster status and a fleet's
/// `--cluster` go through `namespaces`, a fleet's overview through `clusters`. Pure: rows in, text out.
/// Holds what the secrets' labels and annotations say, never their data.
enum StatusReport {
    /// One cluster's namespaces. `cluster` names it in fleet mode (`--cluster NAME`).
    static func namespaces(_ rows: [ClusterInspection.Row], settings: HelperSettings, cluster: String? = nil, format: OutputFormat) -> String {
        switch format {
        case .table, .wide:
            var header = ["NAMESPACE", "SECRET", "MANAGED-BY", "REGISTRIES", "REFRESHED", "EXPIRES"]
            if format == .wide { header += ["INSTALLATION", "FRESH"] }
            var table = TextTable(header: header)
            table.rows = rows.map { row in
                var cells = [row.namespace, row.state.rawValue, row.managedBy, row.registries, row.refreshed, row.expires]
                if format == .wide { cells += [row.installation ?? "-", row.isFresh ? "yes" : "no"] }
                return cells
            }
            return table.render() + "\n"
        case .json, .yaml:
            var pairs = OutputFormat.header(kind: "Status")
            if let cluster { pairs.append(("cluster", .text(cluster))) }
            pairs += [
                ("secretName", .text(settings.secretName)), ("instance", .text(settings.installation.label)),
                ("fresh", .flag(rows.allSatisfy(\.isFresh))), ("namespaces", .sequence(rows.map(namespace))),
            ]
            return format.render(.mapping(pairs))
        }
    }

    /// A fleet's clusters, each with its namespaces (none when it could not be read), and the problems
    /// that kept clusters out of the list.
    static func clusters(_ clusters: [(summary: ClusterInspection.Summary, rows: [ClusterInspection.Row])], problems: [String], settings: HelperSettings, format: OutputFormat) -> String {
        switch format {
        case .table, .wide:
            var header = ["CLUSTER", "STATE", "FRESH", "EARLIEST-EXPIRY", "SERVER", "SOURCE"]
            if format == .wide { header.append("NOT-FRESH") }
            var table = TextTable(header: header)
            table.rows = clusters.map { summary, rows in
                var cells = [summary.cluster, summary.condition.rawValue, "\(summary.fresh)/\(summary.targets)", summary.earliestExpiry, summary.server, summary.source]
                if format == .wide {
                    // The namespaces to look at, or why the cluster could not be read.
                    let stale = rows.filter { !$0.isFresh }.map(\.namespace)
                    cells.append(summary.condition == .unreadable ? summary.state : stale.isEmpty ? "-" : stale.joined(separator: ","))
                }
                return cells
            }
            return table.render() + "\n"
        case .json, .yaml:
            let entries: [YAMLNode] = clusters.map { summary, rows in
                .mapping([
                    ("cluster", .text(summary.cluster)), ("server", .text(summary.server)), ("source", .text(summary.source)),
                    ("state", .text(summary.condition.rawValue)),
                    ("reason", summary.condition == .unreadable ? .text(summary.state) : .null),
                    ("fresh", .number(summary.fresh)), ("targets", .number(summary.targets)),
                    ("earliestExpiry", .text(dash(summary.earliestExpiry))),
                    ("namespaces", .sequence(rows.map(namespace))),
                ])
            }
            let fresh = clusters.allSatisfy { $0.summary.isOK } && problems.isEmpty
            let pairs = OutputFormat.header(kind: "FleetStatus") + [
                ("secretName", .text(settings.secretName)), ("instance", .text(settings.installation.label)),
                ("fresh", .flag(fresh)), ("clusters", .sequence(entries)), ("problems", .sequence(problems.map(YAMLNode.text))),
            ]
            return format.render(.mapping(pairs))
        }
    }

    /// A namespace's entry: the table's columns as typed fields (`-` becomes null, the registries a list).
    static func namespace(_ row: ClusterInspection.Row) -> YAMLNode {
        let registries = row.registries == "-" ? [] : row.registries.split(separator: ",").map { YAMLNode.text(String($0)) }
        return .mapping([
            ("namespace", .text(row.namespace)), ("state", .text(row.state.rawValue)), ("fresh", .flag(row.isFresh)),
            ("managedBy", .text(dash(row.managedBy))), ("installation", .text(row.installation)),
            ("registries", .sequence(registries)),
            ("refreshedAt", .text(dash(row.refreshed))), ("expiresAt", .text(dash(row.expires))),
        ])
    }

    /// The tables' `-` (nothing there) as nil.
    static func dash(_ cell: String) -> String? { cell == "-" ? nil : cell }
}
