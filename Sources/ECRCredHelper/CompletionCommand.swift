import SyncEngine

/// `completion bash|zsh|fish`: a completion script for this version, written from the commands'
/// declarations (their names, settings' flags, switches and options), so it cannot drift from what the
/// parser accepts.
struct CompletionCommand: Subcommand {
    static let name = "completion"
    static let abstract = "Print a shell completion script (bash, zsh or fish) for the commands and flags of this version."
    static let discussion = """
        bash: source <(aws-ecr-cred-helper completion bash), or write it to /etc/bash_completion.d/. zsh: \
        source <(aws-ecr-cred-helper completion zsh) (it uses zsh's bashcompinit). fish: aws-ecr-cred-helper \
        completion fish | source, or write it to ~/.config/fish/completions/aws-ecr-cred-helper.fish.
        """
    static let concerns: [Setting.Concern] = []
    static let argument: CommandOption? = CommandOption(name: "shell", valueName: "shell", help: "bash, zsh or fish.", choices: ["bash", "zsh", "fish"])
    static let requiredOptions = ["shell"]
    static var exitCodes: [(code: Int32, meaning: String)] { [(0, "the script is printed"), (64, "the command line could not be parsed")] }

    let invocation: Invocation
    init(_ invocation: Invocation) { self.invocation = invocation }

    func run() async throws {
        let model = CompletionModel(Invocation.commands)
        switch invocation.option("shell") {
        case "zsh": print(CompletionScript.zsh(model), terminator: "")
        case "fish": print(CompletionScript.fish(model), terminator: "")
        default: print(CompletionScript.bash(model), terminator: "")
        }
    }
}
