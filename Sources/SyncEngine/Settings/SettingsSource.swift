/// Where each cycle's settings come from (the executable reads files, environment and flags).
public protocol SettingsSource: Sendable {
    /// Reads and validates everything anew.
    func load() throws(ConfigurationError) -> HelperSettings
    /// A cheap value that changes whenever a re-read could give other settings (file names, sizes, times,
    /// the `..data` link Kubernetes swaps on an update). Compared every `tickInterval` (one second) by the controller.
    func fingerprint() -> String
}
