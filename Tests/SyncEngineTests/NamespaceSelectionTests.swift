import Testing
@testable import SyncEngine

@Suite struct NamespaceSelectionTests {
    @Test(arguments: [
        ("team-*", "team-a", true), ("team-*", "team-", true), ("team-*", "teams", false), ("*", "anything", true),
        ("a?c", "abc", true), ("a?c", "ac", false), ("*-prod", "shop-prod", true), ("*-prod", "shop-prod-2", false),
        ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false), ("exact", "exact", true), ("exact", "exactly", false),
    ])
    func glob(pattern: String, name: String, matches: Bool) {
        #expect(Glob(pattern).matches(name) == matches)
    }

    @Test func patternsAndExclusions() {
        let selection = NamespaceSelection(include: [Glob("team-*"), Glob("default")], exclude: [Glob("team-legacy*")])
        #expect(!selection.isExplicitList)
        #expect(selection.selects(name: "team-a", labels: [:]))
        #expect(!selection.selects(name: "team-legacy-1", labels: [:]))
        #expect(selection.selects(name: "default", labels: [:]))
        #expect(!selection.selects(name: "kube-system", labels: [:]))
    }

    @Test func selectorAlone() throws {
        let selection = NamespaceSelection(include: [], labelSelector: try LabelSelector(parsing: "ecr-pull=true"))
        #expect(selection.selects(name: "x", labels: ["ecr-pull": "true"]))
        #expect(!selection.selects(name: "x", labels: ["ecr-pull": "false"]))
    }

    @Test(arguments: [
        ("a=b", ["a": "b"], true), ("a=b", ["a": "c"], false), ("a==b", ["a": "b"], true),
        ("a!=b", ["a": "c"], true), ("a!=b", [:], true), ("a!=b", ["a": "b"], false),
        ("env in (prod, staging)", ["env": "staging"], true), ("env in (prod,staging)", ["env": "dev"], false),
        ("env notin (prod)", ["env": "dev"], true), ("env notin (prod)", [:], true), ("env notin (prod)", ["env": "prod"], false),
        ("a", ["a": ""], true), ("a", [:], false), ("!a", [:], true), ("!a", ["a": "x"], false),
        ("a=b,c in (d,e),!f", ["a": "b", "c": "e"], true), ("a=b,c in (d,e),!f", ["a": "b", "c": "e", "f": "1"], false),
        ("example.com/team=x", ["example.com/team": "x"], true),
        ("n>3", ["n": "4"], true), ("n>3", ["n": "3"], false), ("n>3", ["n": "x"], false), ("n>3", [:], false),
        ("n<3", ["n": "-1"], true), ("n<3", ["n": "3"], false),
    ] as [(String, [String: String], Bool)])
    func labelSelector(text: String, labels: [String: String], matches: Bool) throws {
        #expect(try LabelSelector(parsing: text).matches(labels) == matches)
    }

    @Test(arguments: ["", "a=b,", "a in b", "a in (", "=b", "a=b c", "a notin ()", "a>", "a>x", "a>=1"])
    func badSelectors(_ text: String) {
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: text) }
    }
}
