import Synchronization
import SyncEngine

/// Settings held in memory; tests change them the way a user edits the mounted files, and the
/// fingerprint changes with them so a running controller re-reads them within a tick.
public final class MemorySettingsSource: SettingsSource {
    private let state: Mutex<(values: [String: String], version: Int)>

    public init(_ values: [String: String]) { state = Mutex((values, 0)) }

    public func update(_ change: (inout [String: String]) -> Void) {
        state.withLock { state in
            change(&state.values)
            state.version += 1
        }
    }

    public func load() throws(ConfigurationError) -> HelperSettings {
        let values = state.withLock { $0.values }
        return try HelperSettings.parse(SettingValues(values.mapValues { SettingValue($0, origin: "test") }))
    }

    public func fingerprint() -> String { "\(state.withLock { $0.version })" }
}
