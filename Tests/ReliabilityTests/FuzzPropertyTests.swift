import Foundation
import Testing
import TestSupport

/// The fuzz targets of FuzzChecks run in the ordinary test suite: the seed corpus (Fuzz/corpus/<target>),
/// then thousands of deterministic mutations of it. libFuzzer (scripts/fuzz.sh) explores further; this
/// keeps every finding it made (added to the corpus) from coming back.
@Suite struct FuzzPropertyTests {
    static let iterations = ProcessInfo.processInfo.environment["RELIABILITY_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000

    static func corpus(_ target: String) -> [[UInt8]] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/\(target)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.sorted().compactMap { FileManager.default.contents(atPath: folder.path + "/" + $0).map { Array($0) } }
    }

    @Test(arguments: FuzzChecks.targets)
    func seededMutations(_ target: String) throws {
        let seeds = Self.corpus(target)
        #expect(!seeds.isEmpty, "Fuzz/corpus/\(target) has seeds")
        var findings: [String] = []
        for seed in seeds {
            do { try FuzzChecks.run(target, seed) } catch { findings.append("seed: \(error)") }
        }
        var random = SplitMix64(seed: 0x5EED_0000 &+ UInt64(target.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        let dictionary = Self.tokens(for: target)
        for _ in 0..<Self.iterations {
            var input = seeds.isEmpty ? [] : seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...(random.next() % 4) { Self.mutate(&input, dictionary: dictionary, random: &random) }
            do { try FuzzChecks.run(target, input) } catch {
                if findings.count < 5 { findings.append("\(error) [input: \(String(reflecting: String(decoding: input.prefix(200), as: UTF8.self)))]") }
            }
        }
        #expect(findings.isEmpty, "\(findings)")
    }

    /// Byte flips, inserts, deletions, duplications and splices of tokens the parser cares about.
    static func mutate(_ input: inout [UInt8], dictionary: [[UInt8]], random: inout SplitMix64) {
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count + 1))
        switch random.next() % 6 {
        case 0 where !input.isEmpty:
            input[min(position, input.count - 1)] = UInt8(truncatingIfNeeded: random.next())
        case 1:
            input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 2 where !input.isEmpty:
            let end = min(input.count, position + 1 + Int(random.next() % 8))
            input.removeSubrange(min(position, input.count - 1)..<end)
        case 3 where !input.isEmpty:
            let end = min(input.count, position + Int(random.next() % 32))
            input.insert(contentsOf: input[position..<end], at: position)
        default:
            input.insert(contentsOf: dictionary[Int(random.next() % UInt64(dictionary.count))], at: position)
        }
        if input.count > 4096 { input.removeLast(input.count - 4096) }
    }

    static func tokens(for target: String) -> [[UInt8]] {
        let common = ["\n", "\r\n", "\t", " ", "\u{FEFF}", "\0", "\"", "'", "\\", "\u{FFFD}", "é", "\u{7}"]
        let specific: [String] = switch target {
        case "settings", "selector": ["*", "?", ",", "=", "!=", "==", " in (", " notin (", ")", "!", "team-a", "us-east-1", "11h30m", "0.5", "arn:", "AKIA"]
        case "kubeconfig": [": ", "- ", "  ", "{", "}", "[", "]", "#", "&a", "*a", "---", "|", ">", "clusters:", "server: ", "current-context: ", "token: "]
        case "aws": ["{", "}", "[", "]", ":", ",", "\"authorizationData\"", "\"authorizationToken\"", "\"proxyEndpoint\"", "\"expiresAt\"", "<Credentials>", "</Credentials>", "<Code>", "&amp;", "&#x41;", "<![CDATA[", "]]>", "1e309", "QVdTOnB3"]
        default: ["{", "}", "\"type\"", "\"ADDED\"", "\"BOOKMARK\"", "\"ERROR\"", "\"object\"", "\"metadata\"", "\"data\"", ":", ",", "null", "410"]
        }
        return (common + specific).map { Array($0.utf8) }
    }
}
