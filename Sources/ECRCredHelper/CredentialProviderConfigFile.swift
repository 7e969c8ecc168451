import KubeClient
import SyncEngine

/// The kubelet's `CredentialProviderConfig` (k8s.io/kubelet `config/v1/types.go`): `apiVersion`
/// `kubelet.config.k8s.io/v1` (or v1beta1/v1alpha1), `kind`, and `providers`, each with `name` (the binary's file
/// name in the kubelet's bin dir; unique), `matchImages`, `defaultCacheDuration` (required), `apiVersion`,
/// `args`, `env` and, in v1, `tokenAttributes` (`serviceAccountTokenAudience`, `cacheType` (`Token` or
/// `ServiceAccount`), `requireServiceAccount`, `requiredServiceAccountAnnotationKeys`,
/// `optionalServiceAccountAnnotationKeys`).
///
/// Merging replaces only the provider of our name and keeps every other provider, and every field we do not
/// write, as it was: the kubelet decodes the file strictly, so nothing unknown is added.
enum CredentialProviderConfigFile {
    static let configAPIVersion = "kubelet.config.k8s.io/v1"
    static let kind = "CredentialProviderConfig"

    struct Problem: Error, CustomStringConvertible { let description: String }

    /// The provider entry the installer writes.
    struct Provider {
        var name: String
        var matchImages: [String]
        var defaultCacheDuration: String
        var apiVersion: String
        var args: [String]
        var env: [(name: String, value: String)]
        /// ServiceAccount-token mode: the token audience; nil for node credentials only.
        var tokenAudience: String?
        var requireServiceAccount: Bool

        var node: YAMLNode {
            func string(_ text: String) -> YAMLNode { .scalar(text, quoted: true) }
            var pairs: [(key: String, value: YAMLNode)] = [
                ("name", string(name)),
                ("matchImages", .sequence(matchImages.map(string))),
                ("defaultCacheDuration", string(defaultCacheDuration)),
                ("apiVersion", string(apiVersion)),
                ("args", .sequence(args.map(string))),
            ]
            if !env.isEmpty {
                pairs.append(("env", .sequence(env.map { .mapping([("name", string($0.name)), ("value", string($0.value))]) })))
            }
            if let tokenAudience {
                // cacheType ServiceAccount: the kubelet keys its cache by the ServiceAccount's namespace, name, UID
                // and the listed annotations' values (generateServiceAccountCacheKey in kubernetes
                // pkg/credentialprovider/plugin/plugin.go), so credentials fetched for one ServiceAccount are never
                // served to another; they depend on nothing pod-specific (the role comes from the ServiceAccount's
                // annotation, the token's subject is the ServiceAccount), so "Token" (one STS call per pod) buys nothing.
                // The annotation keys are optional: a ServiceAccount without one pulls with the node's credentials.
                pairs.append(("tokenAttributes", .mapping([
                    ("serviceAccountTokenAudience", string(tokenAudience)),
                    ("cacheType", string("ServiceAccount")),
                    ("requireServiceAccount", .scalar(requireServiceAccount ? "true" : "false", quoted: false)),
                    ("optionalServiceAccountAnnotationKeys", .sequence(NodeCredentialProvider.roleAnnotations.map(string))),
                ])))
            }
            return .mapping(pairs)
        }
    }

    /// The document with `provider` merged in. `existing` nil: a new document.
    static func merge(_ provider: Provider, into existing: YAMLNode?, path: String) throws(Problem) -> YAMLNode {
        guard let existing, !existing.isNull else {
            return .mapping([("apiVersion", .scalar(configAPIVersion, quoted: true)), ("kind", .scalar(kind, quoted: true)),
                             ("providers", .sequence([provider.node]))])
        }
        guard case .mapping(var pairs) = existing else {
            throw Problem(description: "\(path) is not a CredentialProviderConfig (not a YAML mapping): point --config at the kubelet's --image-credential-provider-config file")
        }
        if let found = existing["kind"]?.string, found != kind {
            throw Problem(description: "\(path) holds a \(found), not a \(kind): point --config at the kubelet's --image-credential-provider-config file")
        }
        let apiVersion = existing["apiVersion"]?.string
        if provider.tokenAudience != nil, let apiVersion, apiVersion != configAPIVersion {
            throw Problem(description: "\(path) is \(apiVersion), but tokenAttributes (ServiceAccount-token mode) exist only in \(configAPIVersion): change its apiVersion (kubelet 1.26 or later reads it) or drop --service-account-token-audience")
        }
        var providers: [YAMLNode] = []
        if let current = existing["providers"] {
            guard let items = current.items else {
                throw Problem(description: "\(path): providers is not a list")
            }
            providers = items
        }
        if let index = providers.firstIndex(where: { $0["name"]?.string == provider.name }) {
            providers[index] = provider.node
        } else {
            providers.append(provider.node)
        }
        if let index = pairs.firstIndex(where: { $0.key == "providers" }) {
            pairs[index].value = .sequence(providers)
        } else {
            pairs.append(("providers", .sequence(providers)))
        }
        if apiVersion == nil { pairs.insert(("apiVersion", .scalar(configAPIVersion, quoted: true)), at: 0) }
        if existing["kind"] == nil { pairs.insert(("kind", .scalar(kind, quoted: true)), at: 1) }
        return .mapping(pairs)
    }
}

