/// Label keys and values as the real server validates them on every write (apimachinery's
/// `ValidateLabels`: keys are qualified names, values at most 63 characters of a restricted set), with its
/// messages.
enum Labels {
    private static let nameMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    private static let valueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    private static let qualifiedMessage =
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"

    static func validate(_ object: JSONValue, kind: ResourceKind, name: String) throws(APIStatus) {
        var errors: [APIStatus.FieldError] = []
        for (key, value) in (object["metadata"]?["labels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for detail in keyProblems(key) {
                errors.append(invalid(key, detail))
            }
            let text = value.stringValue ?? ""
            if text.utf8.count > 63 {
                errors.append(invalid(text, "must be no more than 63 characters"))
            }
            if !text.isEmpty && !isNamePart(text) {
                errors.append(invalid(text, valueMessage))
            }
        }
        if !errors.isEmpty { throw APIStatus.invalid(kind, name: name, errors: errors) }
    }

    private static func invalid(_ value: String, _ detail: String) -> APIStatus.FieldError {
        APIStatus.FieldError(field: "metadata.labels", reason: "FieldValueInvalid", message: "Invalid value: \"\(value)\": \(detail)")
    }

    private static func keyProblems(_ key: String) -> [String] {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let namePart: String
        var problems: [String] = []
        switch parts.count {
        case 1: namePart = parts[0]
        case 2:
            namePart = parts[1]
            if parts[0].isEmpty { problems.append("prefix part must be non-empty") }
        default: return [qualifiedMessage]
        }
        if namePart.isEmpty {
            problems.append("name part must be non-empty")
        } else if namePart.utf8.count > 63 {
            problems.append("name part must be no more than 63 characters")
        } else if !isNamePart(namePart) {
            problems.append(nameMessage)
        }
        return problems
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    private static func isNamePart(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
