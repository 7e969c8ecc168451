/// The validated configuration of one cycle. Built anew from `SettingValues` every cycle so that rotated
/// keys and edited namespace lists take effect without a restart.
public struct HelperSettings: Sendable, Hashable {
    public var namespaces: NamespaceSelection
    public var secretName: String
    public var aws: AWSAccess
    public var refresh: RefreshPolicy
    /// ServiceAccounts whose `imagePullSecrets` get the secret; empty means no patching.
    public var serviceAccounts: [String]
    /// Secrets of namespaces that stop matching are deleted only when this is true.
    public var pruneUnselected: Bool
    /// How many namespace writes are in flight at once.
    public var concurrency: Int
    /// Problems that do not stop the cycle (duplicates, ignored values), logged once per change.
    public var warnings: [String]

    public static let defaultSecretName = "registry-aws-ecr"
    public static let defaultConcurrency = 32
}

/// Where AWS credentials and tokens come from.
public struct AWSAccess: Sendable, Hashable {
    public var accessKeyID: String?
    public var secretAccessKey: Sensitive?
    public var sessionToken: Sensitive?
    public var roleARN: String?
    public var externalID: String?
    public var roleSessionName: String?
    public var webIdentityTokenFile: String?
    /// One `GetAuthorizationToken` call per region per refresh.
    public var regions: [String]
    /// Accounts whose registries go into the secret; empty means the caller's own account.
    public var registryIDs: [String]
}

/// Every problem found in one cycle's settings, one line each, so a user fixes them all at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
    public init(problems: [String]) { self.problems = problems }
}

extension HelperSettings {
    /// Setting names, as environment variables, files in the config folders, and (lowercased, dashed) flags.
    public enum Key {
        public static let namespaces = "NAMESPACES"
        public static let excludeNamespaces = "EXCLUDE_NAMESPACES"
        public static let namespaceSelector = "NAMESPACE_SELECTOR"
        public static let secretName = "SECRET_NAME"
        public static let accessKeyID = "AWS_ACCESS_KEY_ID"
        public static let secretAccessKey = "AWS_SECRET_ACCESS_KEY"
        public static let sessionToken = "AWS_SESSION_TOKEN"
        public static let region = "AWS_REGION"
        public static let defaultRegion = "AWS_DEFAULT_REGION"
        public static let regions = "AWS_REGIONS"
        public static let registryIDs = "REGISTRY_IDS"
        public static let roleARN = "AWS_ROLE_ARN"
        public static let externalID = "AWS_EXTERNAL_ID"
        public static let roleSessionName = "AWS_ROLE_SESSION_NAME"
        public static let webIdentityTokenFile = "AWS_WEB_IDENTITY_TOKEN_FILE"
        public static let refreshInterval = "REFRESH_INTERVAL"
        public static let refreshMargin = "REFRESH_MARGIN"
        public static let refreshFraction = "REFRESH_FRACTION"
        public static let resyncInterval = "RESYNC_INTERVAL"
        public static let patchServiceAccounts = "PATCH_SERVICE_ACCOUNTS"
        public static let serviceAccounts = "SERVICE_ACCOUNTS"
        public static let pruneUnselected = "PRUNE_UNSELECTED"
        public static let concurrency = "CONCURRENCY"

        /// Keys read from the config folder (`/config`).
        public static let configFolder = [
            namespaces, excludeNamespaces, namespaceSelector, secretName, regions, registryIDs, refreshInterval,
            refreshMargin, refreshFraction, resyncInterval, patchServiceAccounts, serviceAccounts, pruneUnselected,
            concurrency,
        ]
        /// Keys read from the AWS config folder (`/config-aws`).
        public static let awsFolder = [
            accessKeyID, secretAccessKey, sessionToken, region, defaultRegion, regions, registryIDs, roleARN,
            externalID, roleSessionName,
        ]
    }

