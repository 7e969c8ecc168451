import Testing

@testable import AWSClient

/// Registry hosts as images name them; the forms follow cloud-provider-aws's ecr-credential-provider pattern.
@Suite struct ECRRegistryHostTests {
    @Test(arguments: [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1", false, false),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", true, false),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1", true, false),
        ("123456789012.dkr-ecr.eu-central-1.on.aws", "eu-central-1", false, true),
        ("123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", true, true),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", false, false),
        ("123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "cn-northwest-1", false, true),
        ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", false, false),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", false, false),
        ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", false, false),
        ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", false, false),
        ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", false, false),
        ("123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM", "eu-west-1", false, false),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443", "eu-west-1", false, false),
    ])
    func privateRegistries(host: String, region: String, fips: Bool, dualStack: Bool) throws {
        let parsed = try #require(ECRRegistryHost.parse(host))
        #expect(parsed.kind == .privateRegistry(account: "123456789012", region: region, fips: fips, dualStack: dualStack))
        #expect(parsed.region == region)
    }

    @Test(arguments: ["public.ecr.aws", "ecr-public.aws.com"])
    func publicRegistries(host: String) throws {
        let parsed = try #require(ECRRegistryHost.parse(host))
        #expect(parsed.kind == .publicRegistry)
        #expect(parsed.region == "us-east-1")
    }

    @Test(arguments: [
        "docker.io", "gcr.io", "12345678901.dkr.ecr.eu-west-1.amazonaws.com", "1234567890123.dkr.ecr.eu-west-1.amazonaws.com",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", "123456789012.dkr.ecr.eu-west-1.example.com",
        "123456789012.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.amazonaws.com", "123456789012.dkr.ecr.eu_west_1.amazonaws.com",
        "abcdefghijkl.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com:https", "public.ecr.aws.example",
        "",
    ])
    func notECR(host: String) {
        #expect(ECRRegistryHost.parse(host) == nil)
    }

    @Test func registryOfAnImageIsWhatTheKubeletKeysItsCacheBy() throws {
        let pullThroughCache = ECRRegistryHost.registry(ofImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27")
        #expect(pullThroughCache.key == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        #expect(pullThroughCache.host?.region == "eu-west-1")
        let digest = ECRRegistryHost.registry(ofImage: "public.ecr.aws/team/tool@sha256:abc")
        #expect(digest.key == "public.ecr.aws")
        #expect(ECRRegistryHost.registry(ofImage: "nginx").host == nil)
        #expect(ECRRegistryHost.registry(ofImage: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/app").key == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    }
}
