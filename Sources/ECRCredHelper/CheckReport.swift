import KubeClient

/// What `check` found, a row per check and the RBAC rules to add, printed as the table or as one document.
/// Holds no secret: the AWS row names the registry hosts only.
struct CheckReport {
    enum Result: String {
        case ok, fail, skipped

        /// The table's word: FAIL in capitals, to be seen.
        var cell: String { self == .fail ? "FAIL" : rawValue }
    }

    struct Row {
        var check: String
        var result: Result
        var detail: String
    }

    var rows: [Row] = []
    var rulesToAdd: [String] = []

    mutating func add(_ check: String, _ result: Result, _ detail: String) {
        rows.append(Row(check: check, result: result, detail: detail))
    }

    /// `passed` is false when the check ended with a failure (then the exit code is not 0).
    func render(_ format: OutputFormat, passed: Bool) -> String {
        guard format.isDocument else {
            var table = TextTable(header: ["CHECK", "RESULT", "DETAIL"])
            table.rows = rows.map { [$0.check, $0.result.cell, $0.detail] }
            if !rulesToAdd.isEmpty {
                table.rows.append(["", "", ""])
                table.rows.append(["add to the ClusterRole", "", ""])
                for rule in rulesToAdd { table.rows.append(["  " + rule, "", ""]) }
            }
            return table.render() + "\n"
        }
        let checks: [YAMLNode] = rows.map { row in
            .mapping([("check", .text(row.check)), ("result", .text(row.result.rawValue)), ("detail", .text(row.detail))])
        }
        return format.render(.mapping(OutputFormat.header(kind: "Check") + [
            ("passed", .flag(passed && !rows.contains { $0.result == .fail })),
            ("checks", .sequence(checks)), ("rulesToAdd", .sequence(rulesToAdd.map(YAMLNode.text))),
        ]))
    }
}
