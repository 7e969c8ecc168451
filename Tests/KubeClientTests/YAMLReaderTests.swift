import Testing
import Yams

@testable import KubeClient

/// The small YAML reader against Yams (libyaml), over realistic kubeconfigs and generated documents.
@Suite struct YAMLReaderTests {
    static let fixtures: [(name: String, text: String)] = KubeconfigFixtures.all

    @Test(arguments: KubeconfigFixtures.all.map(\.name))
    func readsRealisticKubeconfigsLikeYams(name: String) throws {
        let text = try #require(KubeconfigFixtures.all.first { $0.name == name }).text
        let ours = try #require(try YAMLReader.parse(text))
        let theirs = try #require(try Yams.compose(yaml: text))
        #expect(YAMLCanonical.of(ours) == YAMLCanonical.of(theirs), "fixture \(name)")
    }

    @Test func readsGeneratedDocumentsLikeYams() throws {
        var checked = 0
        for seed in UInt64(1)...400 {
            var generator = YAMLDocumentGenerator(seed: seed)
            var tree = generator.tree()
            let text: String
            if seed % 5 == 0 {
                (text, tree) = generator.renderJSON(tree)
            } else {
                text = generator.render(tree)
            }
            let ours: YAMLNode?
            do {
                ours = try YAMLReader.parse(text)
            } catch {
                Issue.record("seed \(seed): our reader failed: \(error)\n\(text)")
                continue
            }
            let theirs = try Yams.compose(yaml: text)
            let oursText = ours.map(YAMLCanonical.of) ?? "nil"
            let theirsText = theirs.map(YAMLCanonical.of) ?? "nil"
            #expect(oursText == theirsText, "seed \(seed):\n\(text)")
            #expect(oursText == YAMLCanonical.of(tree), "seed \(seed) (generated tree):\n\(text)")
            checked += 1
        }
        #expect(checked == 400)
    }

    @Test func readsScalarsStylesAndEscapes() throws {
        let text = """
            plain: hello world  # comment
            colon: https://host:6443/path#frag
            single: 'it''s # not a comment'
            double: "tab\\there \\u00e9 \\"quoted\\" \\\\ slash\\/"
            folded: "first
              second

              third"
            empty:
            tilde: ~
            flow: {a: 1, "b": [x, 'y', "z"], c: }
            json: {"k": "v", "n": 12}
            """
        let ours = try #require(try YAMLReader.parse(text))
        let theirs = try #require(try Yams.compose(yaml: text))
        #expect(YAMLCanonical.of(ours) == YAMLCanonical.of(theirs))
        #expect(ours["double"]?.string == "tab\there é \"quoted\" \\ slash/")
        #expect(ours["empty"]?.isNull == true)
        #expect(ours["tilde"]?.string == nil)
        #expect(ours["single"]?.string == "it's # not a comment")
    }

    @Test func readsBooleansOnlyWhenPlain() throws {
        let node = try #require(try YAMLReader.parse("a: true\nb: \"true\"\nc: False\n"))
        #expect(node["a"]?.bool == true)
        #expect(node["b"]?.bool == nil)
        #expect(node["c"]?.bool == false)
    }

    @Test(arguments: [
        ("a: &anchor x\n", "anchors"),
        ("a: *alias\n", "aliases"),
        ("a: !!str x\n", "tags"),
        ("a: |\n  text\n", "block scalars"),
        ("a: >\n  text\n", "block scalars"),
        ("? complex\n: value\n", "complex mapping keys"),
        ("a: b: c\n", "mapping values are not allowed"),
        ("a: 'unterminated\n", "unterminated"),
        ("a: [1, 2\n", "unterminated flow sequence"),
        ("a:\n  b: 1\n c: 2\n", "unexpected"),
        ("a: 1\na: 2\n", "duplicate mapping key"),
        ("a: 1\n---\nb: 2\n", "only one YAML document"),
        ("a:\n\tb: 1\n", "tabs"),
    ])
    func refusesUnsupportedOrInvalidInput(text: String, expected: String) {
        #expect {
            _ = try YAMLReader.parse(text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func reportsLineAndColumn() {
        #expect(throws: YAMLError(line: 3, column: 4, message: "anchors (&) are not supported")) {
            _ = try YAMLReader.parse("a: 1\nb:\n - &x 2\n")
        }
    }

    /// Yams itself refuses a byte-order mark, so this one is checked against the same text without it.
    @Test func skipsAByteOrderMark() throws {
        let withMark = try #require(try YAMLReader.parse("\u{FEFF}" + KubeconfigFixtures.kind))
        let without = try #require(try YAMLReader.parse(KubeconfigFixtures.kind))
        #expect(withMark == without)
    }

    @Test func emptyDocumentsHaveNoNode() throws {
        #expect(try YAMLReader.parse("") == nil)
        #expect(try YAMLReader.parse("# only a comment\n\n") == nil)
    }
}
