/// One small parser per concern; `HelperSettings.parse` runs those a command uses and reports every
/// problem of all of them at once.
extension HelperSettings {
    /// The concerns that make up `HelperSettings`.
    public static let concerns: Set<Setting.Concern> = [.namespaces, .secret, .aws, .schedule, .serviceAccounts, .writes]

    /// Validates one cycle's raw values; throws every problem at once.
    public static func parse(_ values: SettingValues) throws(ConfigurationError) -> HelperSettings {
        try parse(values, concerns: concerns)
    }

    /// Validates the settings of `concerns` only (a command that does not use AWS does not validate AWS);
    /// the others keep their defaults.
    public static func parse(_ values: SettingValues, concerns: Set<Setting.Concern>) throws(ConfigurationError) -> HelperSettings {
        var reader = SettingsReader(values)
        let settings = read(&reader, concerns: concerns)
        try reader.check()
        return settings
    }

    /// The settings of `concerns`, with every problem left in `reader`.
    public static func read(_ reader: inout SettingsReader, concerns: Set<Setting.Concern>) -> HelperSettings {
        var settings = HelperSettings(
            namespaces: NamespaceSelection(include: []), secretName: defaultSecretName,
            installation: Installation.derived(podNamespace: nil, secretName: defaultSecretName),
            aws: AWSAccess(regions: [], registryIDs: []), refresh: RefreshPolicy(), serviceAccounts: [],
            pruneUnselected: false, concurrency: defaultConcurrency, apiQPS: nil, apiBurst: 0, warnings: []
        )
        if concerns.contains(.namespaces) { settings.namespaces = NamespaceSelection.read(&reader) }
        if concerns.contains(.secret) {
            settings.secretName = readSecretName(&reader)
            settings.installation = readInstallation(&reader, secretName: settings.secretName)
        }
        if concerns.contains(.aws) { settings.aws = AWSAccess.read(&reader) }
        if concerns.contains(.schedule) { settings.refresh = RefreshPolicy.read(&reader) }
        if concerns.contains(.serviceAccounts) { settings.serviceAccounts = readServiceAccounts(&reader) }
        if concerns.contains(.writes) {
            settings.pruneUnselected = reader.bool(.pruneUnselected)
            settings.concurrency = reader.integer(.concurrency, fallback: defaultConcurrency, in: 1...1024)
            (settings.apiQPS, settings.apiBurst) = readRateLimit(&reader)
        }
        settings.warnings = reader.warnings
        return settings
    }

    static func readSecretName(_ reader: inout SettingsReader) -> String {
        // An empty file (or variable) is a mistake, not a request for the default: the secret would get a
        // name the user did not choose, outside the ClusterRole's resourceNames.
        if let given = reader.values[.secretName], given.trimmed.isEmpty {
            reader.invalid(.secretName, "is empty: write the secret's name (it must match the resourceNames of the ClusterRole), or remove it to use the default \(defaultSecretName)")
            return defaultSecretName
        }
        let name = reader.string(.secretName) ?? defaultSecretName
        if !KubernetesNames.isSubdomain(name) {
            reader.invalid(.secretName, "\"\(printable(name))\" is not a valid secret name (lowercase letters, digits, '-' and '.', at most 253 characters); it must also match the resourceNames of the ClusterRole")
        }
        return name
    }

    /// INSTANCE, else derived from POD_NAMESPACE (read with the secret's settings, from the environment
    /// only) and the secret name.
    static func readInstallation(_ reader: inout SettingsReader, secretName: String) -> Installation {
        let derived = Installation.derived(podNamespace: reader.string(.podNamespace), secretName: secretName)
        guard let text = reader.string(.instance) else { return derived }
        guard let installation = Installation(text) else {
            reader.invalid(.instance, "\"\(printable(text))\" is not a valid installation name (letters, digits, '-', '_', '.' and '/', e.g. kube-system/aws-ecr-cred-helper)")
            return derived
        }
        return installation
    }

