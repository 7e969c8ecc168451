#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import Logging
import SyncEngine

/// What every command builds from its options: logging, the settings source, and the two clients.
struct Runtime {
    let environment: [String: String]
    let logger: Logger
    let settings: FileSettingsSource
    let kube: KubernetesClient
    let tokens: ECRTokenSource

    static func make(_ options: SettingsOptions, _ logging: LoggingOptions) throws -> Runtime {
        let environment = ProcessInfo.processInfo.environment
        let logger = try bootstrapLogging(logging, environment: environment)
        let kubeConfiguration: KubeConfiguration
        do {
            kubeConfiguration = try KubeConfiguration.resolve(kubeconfigPath: options.kubeconfig, context: options.context, environment: environment)
        } catch {
            throw HelperFailure("Kubernetes: \(error)")
        }
        let kube = try KubernetesClient(configuration: kubeConfiguration, logger: logger)
        let tokens = try ECRTokenSource(environment: environment, logger: logger)
        return Runtime(environment: environment, logger: logger, settings: options.settingsSource(environment: environment), kube: kube, tokens: tokens)
    }

    static func bootstrapLogging(_ logging: LoggingOptions, environment: [String: String]) throws -> Logger {
        do {
            let level = try LogSetup.bootstrap(level: logging.logLevel ?? environment["LOG_LEVEL"], format: logging.logFormat ?? environment["LOG_FORMAT"])
            var logger = Logger(label: "aws-ecr-cred-helper")
            logger.logLevel = level
            return logger
        } catch {
            throw HelperFailure(error.description)
        }
    }

    func shutdown() async {
        try? await kube.shutdown()
        try? await tokens.shutdown()
    }
}

/// One line naming the cause and the fix; ArgumentParser prints it as `Error: ...` and exits 1.
struct HelperFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard error (progress and summaries that are not the command's output).
func printError(_ line: String) {
    writeStandardError(line + "\n")
}

/// Unbuffered, whole-line writes to file descriptor 2 (the C `stderr` global is not concurrency-safe).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
