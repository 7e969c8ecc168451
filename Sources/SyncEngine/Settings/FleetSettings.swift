/// CLUSTERS_DIR, CLUSTER_SECRET_SELECTOR and --cluster: which clusters a fleet serves (docs/fleet.md).
/// Process settings: read once at start, through the same declarations and messages as the rest.
public struct FleetSettings: Sendable, Equatable {
    public var clustersDirectory: String?
    public var clusterSecretSelector: String?
    /// `--cluster NAME`: one cluster of the fleet only.
    public var cluster: String?
    /// FLEET_GROUP: replicas sharing the clusters by membership Leases; nil: this replica serves them all.
    public var group: String?

    public init(clustersDirectory: String? = nil, clusterSecretSelector: String? = nil, cluster: String? = nil) {
        self.clustersDirectory = clustersDirectory
        self.clusterSecretSelector = clusterSecretSelector
        self.cluster = cluster
    }

    /// Whether any fleet target is configured.
    public var hasTargets: Bool { clustersDirectory != nil || clusterSecretSelector != nil }

    public static func read(_ reader: inout SettingsReader) -> FleetSettings {
        var settings = FleetSettings()
        settings.clustersDirectory = reader.string(.clustersDirectory)
        if let text = reader.string(.clusterSecretSelector) {
            do {
                let selector = try LabelSelector(parsing: text)
                settings.clusterSecretSelector = selector.description
            } catch {
                reader.invalid(.clusterSecretSelector, error.description)
            }
        }
        if let group = reader.string(.fleetGroup) {
            if KubernetesNames.isLabel(group) {
                settings.group = group
            } else {
                reader.invalid(.fleetGroup, "\"\(printable(group))\" is not a group name (lowercase letters, digits and '-', at most 63 characters)")
            }
        }
        if let name = reader.string(.cluster) {
            if ClusterTarget.isValidName(name) {
                settings.cluster = name
            } else {
                reader.invalid(.cluster, "\"\(printable(name))\" is not a cluster name (lowercase letters, digits and '-'): `status` lists the fleet's clusters")
            }
        }
        return settings
    }
}
