import Testing

@testable import ECRCredHelper

/// What `credential-provider install` writes by default, checked against the kubelet's rules.
@Suite struct CredentialProviderDefaultsTests {
    /// The kubelet's matchImages rule for a host (credentialprovider.URLsMatch): the same number of DNS labels,
    /// and each pattern label equal to the host's or a glob; ours only use a whole-label `*`.
    static func matches(_ pattern: String, _ host: String) -> Bool {
        let patternLabels = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let hostLabels = host.split(separator: ".", omittingEmptySubsequences: false)
        return patternLabels.count == hostLabels.count && zip(patternLabels, hostLabels).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// Every registry form node mode answers for is sent to it by the default matchImages (hosts as in
    /// ECRRegistryHostTests, which follow cloud-provider-aws's pattern).
    @Test(arguments: [
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        "123456789012.dkr-ecr.eu-central-1.on.aws", "123456789012.dkr-ecr-fips.us-east-2.on.aws",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
        "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "public.ecr.aws", "ecr-public.aws.com",
    ])
    func defaultMatchImagesCoverEveryRegistryForm(host: String) {
        #expect(CredentialProviderInstallCommand.defaultMatchImages.contains { Self.matches($0, host) })
    }

    @Test func defaultMatchImagesSendNothingElse() {
        for host in ["docker.io", "gcr.io", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", "ecr.aws", "registry.k8s.io"] {
            #expect(!CredentialProviderInstallCommand.defaultMatchImages.contains { Self.matches($0, host) }, "\(host)")
        }
    }

    /// defaultCacheDuration is a metav1.Duration: Go's time.ParseDuration, and the kubelet wants it >= 0.
    @Test(arguments: [("1h", true), ("0", true), ("0s", true), ("1h30m", true), ("1.5h", true), ("90s", true), ("500ms", true),
                      ("+5m", true), ("1d", false), ("3600", false), ("-1h", false), ("1h30", false), ("", false), ("h", false),
                      (".s", false), ("1..5s", false), ("soon", false)])
    func goDurations(text: String, valid: Bool) {
        #expect(CredentialProviderInstallCommand.isGoDuration(text) == valid, "\(text)")
    }
}
