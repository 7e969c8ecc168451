import KubeClient
import Logging

/// Settings of the process rather than of a cycle: read once at start (environment and flags only; they
/// cannot change while it runs), through the same declarations, reader and messages as the rest.
public struct ProcessSettings: Sendable {
    /// 0: no listener.
    public var httpPort: Int = 8080
    /// Failed writes counted per namespace in /metrics too.
    public var metricsPerNamespace = false
    /// nil: leader election is off.
    public var leaderElection: LeaderElectionConfiguration?
    /// The helper's own Pod, from the downward API (Events are recorded on it).
    public var podName: String?
    public var podNamespace: String?

    public init() {}

    /// The settings of `concerns` (`.listener`, `.leaderElection`, `.pod`). `kubeNamespace` is the namespace
    /// of the Kubernetes configuration (in-cluster, `--namespace`, or the context's), the Lease's last resort;
    /// `hostname` names this replica when POD_NAME is not set.
    public static func read(
        _ reader: inout SettingsReader, concerns: Set<Setting.Concern>, kubeNamespace: String?, hostname: String?
    ) -> ProcessSettings {
        var settings = ProcessSettings()
        if concerns.contains(.pod) || concerns.contains(.leaderElection) {
            settings.podName = reader.string(.podName)
            settings.podNamespace = reader.string(.podNamespace)
        }
        if concerns.contains(.listener) {
            settings.httpPort = reader.integer(.httpPort, fallback: 8080, in: 0...65535, meaning: "a port number", note: "0 turns the listener off")
            settings.metricsPerNamespace = reader.bool(.metricsPerNamespace)
        }
        if concerns.contains(.leaderElection) {
            settings.leaderElection = readLeaderElection(&reader, podName: settings.podName, podNamespace: settings.podNamespace, kubeNamespace: kubeNamespace, hostname: hostname)
        }
        return settings
    }

    static func readLeaderElection(
        _ reader: inout SettingsReader, podName: String?, podNamespace: String?, kubeNamespace: String?, hostname: String?
    ) -> LeaderElectionConfiguration? {
        guard reader.bool(.leaderElection) else { return nil }
        let defaults = LeaderElectionConfiguration(leaseName: "", namespace: "", identity: "")
        let namespace = reader.string(.leaderElectionNamespace) ?? podNamespace ?? kubeNamespace
        if namespace == nil {
            reader.missing(.leaderElectionNamespace, "LEADER_ELECTION is on (\(reader.origin(.leaderElection))) but the Lease namespace is unknown: set LEADER_ELECTION_NAMESPACE, or POD_NAMESPACE from the downward API")
        } else if let namespace, !KubernetesNames.isLabel(namespace) {
            reader.invalid(reader.string(.leaderElectionNamespace) != nil ? .leaderElectionNamespace : .podNamespace, "\"\(printable(namespace))\" is not a valid namespace name")
        }
        let leaseName = reader.string(.leaderElectionLeaseName) ?? "aws-ecr-cred-helper"
        if !KubernetesNames.isSubdomain(leaseName) {
            reader.invalid(.leaderElectionLeaseName, "\"\(printable(leaseName))\" is not a valid Lease name (lowercase letters, digits, '-' and '.')")
        }
        let leaseDuration = reader.duration(.leaderElectionLeaseDuration, fallback: defaults.leaseDuration, minimum: .seconds(1))
        let renewDeadline = reader.duration(.leaderElectionRenewDeadline, fallback: defaults.renewDeadline, minimum: .seconds(1))
        // client-go's rules (tools/leaderelection/leaderelection.go, NewLeaderElector): the lease must outlast
        // the renew deadline, and the deadline must leave room for more than one retry (JitterFactor 1.2).
        if leaseDuration <= renewDeadline, !reader.hasProblem(.leaderElectionLeaseDuration), !reader.hasProblem(.leaderElectionRenewDeadline) {
            reader.problem(.leaderElectionRenewDeadline, "LEADER_ELECTION_RENEW_DEADLINE (\(reader.origin(.leaderElectionRenewDeadline)), \(renewDeadline.humanReadable)) must be shorter than LEADER_ELECTION_LEASE_DURATION (\(reader.origin(.leaderElectionLeaseDuration)), \(leaseDuration.humanReadable)): a leader must step down before a standby may take over")
        }
        let minimumDeadline = defaults.retryPeriod * 1.2
        if renewDeadline <= minimumDeadline, !reader.hasProblem(.leaderElectionRenewDeadline) {
            reader.invalid(.leaderElectionRenewDeadline, "\(renewDeadline.humanReadable) leaves no room for a second renewal attempt (one every \(defaults.retryPeriod.humanReadable)): use more than 2.4s")
        }
        let identity = podName ?? hostname ?? "aws-ecr-cred-helper-\(UInt32.random(in: 0...UInt32.max))"
        return LeaderElectionConfiguration(
            leaseName: leaseName, namespace: namespace ?? "", identity: identity,
            leaseDuration: leaseDuration, renewDeadline: renewDeadline
        )
    }
}

/// LOG_LEVEL and LOG_FORMAT: read before anything else, so that every later line (problems included) is
/// written in the chosen format.
public struct LoggingSettings: Sendable, Equatable {
    public var level: Logger.Level = .info
    public var json = false

    public init(level: Logger.Level = .info, json: Bool = false) {
        self.level = level
        self.json = json
    }

    public static func read(_ reader: inout SettingsReader) -> LoggingSettings {
        var settings = LoggingSettings()
        if let format = reader.string(.logFormat)?.lowercased() {
            switch format {
            case "text": settings.json = false
            case "json": settings.json = true
            default: reader.invalid(.logFormat, "\"\(printable(format))\" is not text or json")
            }
        }
        if let text = reader.string(.logLevel)?.lowercased() {
            if let level = Logger.Level(rawValue: text == "warn" ? "warning" : text) {
                settings.level = level
            } else {
                reader.invalid(.logLevel, "\"\(printable(text))\" is not one of trace, debug, info, notice, warning, error, critical")
            }
        }
        return settings
    }
}
