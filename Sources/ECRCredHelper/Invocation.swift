import Logging
import SyncEngine

/// A subcommand: what it does, the settings it reads (by concern), its own switches and its exit codes.
/// The settings' flags, variables, files and defaults come from their `Setting` declarations, so a command
/// accepts and shows exactly the settings of its concerns.
protocol Subcommand: Sendable {
    static var name: String { get }
    /// One line.
    static var abstract: String { get }
    /// More, for `--help`; may be empty.
    static var discussion: String { get }
    static var concerns: [Setting.Concern] { get }
    /// Flags without a value that belong to the command, not to a setting (`--dry-run`).
    static var switches: [Switch] { get }
    /// Flags with a value that belong to the command, not to a setting (`credential-provider install --bin-dir`).
    static var options: [CommandOption] { get }
    /// A value given without a flag (`completion bash`), kept under its name with the options.
    static var argument: CommandOption? { get }
    /// Other names of the command (`credential-provider get`).
    static var aliases: [String] { get }
    /// False for a command whose log level comes from its flag only, by default `critical`: the kubelet runs
    /// `credential-provider` with its own environment, and a failure is the one line it reports anyway.
    static var readsLoggingSettings: Bool { get }
    /// Options that must be given (checked before `run`).
    static var requiredOptions: [String] { get }
    /// Settings whose declared default this command does not use, so `--help` must not show it (node mode
    /// reads the settings folders only when they are given).
    static var unusedDefaults: [Setting] { get }
    /// What each exit status means, for `--help`.
    static var exitCodes: [(code: Int32, meaning: String)] { get }
    /// The settings of `concerns`, in declaration order.
    static var settings: [Setting] { get }
    /// Settings a command accepts without using them, not shown in its help: the locations
    /// (`--config-dir`, `--aws-config-dir`, `--kubeconfig`), because scripts pass the same ones to every command.
    static var tolerated: [Setting] { get }

    init(_ invocation: Invocation)
    func run() async throws
}

extension Subcommand {
    static var discussion: String { "" }
    static var switches: [Switch] { [] }
    static var options: [CommandOption] { [] }
    static var argument: CommandOption? { nil }
    static var aliases: [String] { [] }
    static var readsLoggingSettings: Bool { true }
    static var requiredOptions: [String] { [] }
    static var unusedDefaults: [Setting] { [] }
    static var exitCodes: [(code: Int32, meaning: String)] { [(0, "success"), (1, "failure (one line on standard error names the cause and the fix)")] }
    static var settings: [Setting] { Setting.of(concerns) }
    static var tolerated: [Setting] { [.configDirectory, .awsConfigDirectory, .kubeconfig].filter { !settings.contains($0) } }
}

struct Switch: Sendable {
    var name: String
    var help: String
}

/// A command's own flag with a value; `repeatable` ones may be given several times. `short` is a one-letter
/// form as kubectl's (`-o json`, `-ojson`); `choices`, when not empty, are the only values accepted.
struct CommandOption: Sendable {
    var name: String
    var valueName: String
    var help: String
    var defaultValue: String? = nil
    var repeatable = false
    var short: Character? = nil
    var choices: [String] = []
}

/// The command line, parsed: which command, the settings given as flags, the command's switches.
struct Invocation: Sendable {
    var command: any Subcommand.Type
    var flags: [Setting: String] = [:]
    var switches: Set<String> = []
    /// Values of the command's own options, in the order given.
    var options: [String: [String]] = [:]
    var environment: [String: String]
    /// Set once logging is configured.
    var logger = Logger(label: Console.label)

    /// What a command line asks for.
    enum Request {
        case run(Invocation)
        case help(topic: (any Subcommand.Type)?)
        case version
    }

    /// The command line could not be understood: one line naming what and the nearest valid word; exit 64.
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static var commands: [any Subcommand.Type] {
        [RunCommand.self, SyncCommand.self, RenderCommand.self, CheckCommand.self, StatusCommand.self, CleanupCommand.self,
         CredentialProviderGetCommand.self, CredentialProviderInstallCommand.self, CompletionCommand.self, VersionCommand.self]
    }
    static let program = "aws-ecr-cred-helper"