    /// KUBE_API_QPS (0: no limit) and KUBE_API_BURST (default: the QPS rounded up), as client-go's QPS and Burst.
    static func readRateLimit(_ reader: inout SettingsReader) -> (Double?, Int) {
        var qps: Double?
        if let text = reader.string(.apiQPS) {
            if let value = Double(text), value >= 0, value <= 100_000 {
                qps = value > 0 ? value : nil
            } else {
                reader.invalid(.apiQPS, "\"\(printable(text))\" is not a number of requests per second from 0 (no limit) to 100000")
            }
        }
        let burst = reader.integer(.apiBurst, fallback: qps.map { max(1, Int($0.rounded(.up))) } ?? 0, in: 1...100_000)
        return (qps, burst)
    }

    /// The ServiceAccounts to patch; empty when PATCH_SERVICE_ACCOUNTS is off.
    static func readServiceAccounts(_ reader: inout SettingsReader) -> [String] {
        guard reader.bool(.patchServiceAccounts) else { return [] }
        let names = reader.list(.serviceAccounts)
        var accounts: [String] = []
        for name in names.isEmpty ? ["default"] : names where !accounts.contains(name) {
            if KubernetesNames.isSubdomain(name) {
                accounts.append(name)
            } else {
                reader.invalid(.serviceAccounts, "\"\(printable(name))\" is not a valid ServiceAccount name")
            }
        }
        return accounts
    }
}

extension NamespaceSelection {
    /// NAMESPACES, EXCLUDE_NAMESPACES and NAMESPACE_SELECTOR.
    static func read(_ reader: inout SettingsReader) -> NamespaceSelection {
        var include: [Glob] = []
        var seen = Set<String>()
        for item in reader.list(.namespaces) {
            let name = item.trimmingASCIIWhitespace()
            if !seen.insert(name).inserted {
                reader.warn("NAMESPACES (\(reader.origin(.namespaces))) lists \"\(name)\" more than once; using it once")
                continue
            }
            if KubernetesNames.isLabel(name) || (name.contains(where: { $0 == "*" || $0 == "?" }) && KubernetesNames.isNamespacePattern(name)) {
                include.append(Glob(name))
            } else {
                reader.invalid(.namespaces, "\"\(printable(name))\" is not a valid namespace name or pattern (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; '*' and '?' as wildcards)")
            }
        }
        var exclude: [Glob] = []
        for item in reader.list(.excludeNamespaces) {
            if KubernetesNames.isNamespacePattern(item) {
                exclude.append(Glob(item))
            } else {
                reader.invalid(.excludeNamespaces, "\"\(printable(item))\" is not a valid namespace name or pattern")
            }
        }
        var selector: LabelSelector?
        if let text = reader.string(.namespaceSelector) {
            do { selector = try LabelSelector(parsing: text) } catch {
                reader.invalid(.namespaceSelector, error.description)
            }
        }
        // Not when NAMESPACES or NAMESPACE_SELECTOR was given but invalid: that problem is already reported.
        if include.isEmpty && selector == nil && !reader.hasProblem(.namespaces) && !reader.hasProblem(.namespaceSelector) {
            let places = reader.values.placesFor(.namespaces)
            var line = "NAMESPACES is empty or missing: list the target namespaces, separated by spaces, commas or newlines (e.g. \"default team-a\"), in \(places); or set NAMESPACE_SELECTOR"
            // kubectl's habit: `--namespace team-a` (or -n) names the helper's own namespace here, not a target.
            if let own = reader.string(.namespace) {
                line += " (--namespace \(printable(own)) is the helper's own namespace, not a target: did you mean --namespaces \(printable(own))?)"
            }
            reader.missing(.namespaces, line)
        }
        return NamespaceSelection(include: include, exclude: exclude, labelSelector: selector)
    }
}

