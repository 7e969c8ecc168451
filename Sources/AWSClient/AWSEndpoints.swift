import CommonBasics

/// The AWS services this module talks to.
public enum AWSService: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ecr
    case ecrPublic = "ecr-public"
    case sts
    /// IAM Roles Anywhere (CreateSession).
    case rolesAnywhere = "rolesanywhere"

    /// The SigV4 signing name (credential scope service).
    public var signingName: String { rawValue }

    /// The suffix of the per-service endpoint variable (`AWS_ENDPOINT_URL_<suffix>`), from the SDK service id.
    public var environmentSuffix: String {
        switch self {
        case .ecr: return "ECR"
        case .ecrPublic: return "ECR_PUBLIC"
        case .sts: return "STS"
        case .rolesAnywhere: return "ROLESANYWHERE"
        }
    }

    public var description: String { rawValue }
}

/// An AWS partition: a group of regions sharing a DNS suffix (aws, aws-cn, aws-us-gov, ...).
public struct AWSPartition: Sendable, Hashable, CustomStringConvertible {
    public let id: String
    public let dnsSuffix: String
    /// Region name prefixes that belong to the partition (checked longest first).
    let regionPrefixes: [String]

    public static let aws = AWSPartition(id: "aws", dnsSuffix: "amazonaws.com", regionPrefixes: [])
    public static let awsCN = AWSPartition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn", regionPrefixes: ["cn-"])
    public static let awsUSGov = AWSPartition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", regionPrefixes: ["us-gov-"])
    public static let awsISO = AWSPartition(id: "aws-iso", dnsSuffix: "c2s.ic.gov", regionPrefixes: ["us-iso-"])
    public static let awsISOB = AWSPartition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", regionPrefixes: ["us-isob-"])
    public static let awsISOE = AWSPartition(id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", regionPrefixes: ["eu-isoe-"])
    public static let awsISOF = AWSPartition(id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", regionPrefixes: ["us-isof-"])
    public static let awsEUSC = AWSPartition(id: "aws-eusc", dnsSuffix: "amazonaws.eu", regionPrefixes: ["eusc-"])

    public static let all: [AWSPartition] = [aws, awsCN, awsUSGov, awsISO, awsISOB, awsISOE, awsISOF, awsEUSC]

    /// The partition of a (valid) region name; unknown prefixes belong to `aws`, as in the SDKs.
    public static func of(region: String) -> AWSPartition {
        for p in all where p.regionPrefixes.contains(where: { region.hasPrefix($0) }) { return p }
        return .aws
    }

    public var description: String { id }
}

/// Region name checks with messages that say what is wrong.
public enum AWSRegion {
    /// Returns `name` if it is a syntactically valid region name (e.g. `us-east-1`, `eu-central-2`,
    /// `us-gov-west-1`, `cn-north-1`), else throws `AWSError` (`.invalidConfiguration`) explaining the problem.
    /// `source` names where the value came from (e.g. "AWS_REGION").
    @discardableResult
    public static func validate(_ name: String, source: String = "region") throws -> String {
        func fail(_ why: String) -> AWSError {
            AWSError.invalidConfiguration("\(source) \"\(Printable.escape(name))\" \(why)")
        }
        if name.isEmpty { throw AWSError.invalidConfiguration("\(source) is empty: set an AWS region such as us-east-1") }
        if name.trimmingASCIIWhitespace() != name {
            throw fail("has leading or trailing white space: remove it (use \"\(Printable.escape(name.trimmingASCIIWhitespace()))\")")
        }
        let lower = name.lowercased()
        if lower != name, isWellFormed(lower) {
            throw fail("must be lower case: use \"\(lower)\"")
        }
        if lower.hasPrefix("fips-") || lower.hasSuffix("-fips") {
            let base = lower.replacing("fips-", with: "").replacing("-fips", with: "")
            throw fail("is a FIPS pseudo-region: use region \"\(base)\" and set AWS_USE_FIPS_ENDPOINT=true")
        }
        if lower == "aws-global" || lower == "global" {
            throw fail("is not a region: use a real region such as us-east-1")
        }
        if let last = lower.last, last.isLetter, isWellFormed(String(lower.dropLast())) {
            throw fail("looks like an availability zone: use the region \"\(lower.dropLast())\"")
        }
        guard isWellFormed(name) else {
            throw fail("is not an AWS region name (expected something like us-east-1 or eu-west-2)")
        }
        return name
    }

    /// `<2-5 letters>-<word>[-<word>...]-<1-2 digits>`, lower case letters, digits and dashes only.
    static func isWellFormed(_ s: String) -> Bool {
        guard s.count <= 32 else { return false }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return false }
        let first = parts.first!, last = parts.last!
        guard (2...5).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLowercase && $0.isLetter }) else { return false }
        guard (1...2).contains(last.count), last.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        for middle in parts.dropFirst().dropLast() {
            guard !middle.isEmpty, middle.allSatisfy({ $0.isASCII && ($0.isNumber || ($0.isLetter && $0.isLowercase)) }),
                middle.first!.isLetter
            else { return false }
        }
        return true
    }

    /// The region from `AWS_REGION`, else `AWS_DEFAULT_REGION`, validated; nil when neither is set.
    public static func fromEnvironment(_ env: [String: String]) throws -> String? {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let v = env[name], !v.isEmpty { return try validate(v, source: name) }
        }
        return nil
    }
}