    /// Validates one cycle's raw values; throws every problem at once.
    public static func parse(_ values: SettingValues) throws(ConfigurationError) -> HelperSettings {
        var problems: [String] = []
        var warnings: [String] = []
        typealias K = Key

        // Namespaces.
        var include: [Glob] = []
        var seen = Set<String>()
        for item in values.list(K.namespaces) {
            let name = item.trimmingASCIIWhitespace()
            if !seen.insert(name).inserted {
                warnings.append("\(K.namespaces) (\(values.origin(K.namespaces))) lists \"\(name)\" more than once; using it once")
                continue
            }
            if KubernetesNames.isLabel(name) || (name.contains(where: { $0 == "*" || $0 == "?" }) && KubernetesNames.isNamespacePattern(name)) {
                include.append(Glob(name))
            } else {
                problems.append("\(K.namespaces) (\(values.origin(K.namespaces))): \"\(printable(name))\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)")
            }
        }
        var exclude: [Glob] = []
        for item in values.list(K.excludeNamespaces) {
            if KubernetesNames.isNamespacePattern(item) {
                exclude.append(Glob(item))
            } else {
                problems.append("\(K.excludeNamespaces) (\(values.origin(K.excludeNamespaces))): \"\(printable(item))\" is not a valid namespace name or pattern")
            }
        }
        var selector: LabelSelector?
        if let text = values.string(K.namespaceSelector) {
            do { selector = try LabelSelector(parsing: text) } catch {
                problems.append("\(K.namespaceSelector) (\(values.origin(K.namespaceSelector))): \(error.description)")
            }
        }
        // Not when NAMESPACES or NAMESPACE_SELECTOR was given but invalid: that problem is already reported.
        if include.isEmpty && selector == nil && !problems.contains(where: { $0.hasPrefix(K.namespaces) || $0.hasPrefix(K.namespaceSelector) }) {
            problems.append("\(K.namespaces) is empty or missing: list the target namespaces, space-separated (e.g. \"default team-a\"), in /config/NAMESPACES, the NAMESPACES variable or --namespaces; or set NAMESPACE_SELECTOR")
        }

        // Secret name.
        let secretName = values.string(K.secretName) ?? defaultSecretName
        if !KubernetesNames.isSubdomain(secretName) {
            problems.append("\(K.secretName) (\(values.origin(K.secretName))): \"\(printable(secretName))\" is not a valid secret name (lowercase letters, digits, '-' and '.', at most 253 characters); it must also match the resourceNames of the ClusterRole")
        }

        // AWS identity: static keys, or a role with a web identity token.
        let accessKeyID = values.string(K.accessKeyID)
        let secretKey = values.string(K.secretAccessKey)
        let webIdentity = values.string(K.webIdentityTokenFile)
        let roleARN = values.string(K.roleARN)
        switch (accessKeyID, secretKey) {
        case (nil, nil):
            if webIdentity == nil {
                problems.append("no AWS credentials: provide AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (files in the AWS config folder, default /config-aws, or environment variables), or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE")
            }
        case (nil, _?):
            problems.append("\(K.accessKeyID) is missing while \(K.secretAccessKey) is set (\(values.origin(K.secretAccessKey))): add the access key id that belongs to the secret key")
        case (let id?, nil):
            problems.append("\(K.secretAccessKey) is missing for access key \(redactedKeyID(id)): add it next to \(K.accessKeyID) (\(values.origin(K.accessKeyID)))")
        case (let id?, _?):
            if !isPlausibleAccessKeyID(id) {
                problems.append("\(K.accessKeyID) (\(values.origin(K.accessKeyID))) does not look like an AWS access key id (16-128 letters and digits, e.g. AKIA...): check that the file holds the key id itself")
            }
        }
        if webIdentity != nil && roleARN == nil {
            problems.append("\(K.webIdentityTokenFile) is set but \(K.roleARN) is not: set the ARN of the role to assume with the web identity token")
        }
        if let roleARN, !roleARN.hasPrefix("arn:") {
            problems.append("\(K.roleARN) (\(values.origin(K.roleARN))): \"\(printable(roleARN))\" is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }

        // Regions: AWS_REGIONS, else AWS_REGION, else AWS_DEFAULT_REGION (as the AWS SDKs order them).
        var regions: [String] = []
        var regionKey = K.regions
        if !values.list(K.regions).isEmpty {
            regions = values.list(K.regions)
        } else if let region = values.string(K.region) {
            regions = [region]; regionKey = K.region
        } else if let region = values.string(K.defaultRegion) {
            regions = [region]; regionKey = K.defaultRegion
        }
        if regions.isEmpty {
            problems.append("no AWS region: set AWS_DEFAULT_REGION (the original helper's file in /config-aws), AWS_REGION, or AWS_REGIONS for several")
        }
        var uniqueRegions: [String] = []
        for region in regions where !uniqueRegions.contains(region) {
            if RegionNames.isWellFormed(region) {
                uniqueRegions.append(region)
            } else {
                problems.append("\(regionKey) (\(values.origin(regionKey))): \"\(printable(region))\" is not an AWS region name (like us-east-1, eu-central-1, cn-north-1, us-gov-west-1)")
            }
        }
        var registryIDs: [String] = []
        for id in values.list(K.registryIDs) where !registryIDs.contains(id) {
            if id.utf8.count == 12 && id.allSatisfy({ $0.isASCII && $0.isNumber }) {
                registryIDs.append(id)
            } else {
                problems.append("\(K.registryIDs) (\(values.origin(K.registryIDs))): \"\(printable(id))\" is not an AWS account id (12 digits)")
            }
        }

        // Schedule.
        var refresh = RefreshPolicy()
        func duration(_ key: String, into target: inout Duration, minimum: Duration) {
            guard let text = values.string(key) else { return }
            if let parsed = DurationParsing.parse(text), parsed >= minimum {
                target = parsed
            } else {
                problems.append("\(key) (\(values.origin(key))): \"\(printable(text))\" is not a duration of at least \(minimum.humanReadable) (e.g. 11h30m, 45m, 3600)")
            }
        }
        duration(K.refreshInterval, into: &refresh.interval, minimum: .seconds(1))
        duration(K.refreshMargin, into: &refresh.margin, minimum: .zero)
        duration(K.resyncInterval, into: &refresh.resync, minimum: .seconds(1))
        if let text = values.string(K.refreshFraction) {
            if let fraction = Double(text), fraction > 0, fraction <= 1 {
                refresh.fraction = fraction
            } else {
                problems.append("\(K.refreshFraction) (\(values.origin(K.refreshFraction))): \"\(printable(text))\" is not a fraction of the token lifetime between 0 and 1 (e.g. 0.5)")
            }
        }

        // Features.
        func flag(_ key: String) -> Bool {
            guard let text = values.string(key)?.lowercased() else { return false }
            switch text {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default:
                problems.append("\(key) (\(values.origin(key))): \"\(printable(text))\" is not true or false")
                return false
            }
        }
        var serviceAccounts: [String] = []
        if flag(K.patchServiceAccounts) {
            let names = values.list(K.serviceAccounts)
            for name in names.isEmpty ? ["default"] : names where !serviceAccounts.contains(name) {
                if KubernetesNames.isSubdomain(name) { serviceAccounts.append(name) } else {
                    problems.append("\(K.serviceAccounts) (\(values.origin(K.serviceAccounts))): \"\(printable(name))\" is not a valid ServiceAccount name")
                }
            }
        }
        let prune = flag(K.pruneUnselected)
        var concurrency = defaultConcurrency
        if let text = values.string(K.concurrency) {
            if let n = Int(text), (1...1024).contains(n) { concurrency = n } else {
                problems.append("\(K.concurrency) (\(values.origin(K.concurrency))): \"\(printable(text))\" is not a number from 1 to 1024")
            }
        }

        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return HelperSettings(
            namespaces: NamespaceSelection(include: include, exclude: exclude, labelSelector: selector),
            secretName: secretName,
            aws: AWSAccess(
                accessKeyID: accessKeyID,
                secretAccessKey: secretKey.map(Sensitive.init),
                sessionToken: values.string(K.sessionToken).map(Sensitive.init),
                roleARN: roleARN,
                externalID: values.string(K.externalID),
                roleSessionName: values.string(K.roleSessionName),
                webIdentityTokenFile: webIdentity,
                regions: uniqueRegions,
                registryIDs: registryIDs
            ),
            refresh: refresh,
            serviceAccounts: serviceAccounts,
            pruneUnselected: prune,
            concurrency: concurrency,
            warnings: warnings
        )
    }
}

/// Shows a user's value in an error without dumping control characters or a whole file into the log.
func printable(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars.prefix(64) {
        if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{FEFF}" || scalar == "\u{FFFD}" {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return text.unicodeScalars.count > 64 ? out + "..." : out
}

/// `AKIA…WXYZ`: enough for a user to recognise which key is meant; never the secret.
public func redactedKeyID(_ id: String) -> String {
    guard id.count > 8 else { return "<short key id>" }
    // A file holding more than the key id (the id and the secret on two lines) must not show its end.
    guard isPlausibleAccessKeyID(id) else { return "<malformed key id>" }
    return "\(id.prefix(4))…\(id.suffix(4))"
}

private func isPlausibleAccessKeyID(_ id: String) -> Bool {
    (16...128).contains(id.utf8.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
}
