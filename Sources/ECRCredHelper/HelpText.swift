import SyncEngine

/// `--help` and the README's settings table, both from the `Setting` declarations.
enum HelpText {
    static let width = 100

    static func overview() -> String {
        var text = wrap("aws-ecr-cred-helper \(HelperVersion.current): keeps Amazon ECR pull secrets (kubernetes.io/dockerconfigjson) fresh in many namespaces.", indent: 0) + """


            USAGE: aws-ecr-cred-helper [<command>] [--<setting> <value>]...

            COMMANDS:

            """
        for command in Invocation.commands {
            text += entry(command.name + (command == RunCommand.self ? " (default)" : ""), command.abstract, column: 18)
        }
        text += "\n" + wrap(precedence, indent: 0) + "\n"
        text += "\nSee 'aws-ecr-cred-helper <command> --help' for the settings and exit codes of a command.\n"
        return text
    }

    static let precedence = """
        Every setting is read, in increasing precedence, from a file of its name in --config-dir (default \
        /config) or --aws-config-dir (default /config-aws), as the original helper mounted them; from the \
        environment variable of that name; and from its flag. Values are trimmed (spaces, tabs, line breaks, a \
        byte-order mark); files are re-read on every cycle. Lists are separated by spaces, commas or newlines. \
        Durations are Go-style (11h30m, 45m, 90s) or seconds.
        """

    static func command(_ command: any Subcommand.Type) -> String {
        var text = wrap("OVERVIEW: \(command.abstract)", indent: 0, hanging: 10) + "\n"
        if !command.discussion.isEmpty { text += "\n" + wrap(command.discussion, indent: 0) + "\n" }
        text += "\nUSAGE: aws-ecr-cred-helper \(command.name)\(command.argument.map { " <\($0.valueName)>" } ?? "")\(command.settings.contains { $0.flag != nil } ? " [--<setting> <value>]..." : "")"
        for option in command.options {
            let usage = "--\(option.name) <\(option.valueName)>" + (option.repeatable ? "..." : "")
            text += option.defaultValue == nil && !option.repeatable && command.requiredOptions.contains(option.name) ? " \(usage)" : " [\(usage)]"
        }
        for option in command.switches { text += " [--\(option.name)]" }
        text += "\n"
        if command != VersionCommand.self {
            text += "\nEXIT CODES:\n"
            for (code, meaning) in command.exitCodes { text += entry("\(code)", meaning, column: 8) }
        }
        if command.settings.contains(where: { $0.flag != nil }) {
            text += "\n" + wrap("Each setting below is read from its flag, else its environment variable, else its file (files are re-read every cycle); see 'aws-ecr-cred-helper --help'.", indent: 0) + "\n"
        }
        var titles: [String] = []
        for setting in command.settings where !titles.contains(setting.concern.title) { titles.append(setting.concern.title) }
        for title in titles {
            text += "\n\(title.uppercased()):\n"
            for setting in command.settings where setting.concern.title == title {
                text += describe(setting, defaultUsed: !command.unusedDefaults.contains(setting))
            }
        }
        if let argument = command.argument {
            text += "\nARGUMENTS:\n" + entry("<\(argument.valueName)>", argument.help)
        }
        text += "\nOPTIONS:\n"
        for option in command.options {
            var help = option.help
            if let value = option.defaultValue { help += " Default: \(value)." }
            if option.repeatable { help += " May be repeated." }
            text += entry((option.short.map { "-\($0), " } ?? "") + "--\(option.name) <\(option.valueName)>", help)
        }
        for option in command.switches { text += entry("--\(option.name)", option.help) }
        text += entry("-h, --help", "Show this help.")
        return text
    }

    /// A setting in `--help`: its flag (or name), what it does, its default, and where else it is read.
    static func describe(_ setting: Setting, defaultUsed: Bool = true) -> String {
        let declaration = setting.declaration
        let head = setting.flag.map { "--\($0) <\(declaration.valueName)>" } ?? setting.key
        var help = declaration.help
        if !defaultUsed {
            help += " Default: none (read only when given)."
        } else if let value = declaration.defaultValue {
            help += " Default: \(value)."
        }
        let sources = sources(of: setting)
        if !sources.isEmpty { help += " Also: \(sources)." }
        return entry(head, help)
    }

    /// `variable SECRET_NAME, file SECRET_NAME in --config-dir` (everything but the flag).
    static func sources(of setting: Setting) -> String {
        var places: [String] = []
        if setting.readsEnvironment && setting.flag != nil { places.append("variable \(setting.key)") }
        if setting.readsEnvironment && setting.flag == nil { places.append("variable") }
        let folders = setting.folders.map { $0 == .config ? "--config-dir" : "--aws-config-dir" }
        if !folders.isEmpty {
            places.append((setting.flag == nil ? "file" : "file \(setting.key)") + " in " + folders.joined(separator: " or "))
        }
        return places.joined(separator: ", ")
    }

    static func entry(_ head: String, _ help: String, column: Int = 32) -> String {
        let lead = "  " + head
        let body = wrap(help, indent: column)
        if lead.count + 2 <= column {
            return lead + String(body.dropFirst(lead.count)) + "\n"
        }
        return lead + "\n" + body + "\n"
    }

    /// Words wrapped at `width`, every line indented by `indent` (continuation lines by `hanging` more).
    static func wrap(_ text: String, indent: Int, hanging: Int = 0) -> String {
        var lines: [String] = []
        var line = String(repeating: " ", count: indent)
        var empty = true
        for word in text.split(separator: " ") {
            if !empty && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(repeating: " ", count: indent + hanging)
                empty = true
            }
            line += (empty ? "" : " ") + word
            empty = false
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// The README's settings table (Markdown), for every setting a file or variable holds.
    static func markdownTable() -> String {
        var text = "| setting (environment variable) | flag | file in | default | meaning |\n|---|---|---|---|---|\n"
        for setting in Setting.allCases where setting.readsEnvironment || !setting.folders.isEmpty {
            let declaration = setting.declaration
            let flag = setting.flag.map { "`--\($0)`" } ?? "(none)"
            let folders = setting.folders.map { $0 == .config ? "`--config-dir`" : "`--aws-config-dir`" }.joined(separator: ", ")
            let value = declaration.defaultValue.map { $0.contains(" ") ? $0 : "`\($0)`" } ?? ""
            let help = declaration.help.replacing("|", with: "\\|")
            text += "| `\(setting.key)` | \(flag) | \(folders.isEmpty ? "-" : folders) | \(value) | \(help) |\n"
        }
        return text
    }
}
