// libFuzzer entry point: one binary for every target of FuzzChecks (Tests/ReliabilityTests/FuzzChecks.swift),
// chosen by FUZZ_TARGET. Built by scripts/fuzz.sh with -sanitize=fuzzer; a broken property traps, so
// libFuzzer saves the input as a crash.
#if canImport(Glibc)
import Glibc
#endif

let fuzzTarget: String = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? "settings"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    do {
        try FuzzChecks.run(fuzzTarget, bytes)
    } catch {
        fatalError("fuzz finding: \(error)")
    }
    return 0
}
