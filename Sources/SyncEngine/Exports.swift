// The shared helpers (civil dates, JSON string literals, trimming, Duration arithmetic, escaping for
// messages) are part of this module's public face, as they were before they moved into their leaf module:
// the executable and the tests use them through SyncEngine.
@_exported import CommonBasics
