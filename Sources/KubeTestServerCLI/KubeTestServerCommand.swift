import ArgumentParser
import Dispatch
import KubeTestServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kube-test-server`: runs the stand-in Kubernetes API server until SIGINT/SIGTERM. The first lines on stdout
/// are `KEY=value` pairs a script can parse (URL, CA path, kubeconfig path, port).
@main
struct KubeTestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-test-server",
        abstract: "A fast stand-in Kubernetes API server for tests, demos and benchmarks.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 0
    @Flag(help: "Serve plain HTTP instead of HTTPS (debugging only).") var plainHTTP = false
    @Option(
        name: .customLong("user"),
        help: "A user as name:token:rules; rules is admin, original-helper[=SECRET], none, or a JSON file of PolicyRules. Repeatable.")
    var users: [String] = []
    @Option(help: "JSON file with {\"users\":[...],\"namespaces\":[...],\"adminToken\":...}.") var config: String?
    @Option(help: "Comma-separated namespaces that exist at start (default: default,kube-system,kube-public).")
    var namespaces: String?
    @Option(help: "Admin token file: read when it exists, else the generated token is written there.")
    var adminTokenFile: String?
    @Option(help: "Write a kubeconfig for this server here.") var kubeconfig: String?
    @Option(help: "Token the kubeconfig uses (default: the admin token).") var kubeconfigToken: String?
    @Option(help: "Namespace of the kubeconfig's context.") var kubeconfigNamespace: String?
    @Option(help: "Write the CA certificate (PEM) here.") var caOut: String?
    @Option(help: "Serving certificate chain (PEM); with --key, replaces the generated one.") var cert: String?
    @Option(help: "Serving key (PEM).") var key: String?
    @Option(help: "CA (PEM) that signed --cert (default: --cert itself).") var ca: String?
    @Option(help: "Watch events kept for resuming watches.") var watchHistory = 1000
    @Option(help: "Seconds between BOOKMARK events.") var bookmarkInterval: Double = 10
    @Flag(help: "Give every new namespace a 'default' ServiceAccount, as a controller manager does.")
    var defaultServiceAccounts = false

    func run() async throws {
        var options = LaunchOptions()
        options.host = host
        options.port = port
        options.plainHTTP = plainHTTP
        options.userSpecs = users
        options.configFile = config
        options.namespaces = namespaces.map { $0.split(separator: ",").map(String.init) }
        options.adminTokenFile = adminTokenFile
        options.kubeconfigPath = kubeconfig
        options.kubeconfigToken = kubeconfigToken
        options.kubeconfigNamespace = kubeconfigNamespace
        options.caOutPath = caOut
        options.certificateFile = cert
        options.keyFile = key
        options.caFile = ca
        options.watchHistoryLimit = watchHistory
        options.bookmarkIntervalSeconds = bookmarkInterval
        options.defaultServiceAccounts = defaultServiceAccounts

        let server = try await KubeTestServer.start(try options.configuration())
        for line in try options.announce(server) { print(line) }
        fflush(nil)
        await Self.waitForTermination()
        try await server.stop()
    }

    /// Suspends until SIGINT or SIGTERM.
    static func waitForTermination() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
