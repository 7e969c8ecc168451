import Testing

@testable import AWSClient

@Suite struct EndpointTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var service: AWSService
        var region: String
        var fips: Bool
        var url: String
        var testDescription: String { "\(service) \(region)\(fips ? " fips" : "")" }
    }

    // Host names as the AWS SDKs resolve them (botocore 1.44 endpoints.json FIPS variants and rule sets).
    static let table: [Row] = [
        Row(service: .ecr, region: "us-east-1", fips: false, url: "https://api.ecr.us-east-1.amazonaws.com"),
        Row(service: .ecr, region: "eu-west-1", fips: false, url: "https://api.ecr.eu-west-1.amazonaws.com"),
        Row(service: .ecr, region: "il-central-1", fips: false, url: "https://api.ecr.il-central-1.amazonaws.com"),
        Row(service: .ecr, region: "cn-north-1", fips: false, url: "https://api.ecr.cn-north-1.amazonaws.com.cn"),
        Row(service: .ecr, region: "cn-northwest-1", fips: false, url: "https://api.ecr.cn-northwest-1.amazonaws.com.cn"),
        Row(service: .ecr, region: "us-gov-west-1", fips: false, url: "https://api.ecr.us-gov-west-1.amazonaws.com"),
        Row(service: .ecr, region: "us-iso-east-1", fips: false, url: "https://api.ecr.us-iso-east-1.c2s.ic.gov"),
        Row(service: .ecr, region: "us-isob-east-1", fips: false, url: "https://api.ecr.us-isob-east-1.sc2s.sgov.gov"),
        Row(service: .ecr, region: "eusc-de-east-1", fips: false, url: "https://api.ecr.eusc-de-east-1.amazonaws.eu"),
        Row(service: .ecr, region: "us-east-1", fips: true, url: "https://ecr-fips.us-east-1.amazonaws.com"),
        Row(service: .ecr, region: "us-west-2", fips: true, url: "https://ecr-fips.us-west-2.amazonaws.com"),
        Row(service: .ecr, region: "us-gov-west-1", fips: true, url: "https://ecr-fips.us-gov-west-1.amazonaws.com"),
        Row(service: .sts, region: "us-east-1", fips: false, url: "https://sts.us-east-1.amazonaws.com"),
        Row(service: .sts, region: "eu-central-1", fips: false, url: "https://sts.eu-central-1.amazonaws.com"),
        Row(service: .sts, region: "cn-north-1", fips: false, url: "https://sts.cn-north-1.amazonaws.com.cn"),
        Row(service: .sts, region: "us-gov-east-1", fips: false, url: "https://sts.us-gov-east-1.amazonaws.com"),
        Row(service: .sts, region: "us-east-2", fips: true, url: "https://sts-fips.us-east-2.amazonaws.com"),
        Row(service: .sts, region: "us-gov-west-1", fips: true, url: "https://sts.us-gov-west-1.amazonaws.com"),
        Row(service: .ecrPublic, region: "eu-west-1", fips: false, url: "https://api.ecr-public.us-east-1.amazonaws.com"),
    ]

    @Test(arguments: table)
    func standardEndpoints(row: Row) throws {
        let e = try AWSEndpoints(useFIPS: row.fips).resolve(row.service, region: row.region)
        #expect(e.url == row.url)
        #expect(e.rootURL == row.url + "/")
        #expect(e.signingName == row.service.rawValue)
        #expect(e.signingRegion == (row.service == .ecrPublic ? "us-east-1" : row.region))
        #expect(!e.isCustom)
    }

    @Test func partitions() {
        #expect(AWSPartition.of(region: "us-east-1") == .aws)
        #expect(AWSPartition.of(region: "cn-north-1") == .awsCN)
        #expect(AWSPartition.of(region: "us-gov-west-1") == .awsUSGov)
        #expect(AWSPartition.of(region: "us-isob-east-1") == .awsISOB)
        #expect(AWSPartition.of(region: "us-iso-west-1") == .awsISO)
        #expect(AWSPartition.of(region: "xx-future-1") == .aws)
    }

    @Test func fipsWithoutAnEndpointIsAClearError() throws {
        let fips = try AWSEndpoints(useFIPS: true)
        let cn = try #require(throws: AWSError.self) { try fips.resolve(.ecr, region: "cn-north-1") }
        #expect(cn.kind == .invalidConfiguration)
        #expect(cn.description.contains("aws-cn"))
        #expect(cn.description.contains("AWS_USE_FIPS_ENDPOINT"))
        #expect(throws: AWSError.self) { try fips.resolve(.ecrPublic, region: "us-east-1") }
    }

    @Test func environmentOverrides() throws {
        // Service-specific wins over the global override, which wins over FIPS and the partition default.
        let env = [
            "AWS_ENDPOINT_URL": "http://localhost:4566/",
            "AWS_ENDPOINT_URL_ECR": "https://ecr.internal.example:8443",
            "AWS_USE_FIPS_ENDPOINT": "TRUE",
        ]
        let e = try AWSEndpoints.fromEnvironment(env)
        #expect(e.useFIPS)
        let ecr = try e.resolve(.ecr, region: "eu-west-1")
        #expect(ecr.url == "https://ecr.internal.example:8443")
        #expect(ecr.isCustom)
        #expect(ecr.signingRegion == "eu-west-1")
        #expect(try e.resolve(.sts, region: "eu-west-1").url == "http://localhost:4566")
        #expect(try e.resolve(.ecrPublic, region: "eu-west-1").url == "http://localhost:4566")

        let only = try AWSEndpoints.fromEnvironment(["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:5000"])
        #expect(try only.resolve(.sts, region: "us-east-1").url == "http://127.0.0.1:5000")
        #expect(try only.resolve(.ecr, region: "us-east-1").url == "https://api.ecr.us-east-1.amazonaws.com")

        let ignored = try AWSEndpoints.fromEnvironment(["AWS_ENDPOINT_URL": "http://x:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"])
        #expect(try ignored.resolve(.ecr, region: "us-east-1").url == "https://api.ecr.us-east-1.amazonaws.com")

        let fipsOff = try AWSEndpoints.fromEnvironment(["AWS_USE_FIPS_ENDPOINT": "false"])
        #expect(!fipsOff.useFIPS)
        #expect(try AWSEndpoints.fromEnvironment([:]) == AWSEndpoints.standard)
    }

    @Test(arguments: [
        ("AWS_USE_FIPS_ENDPOINT", "yes"), ("AWS_ENDPOINT_URL", "localhost:4566"), ("AWS_ENDPOINT_URL_ECR", "ftp://x"),
        ("AWS_ENDPOINT_URL_STS", "http://"), ("AWS_ENDPOINT_URL", "http://h:1/?q=1"),
    ])
    func invalidEnvironment(name: String, value: String) {
        let error = #expect(throws: AWSError.self) { try AWSEndpoints.fromEnvironment([name: value]) }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains(name) == true)
    }

    @Test(arguments: [
        "us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1", "cn-northwest-1", "us-isob-east-1", "eusc-de-east-1",
        "il-central-1", "mx-central-1",
    ])
    func validRegions(region: String) throws {
        #expect(try AWSRegion.validate(region) == region)
    }

    @Test(arguments: [
        ("us-east-1 ", "white space"), ("\tus-east-1", "white space"), ("us-east-1\n", "white space"), ("US-EAST-1", "lower case"),
        ("Placeholder: set your region", "not an AWS region name"), ("PLACEHOLDER", "not an AWS region name"), ("", "empty"),
        ("us-east-1a", "availability zone"), ("fips-us-east-1", "AWS_USE_FIPS_ENDPOINT"), ("us-east-1-fips", "AWS_USE_FIPS_ENDPOINT"),
        ("aws-global", "not a region"), ("us_east_1", "not an AWS region name"), ("us-east", "not an AWS region name"),
        ("useast1", "not an AWS region name"), ("us--east-1", "not an AWS region name"), ("https://us-east-1", "not an AWS region name"),
    ])
    func invalidRegions(region: String, why: String) {
        let error = #expect(throws: AWSError.self) { try AWSRegion.validate(region, source: "AWS_REGION") }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains(why) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("AWS_REGION") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func regionFromEnvironment() throws {
        #expect(try AWSRegion.fromEnvironment(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"]) == "eu-west-1")
        #expect(try AWSRegion.fromEnvironment(["AWS_DEFAULT_REGION": "us-east-2"]) == "us-east-2")
        #expect(try AWSRegion.fromEnvironment([:]) == nil)
        #expect(throws: AWSError.self) { try AWSRegion.fromEnvironment(["AWS_REGION": "Placeholder"]) }
    }

    @Test func resolveValidatesTheRegion() {
        #expect(throws: AWSError.self) { try AWSEndpoints.standard.resolve(.ecr, region: "us-east-1 ") }
    }
}