    static func command(named name: String) -> (any Subcommand.Type)? {
        commands.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// The value of a command option (the last one given), else its default.
    func option(_ name: String) -> String? {
        options[name]?.last ?? command.options.first { $0.name == name }?.defaultValue
    }

    /// Every value of a repeatable command option.
    func values(_ name: String) -> [String] { options[name] ?? [] }

    /// `[command] [--flag value | --flag=value | --switch]...`; no command, or a flag first, means `run`
    /// (a container needs no arguments).
    static func parse(_ arguments: [String], environment: [String: String]) throws -> Request {
        var rest = arguments[...]
        var command: any Subcommand.Type = RunCommand.self
        if let first = rest.first {
            switch first {
            case "help":
                let words = rest.dropFirst()
                guard let topic = words.first else { return .help(topic: nil) }
                // `help credential-provider install`: the longest run of words that names a command.
                if words.count > 1, let named = Self.command(named: words.prefix(2).joined(separator: " ")) { return .help(topic: named) }
                guard let named = Self.command(named: topic) else { throw unknownCommand(topic) }
                return .help(topic: named)
            case "-h", "--help": return .help(topic: nil)
            case "--version": return .version
            default:
                if let named = Self.command(named: first) {
                    command = named
                    rest = rest.dropFirst()
                    // A command of two words (`credential-provider install`, `credential-provider get`).
                    if let second = rest.first, let child = Self.command(named: first + " " + second) {
                        command = child
                        rest = rest.dropFirst()
                    }
                } else if !first.hasPrefix("-") {
                    throw unknownCommand(first)
                }
            }
        }
        var invocation = Invocation(command: command, environment: environment)
        let accepted = Set(command.settings)
        while let argument = rest.popFirst() {
            if argument == "-h" || argument == "--help" { return .help(topic: command) }
            if argument == "-n", accepted.contains(.namespaces) {
                throw UsageError(description: "\(command.name) has no -n: the target namespaces are --namespaces <list> (NAMESPACES), e.g. --namespaces team-a; --namespace is the helper's own namespace, as kubectl's -n")
            }
            if !argument.hasPrefix("-"), let positional = command.argument, invocation.options[positional.name] == nil {
                try invocation.add(argument, for: positional)
                continue
            }
            // A command option's one-letter form: `-o json`, `-ojson`, `-o=json`.
            if argument.count >= 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
               let option = command.options.first(where: { $0.short != nil && $0.short == argument.dropFirst().first }) {
                var attached = String(argument.dropFirst(2))
                if attached.hasPrefix("=") { attached.removeFirst() }
                guard let value = attached.isEmpty ? rest.popFirst() : attached else {
                    throw UsageError(description: "-\(option.short.map(String.init) ?? "") needs a value (\(option.valueName)); see '\(program) \(command.name) --help'")
                }
                try invocation.add(value, for: option)
                continue
            }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError(description: "unexpected argument '\(Printable.escape(argument))': \(program) \(command.name) takes only --flags; see '\(program) \(command.name) --help'")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if let option = command.switches.first(where: { $0.name == name }) {
                guard inlineValue == nil else { throw UsageError(description: "--\(option.name) takes no value") }
                invocation.switches.insert(option.name)
                continue
            }
            if let option = command.options.first(where: { $0.name == name }) {
                guard let value = inlineValue ?? rest.popFirst() else {
                    throw UsageError(description: "--\(name) needs a value (\(option.valueName)); see '\(program) \(command.name) --help'")
                }
                try invocation.add(value, for: option)
                continue
            }
            guard let setting = Setting.withFlag(name) else { throw unknownFlag(name, command: command) }
            guard accepted.contains(setting) || command.tolerated.contains(setting) else {
                let users = commands.filter { $0.settings.contains(setting) }.map { $0.name }
                let named = setting.readsEnvironment || !setting.folders.isEmpty ? " (\(setting.key))" : ""
                throw UsageError(description: "\(command.name) does not use --\(name)\(named); it is a setting of \(users.joined(separator: ", "))")
            }
            guard let value = inlineValue ?? rest.popFirst() else {
                throw UsageError(description: "--\(name) needs a value (\(setting.declaration.valueName)); see '\(program) \(command.name) --help'")
            }
            invocation.flags[setting] = value
        }
        for name in command.requiredOptions where invocation.options[name] == nil {
            if let positional = command.argument, positional.name == name {
                throw UsageError(description: "\(command.name) needs <\(positional.valueName)>: one of \(positional.choices.joined(separator: ", ")); see '\(program) \(command.name) --help'")
            }
            throw UsageError(description: "\(command.name) needs --\(name); see '\(program) \(command.name) --help'")
        }
        return .run(invocation)
    }

    /// A command option's value, checked against its choices and against being given twice.
    mutating func add(_ value: String, for option: CommandOption) throws {
        let named = command.argument?.name == option.name ? "<\(option.valueName)>" : "--\(option.name)"
        if !option.choices.isEmpty && !option.choices.contains(value) {
            throw UsageError(description: "\(named) is one of \(option.choices.joined(separator: ", ")), not '\(Printable.escape(value))'; see '\(Self.program) \(command.name) --help'")
        }
        if !option.repeatable && options[option.name] != nil {
            throw UsageError(description: "\(named) is given twice; give it once")
        }
        options[option.name, default: []].append(value)
    }

    static func unknownCommand(_ word: String) -> UsageError {
        // Two-word commands (`credential-provider install`) are found through their first word.
        let names = commands.map { $0.name }.filter { !$0.contains(" ") }
        var line = "'\(Printable.escape(word))' is not a command of \(program)"
        if let nearest = Suggestion.nearest(to: word, among: names + ["help"]) { line += "; did you mean '\(nearest)'?" }
        return UsageError(description: line + " Commands: \(names.joined(separator: ", ")); see '\(program) --help'")
    }

    static func unknownFlag(_ name: String, command: any Subcommand.Type) -> UsageError {
        let flags = command.settings.compactMap(\.flag) + command.switches.map { $0.name } + command.options.map { $0.name } + ["help"]
        var line = "unknown option '--\(Printable.escape(name))' for \(command.name)"
        if let nearest = Suggestion.nearest(to: name, among: flags) {
            line += "; did you mean '--\(nearest)'?"
        } else if let setting = Setting.allCases.first(where: { $0.key == name.uppercased().replacing("-", with: "_") }), setting.flag == nil {
            line += ": \(setting.key) has no flag (\(setting.declaration.help))"
        }
        return UsageError(description: line + " See '\(program) \(command.name) --help'")
    }
}

/// "Did you mean": the closest word by edit distance, when it is close enough to be a typo.
enum Suggestion {
    static func nearest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        // A third of the word, at least one and at most three edits: `synk` -> `sync`, `namespace` ->
        // `namespaces`, but not `foo` -> `run`.
        let allowed = min(3, max(1, word.count / 3))
        if best.1 <= allowed { return best.0 }
        // A prefix of exactly one candidate (`stat` -> `status`).
        let prefixed = candidates.filter { $0.hasPrefix(word) && word.count >= 3 }
        return prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Damerau-Levenshtein distance (optimal string alignment): a swap of two neighbours is one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
