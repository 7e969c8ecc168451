import KubeTestServer
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("JSONValue")
struct JSONValueTests {
    @Test("parses and writes RFC 8259 documents, agreeing with Foundation's decoder")
    func roundTrip() throws {
        let text = #"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"x\"y\\z\n\t\u00e9\ud83d\ude00/"},"d":"","e":{}}"#
        let parsed = try JSONValue(parsing: text)
        let viaFoundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(parsed == viaFoundation)
        #expect(parsed["a"]?[0]?.intValue == 1)
        #expect(parsed["a"]?[1]?.doubleValue == -2.5)
        #expect(parsed["a"]?[2]?.intValue == 300)
        #expect(parsed["a"]?[3]?.boolValue == true)
        #expect(parsed["a"]?[5]?.isNull == true)
        #expect(parsed["b"]?["c"]?.stringValue == "x\"y\\z\n\té😀/")
        #expect(try JSONValue(parsing: parsed.jsonString) == parsed)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(parsed.jsonBytes)) == parsed)
    }

    @Test(
        "rejects invalid documents",
        arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"\\x\"", "{\"a\":1}x", "\"\u{01}\"", "1.", "-"])
    func rejects(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue(parsing: text) }
    }

    @Test("writes apiVersion and kind first, other keys sorted, integers without a fraction")
    func output() {
        let value: JSONValue = ["z": 1, "kind": "Secret", "a": 2.5, "apiVersion": "v1", "m": [true, nil]]
        #expect(value.jsonString == #"{"apiVersion":"v1","kind":"Secret","a":2.5,"m":[true,null],"z":1}"#)
    }

    @Test("subscripts read and write, decode goes through Codable")
    func accessors() throws {
        struct Meta: Decodable, Equatable { var name: String; var labels: [String: String] }
        var value: JSONValue = ["metadata": ["name": "x"]]
        value["metadata"]?["labels"] = ["app": "y"]
        #expect(try value["metadata"]?.decode(Meta.self) == Meta(name: "x", labels: ["app": "y"]))
        value["metadata"]?["name"] = nil
        #expect(value["metadata"]?["name"] == nil)
        #expect(value["missing"]?["deeper"] == nil)
        #expect(value[0] == nil)
        let encoded = try JSONValue(encoding: ["k": [1, 2]])
        #expect(encoded["k"]?.arrayValue?.count == 2)
    }
}
