import SyncEngine

/// What a shell may complete, taken from the commands' declarations: each command's words and its flags.
struct CompletionModel {
    struct Flag {
        var name: String
        var short: Character?
        /// False for a switch (`--dry-run`).
        var takesValue: Bool
        /// The only values accepted, when known (`--output`); otherwise a value is completed as a path.
        var choices: [String]
        var help: String
    }

    struct Command {
        /// One word, or two (`credential-provider install`).
        var words: [String]
        var help: String
        var flags: [Flag]
        /// A value without a flag (`completion bash`).
        var argumentChoices: [String]
    }

    var commands: [Command]

    init(_ declared: [any Subcommand.Type]) {
        commands = declared.flatMap { command -> [Command] in
            var flags = (command.settings + command.tolerated).compactMap { setting in
                setting.flag.map { Flag(name: $0, takesValue: true, choices: [], help: setting.declaration.help) }
            }
            flags += command.options.map { Flag(name: $0.name, short: $0.short, takesValue: true, choices: $0.choices, help: $0.help) }
            flags += command.switches.map { Flag(name: $0.name, takesValue: false, choices: [], help: $0.help) }
            flags.append(Flag(name: "help", short: "h", takesValue: false, choices: [], help: "Show this help."))
            let choices = command.argument?.choices ?? []
            return ([command.name] + command.aliases).map { name in
                Command(words: name.split(separator: " ").map(String.init), help: command.abstract, flags: flags, argumentChoices: choices)
            }
        }
    }

    /// The words that may follow the program name: one-word commands, the first word of two-word ones, `help`.
    var firstWords: [String] {
        var words: [String] = []
        for command in commands where !words.contains(command.words[0]) { words.append(command.words[0]) }
        return words + ["help"]
    }

    /// The second words of the two-word commands starting with `first`.
    func secondWords(after first: String) -> [String] {
        commands.filter { $0.words.count == 2 && $0.words[0] == first }.map { $0.words[1] }
    }
}