extension AWSAccess {
    /// Keys or a web identity, role, regions and registries.
    static func read(_ reader: inout SettingsReader) -> AWSAccess {
        let identity = AWSIdentity.read(&reader, requireCredentials: true)

        // Regions: AWS_REGIONS, else AWS_REGION, else AWS_DEFAULT_REGION (as the AWS SDKs order them).
        var regions: [String] = []
        var regionSetting = Setting.regions
        if !reader.list(.regions).isEmpty {
            regions = reader.list(.regions)
        } else if let region = reader.string(.region) {
            regions = [region]
            regionSetting = .region
        } else if let region = reader.string(.defaultRegion) {
            regions = [region]
            regionSetting = .defaultRegion
        }
        if regions.isEmpty {
            reader.missing(.defaultRegion, "no AWS region: set AWS_DEFAULT_REGION (the original helper's file, \(reader.values.placesFor(.defaultRegion))), AWS_REGION or --aws-region, or AWS_REGIONS for several")
        }
        var uniqueRegions: [String] = []
        for region in regions where !uniqueRegions.contains(region) {
            if RegionNames.isWellFormed(region) {
                uniqueRegions.append(region)
            } else {
                reader.invalid(regionSetting, "\"\(printable(region))\" is not an AWS region name (like us-east-1, eu-central-1, cn-north-1, us-gov-west-1)")
            }
        }
        var registryIDs: [String] = []
        for id in reader.list(.registryIDs) where !registryIDs.contains(id) {
            if id.utf8.count == 12 && id.allSatisfy({ $0.isASCII && $0.isNumber }) {
                registryIDs.append(id)
            } else {
                reader.invalid(.registryIDs, "\"\(printable(id))\" is not an AWS account id (12 digits)")
            }
        }
        return AWSAccess(
            accessKeyID: identity.accessKeyID,
            secretAccessKey: identity.secretAccessKey,
            sessionToken: identity.sessionToken,
            roleARN: identity.roleARN,
            externalID: identity.externalID,
            roleSessionName: identity.roleSessionName,
            webIdentityTokenFile: identity.webIdentityTokenFile,
            rolesAnywhere: identity.rolesAnywhere,
            regions: uniqueRegions,
            registryIDs: registryIDs
        )
    }

    /// What is wrong with a pasted key, without showing it: quotes, spaces, line breaks or other characters
    /// no AWS key has. Surrounding whitespace is trimmed before this is asked.
    static func keyValueProblem(_ value: String) -> String? {
        if value.contains(where: { $0 == "\"" || $0 == "'" }) {
            return "the value contains quote characters: remove the quotes"
        }
        if value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value > 0x7E }) {
            return "the value contains spaces, line breaks or non-ASCII characters: check that only the key was pasted"
        }
        return nil
    }
}

extension RefreshPolicy {
    /// REFRESH_INTERVAL, REFRESH_MARGIN, REFRESH_FRACTION and RESYNC_INTERVAL.
    static func read(_ reader: inout SettingsReader) -> RefreshPolicy {
        var refresh = RefreshPolicy()
        refresh.interval = reader.duration(.refreshInterval, fallback: refresh.interval, minimum: .seconds(1))
        refresh.margin = reader.duration(.refreshMargin, fallback: refresh.margin, minimum: .zero)
        refresh.resync = reader.duration(.resyncInterval, fallback: refresh.resync, minimum: .seconds(1))
        if let text = reader.string(.refreshFraction) {
            if let fraction = Double(text), fraction > 0, fraction <= 1 {
                refresh.fraction = fraction
            } else {
                reader.invalid(.refreshFraction, "\"\(printable(text))\" is not a fraction of the token lifetime between 0 and 1 (e.g. 0.5)")
            }
        }
        return refresh
    }
}

/// Path helpers for messages.
enum FilePaths {
    /// `/config-aws/AWS_ACCESS_KEY_ID` -> `/config-aws`.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