/// Where to send requests for a service in a region, and how to sign them.
public struct AWSEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Base URL without trailing slash, e.g. `https://api.ecr.us-east-1.amazonaws.com`.
    public var url: String
    public var signingName: String
    public var signingRegion: String
    public var partition: String
    /// True when the URL came from `AWS_ENDPOINT_URL*` / an explicit override.
    public var isCustom: Bool

    /// The URL of the service's root path `/` (all JSON 1.1 and query-protocol calls POST there).
    public var rootURL: String { url + "/" }

    public var description: String { url }
}

/// Endpoint resolution as the AWS SDKs do it: partition-aware default host names, FIPS variants, and the
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` overrides (the service-specific one wins; an override
/// also wins over FIPS).
public struct AWSEndpoints: Sendable, Hashable {
    public var useFIPS: Bool
    /// `AWS_ENDPOINT_URL`: one endpoint for every service.
    public var endpointURL: String?
    /// `AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_ECR_PUBLIC`, `AWS_ENDPOINT_URL_ROLESANYWHERE`.
    public var serviceEndpointURLs: [AWSService: String]

    /// Validates the override URLs (http or https, a host, no query).
    public init(useFIPS: Bool = false, endpointURL: String? = nil, serviceEndpointURLs: [AWSService: String] = [:]) throws {
        self.useFIPS = useFIPS
        self.endpointURL = try endpointURL.map { try Self.validateURL($0, source: "AWS_ENDPOINT_URL") }
        var services: [AWSService: String] = [:]
        for (service, url) in serviceEndpointURLs {
            services[service] = try Self.validateURL(url, source: "AWS_ENDPOINT_URL_\(service.environmentSuffix)")
        }
        self.serviceEndpointURLs = services
    }

    /// Standard endpoints, no overrides.
    public static let standard: AWSEndpoints = try! AWSEndpoints()

    /// Reads `AWS_USE_FIPS_ENDPOINT`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_STS`,
    /// `AWS_ENDPOINT_URL_ECR_PUBLIC`, `AWS_ENDPOINT_URL_ROLESANYWHERE` and `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`.
    public static func fromEnvironment(_ env: [String: String]) throws -> AWSEndpoints {
        let fips = try parseBool(env["AWS_USE_FIPS_ENDPOINT"], name: "AWS_USE_FIPS_ENDPOINT") ?? false
        if try parseBool(env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"], name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == true {
            return try AWSEndpoints(useFIPS: fips)
        }
        var services: [AWSService: String] = [:]
        for service in AWSService.allCases {
            let name = "AWS_ENDPOINT_URL_\(service.environmentSuffix)"
            if let v = env[name], !v.isEmpty {
                services[service] = try validateURL(v, source: name)
            }
        }
        let global = env["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        return try AWSEndpoints(useFIPS: fips, endpointURL: global, serviceEndpointURLs: services)
    }

    /// `true`/`false` (any case); nil when unset or empty.
    static func parseBool(_ value: String?, name: String) throws -> Bool? {
        guard let value, !value.trimmingASCIIWhitespace().isEmpty else { return nil }
        switch value.trimmingASCIIWhitespace().lowercased() {
        case "true": return true
        case "false": return false
        default: throw AWSError.invalidConfiguration("\(name)=\"\(Printable.escape(value))\" must be true or false")
        }
    }

    static func validateURL(_ raw: String, source: String) throws -> String {
        let value = raw.trimmingASCIIWhitespace()
        func fail(_ why: String) -> AWSError {
            AWSError.invalidConfiguration("\(source)=\"\(Printable.escape(raw))\" \(why)")
        }
        let lower = value.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw fail("must be an http:// or https:// URL, e.g. https://ecr.example.internal")
        }
        if value.contains("?") || value.contains("#") { throw fail("must not contain a query or fragment") }
        if value.contains(where: { $0 == " " || $0 == "\t" }) { throw fail("contains white space") }
        let parts = try? SigV4Signer.splitURL(value)
        guard let parts, !parts.hostHeader.isEmpty, parts.hostHeader.first != ":" else {
            throw fail("has no host name")
        }
        var trimmed = value
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// The endpoint for `service` in `region` (validated).
    public func resolve(_ service: AWSService, region: String) throws -> AWSEndpoint {
        try AWSRegion.validate(region)
        let signingRegion = service == .ecrPublic ? "us-east-1" : region
        let partition = AWSPartition.of(region: signingRegion)
        if let custom = serviceEndpointURLs[service] ?? endpointURL {
            return AWSEndpoint(
                url: custom, signingName: service.signingName, signingRegion: signingRegion, partition: partition.id,
                isCustom: true)
        }
        let host: String
        switch service {
        case .ecr:
            if useFIPS {
                guard partition == .aws || partition == .awsUSGov else {
                    throw AWSError.invalidConfiguration(
                        "AWS_USE_FIPS_ENDPOINT=true, but ECR has no FIPS endpoint in partition \(partition.id) (region \(region)): unset AWS_USE_FIPS_ENDPOINT or set AWS_ENDPOINT_URL_ECR")
                }
                host = "ecr-fips.\(region).\(partition.dnsSuffix)"
            } else {
                host = "api.ecr.\(region).\(partition.dnsSuffix)"
            }
        case .ecrPublic:
            if useFIPS {
                throw AWSError.invalidConfiguration(
                    "AWS_USE_FIPS_ENDPOINT=true, but ECR Public has no FIPS endpoint: unset AWS_USE_FIPS_ENDPOINT or set AWS_ENDPOINT_URL_ECR_PUBLIC")
            }
            host = "api.ecr-public.us-east-1.amazonaws.com"
        case .sts:
            if useFIPS {
                // GovCloud's regional STS endpoints are FIPS endpoints already.
                host = partition == .awsUSGov ? "sts.\(region).\(partition.dnsSuffix)" : "sts-fips.\(region).\(partition.dnsSuffix)"
            } else {
                host = "sts.\(region).\(partition.dnsSuffix)"
            }
        case .rolesAnywhere:
            if useFIPS {
                guard partition == .aws || partition == .awsUSGov else {
                    throw AWSError.invalidConfiguration(
                        "AWS_USE_FIPS_ENDPOINT=true, but IAM Roles Anywhere has no FIPS endpoint in partition \(partition.id) (region \(region)): unset AWS_USE_FIPS_ENDPOINT or set AWS_ENDPOINT_URL_ROLESANYWHERE")
                }
                host = "rolesanywhere-fips.\(region).\(partition.dnsSuffix)"
            } else {
                host = "rolesanywhere.\(region).\(partition.dnsSuffix)"
            }
        }
        return AWSEndpoint(
            url: "https://\(host)", signingName: service.signingName, signingRegion: signingRegion, partition: partition.id,
            isCustom: false)
    }
}
