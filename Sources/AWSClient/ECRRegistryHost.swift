/// An Amazon ECR registry named by an image reference's host: a private registry
/// (`<account>.dkr.ecr.<region>.amazonaws.com` and its FIPS, dual-stack, China, EU sovereign and ISO forms) or
/// ECR Public (`public.ecr.aws`).
///
/// The accepted forms follow the registry pattern of kubernetes/cloud-provider-aws
/// `cmd/ecr-credential-provider/main.go` (`ecrPrivateHostPattern`, `ecrPublicHosts`):
/// `^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`
/// and the hosts `public.ecr.aws` and `ecr-public.aws.com`. Parsed by hand (no regex engine at start-up: the
/// kubelet runs the credential provider for every cache miss). The region part must also be a well-formed
/// region name, which is stricter than the pattern's `[a-zA-Z0-9][a-zA-Z0-9-_]*`.
public struct ECRRegistryHost: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A private registry; `fips` for `dkr.ecr-fips` / `dkr-ecr-fips`, `dualStack` for `dkr-ecr` hosts.
        case privateRegistry(account: String, region: String, fips: Bool, dualStack: Bool)
        /// ECR Public: tokens come from `ecr-public:GetAuthorizationToken` in us-east-1.
        case publicRegistry
    }

    /// The host as written in the image (lower-cased), without a port.
    public let host: String
    public let kind: Kind

    /// The hosts of ECR Public (cloud-provider-aws `ecrPublicHosts`).
    public static let publicHosts = ["public.ecr.aws", "ecr-public.aws.com"]

    /// DNS suffixes a private registry host may end with (the last group of cloud-provider-aws's pattern).
    public static let privateSuffixes = [
        "amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", "on.aws", "on.amazonwebservices.com.cn",
        "sc2s.sgov.gov", "c2s.ic.gov", "cloud.adc-e.uk", "csp.hci.ic.gov",
    ]

    /// The region whose ECR (or, for ECR Public, us-east-1) answers for this registry.
    public var region: String {
        switch kind {
        case let .privateRegistry(_, region, _, _): region
        case .publicRegistry: "us-east-1"
        }
    }

    public var description: String { host }

    /// Parses a registry host (`host` or `host:port`). Nil when it is not an ECR registry.
    public static func parse(_ raw: String) -> ECRRegistryHost? {
        var host = Substring(raw.lowercased())
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            host = host[..<colon]
        }
        let name = String(host)
        if publicHosts.contains(name) { return ECRRegistryHost(host: name, kind: .publicRegistry) }
        // <12 digits> . dkr(.|-)ecr[-fips] . <region> . <suffix>
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 5 else { return nil }
        let account = labels[0]
        guard account.utf8.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var index = 1
        let dualStack: Bool
        let fips: Bool
        if labels[1] == "dkr" {
            // dkr.ecr or dkr.ecr-fips
            guard labels[2] == "ecr" || labels[2] == "ecr-fips" else { return nil }
            dualStack = false
            fips = labels[2] == "ecr-fips"
            index = 3
        } else if labels[1] == "dkr-ecr" || labels[1] == "dkr-ecr-fips" {
            dualStack = true
            fips = labels[1] == "dkr-ecr-fips"
            index = 2
        } else {
            return nil
        }
        guard index < labels.count - 1 else { return nil }
        let region = String(labels[index])
        let suffix = labels[(index + 1)...].joined(separator: ".")
        guard privateSuffixes.contains(suffix), AWSRegion.isWellFormed(region) else { return nil }
        return ECRRegistryHost(host: name, kind: .privateRegistry(account: String(account), region: region, fips: fips, dualStack: dualStack))
    }

    /// The registry part of an image reference as the kubelet keys its cache by it (everything before the
    /// first `/`, see `parseRegistry` in kubernetes pkg/credentialprovider/plugin/plugin.go), and that
    /// registry parsed. An image without `/` has no registry host (it is a Docker Hub image).
    public static func registry(ofImage image: String) -> (key: String, host: ECRRegistryHost?) {
        var text = Substring(image)
        // Tolerate a scheme, as cloud-provider-aws does before url.Parse.
        if let scheme = text.firstRange(of: "://") { text = text[scheme.upperBound...] }
        guard let slash = text.firstIndex(of: "/") else { return (String(text), nil) }
        let key = String(text[..<slash])
        return (key, parse(key))
    }
}