/// Block-style YAML for a `YAMLNode`: scalars that were quoted are written as JSON strings (which YAML reads the
/// same), plain scalars as they were (they were valid plain scalars when read).
enum YAMLWriter {
    static func document(_ node: YAMLNode) -> String {
        var out = ""
        write(node, indent: 0, into: &out)
        return out
    }

    private static func scalar(_ text: String, quoted: Bool) -> String {
        quoted ? JSONString.quote(text) : text
    }

    private static func key(_ text: String) -> String {
        let plain = !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
        return plain ? text : JSONString.quote(text)
    }

    /// `node` as the value after `key:` (inline for scalars and empty collections).
    private static func inline(_ node: YAMLNode) -> String? {
        switch node {
        case let .scalar(text, quoted): scalar(text, quoted: quoted)
        case let .sequence(items) where items.isEmpty: "[]"
        case let .mapping(pairs) where pairs.isEmpty: "{}"
        default: nil
        }
    }

    private static func write(_ node: YAMLNode, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        switch node {
        case let .mapping(pairs) where !pairs.isEmpty:
            for (name, value) in pairs {
                if let text = inline(value) {
                    out += "\(pad)\(key(name)): \(text)\n"
                } else {
                    out += "\(pad)\(key(name)):\n"
                    write(value, indent: indent + 2, into: &out)
                }
            }
        case let .sequence(items) where !items.isEmpty:
            for item in items {
                if let text = inline(item) {
                    out += "\(pad)- \(text)\n"
                } else {
                    // The item's block at indent + 2, its first line joined to the dash.
                    var block = ""
                    write(item, indent: indent + 2, into: &block)
                    out += pad + "- " + block.dropFirst(indent + 2)
                }
            }
        default:
            out += pad + (inline(node) ?? "") + "\n"
        }
    }
}

/// JSON for a `YAMLNode` read from a JSON document (or built by the installer): quoted scalars as strings, plain
/// ones as the JSON literals they were (`true`, `false`, `null`, numbers); any other plain scalar (possible
/// only in YAML) as a string. Two-space indentation, keys in their order.
enum JSONDocumentWriter {
    /// True when the document's first character (after a byte order mark and white space) opens a JSON object.
    static func looksLikeJSON(_ text: String) -> Bool {
        text.unicodeScalars.first { !($0 == "\u{FEFF}" || $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t") } == "{"
    }

    static func document(_ node: YAMLNode) -> String {
        var out = ""
        write(node, indent: 0, into: &out)
        return out + "\n"
    }

    private static func isLiteral(_ text: String) -> Bool {
        if text == "true" || text == "false" || text == "null" { return true }
        // A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        var rest = Substring(text)
        if rest.first == "-" { rest = rest.dropFirst() }
        let integer = rest.prefix { $0.isASCII && $0.isNumber }
        guard !integer.isEmpty, integer == "0" || integer.first != "0" else { return false }
        rest = rest.dropFirst(integer.count)
        if rest.first == "." {
            let fraction = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
            guard !fraction.isEmpty else { return false }
            rest = rest.dropFirst(1 + fraction.count)
        }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCII && $0.isNumber }
            guard !exponent.isEmpty else { return false }
            rest = rest.dropFirst(exponent.count)
        }
        return rest.isEmpty
    }

    private static func write(_ node: YAMLNode, indent: Int, into out: inout String) {
        let inner = String(repeating: " ", count: indent + 2)
        switch node {
        case let .scalar(text, quoted):
            out += !quoted && isLiteral(text) ? text : (!quoted && node.isNull ? "null" : JSONString.quote(text))
        case let .sequence(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += inner
                write(item, indent: indent + 2, into: &out)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case let .mapping(pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (index, pair) in pairs.enumerated() {
                out += inner + JSONString.quote(pair.key) + ": "
                write(pair.value, indent: indent + 2, into: &out)
                out += index < pairs.count - 1 ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }
}
