import Testing

/// The executable-level suites run their tests one at a time: each test starts debug binaries, and on a
/// 2-core machine starting them all at once slows the other test targets running in the same process
/// (whose tests have tight, honest timeouts) more than it saves. Leader election stays outside: it mostly
/// waits for a lease to expire.
@Suite(.serialized) enum HelperBinaryTests {}
