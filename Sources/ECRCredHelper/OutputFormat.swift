import KubeClient

/// How `status` and `check` print: the table people read (the default, unchanged: scripts parse it), a wider
/// table, or one JSON or YAML document of a stable schema (docs/output.md). Both documents come from one
/// `YAMLNode` tree, so they always hold the same fields.
enum OutputFormat: String, Sendable {
    case table, wide, json, yaml

    /// The version of every document's schema; a field is only ever added within a version.
    static let apiVersion = "aws-ecr-cred-helper/v1"

    /// The first fields of every document.
    static func header(kind: String) -> [(key: String, value: YAMLNode)] {
        [("apiVersion", .text(apiVersion)), ("kind", .text(kind))]
    }

    /// `-o` / `--output`, accepting `formats`.
    static func option(_ formats: [OutputFormat]) -> CommandOption {
        let names = formats.map(\.rawValue)
        return CommandOption(
            name: "output", valueName: "format",
            help: "Print \(names.dropLast().joined(separator: ", ")) or \(names.last ?? "") instead of the table (the fields: docs/output.md).",
            short: "o", choices: names)
    }

    init(_ invocation: Invocation) {
        self = invocation.option("output").flatMap(Self.init(rawValue:)) ?? .table
    }

    var isDocument: Bool { self == .json || self == .yaml }

    /// `document` as JSON or YAML, ending with a line break.
    func render(_ document: YAMLNode) -> String {
        self == .yaml ? YAMLWriter.document(document) : JSONDocumentWriter.document(document)
    }
}

/// Scalars of an output document: strings always quoted (a namespace named `true` stays a string), the
/// literals plain.
extension YAMLNode {
    static func text(_ value: String) -> YAMLNode { .scalar(value, quoted: true) }
    static func text(_ value: String?) -> YAMLNode { value.map(text) ?? null }
    static func flag(_ value: Bool) -> YAMLNode { .scalar(value ? "true" : "false", quoted: false) }
    static func number(_ value: Int) -> YAMLNode { .scalar(String(value), quoted: false) }
    static let null = YAMLNode.scalar("null", quoted: false)
}
