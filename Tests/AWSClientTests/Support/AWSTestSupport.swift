import AWSClient
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// The test run's environment (set by scripts/test.sh).
enum TestEnv {
    static let environment = ProcessInfo.processInfo.environment

    static func value(_ name: String) -> String? {
        guard let v = environment[name], !v.isEmpty else { return nil }
        return v
    }

    static var motoEndpoint: String? { value("MOTO_ENDPOINT") }
    static var python: String? { value("TEST_PYTHON") }
    static var hasMoto: Bool { motoEndpoint != nil && value("MOTO_FIXTURE") != nil }
    static var hasMotoAndPython: Bool { hasMoto && python != nil }
    static var hasTLSMoto: Bool { value("MOTO_TLS_ENDPOINT") != nil && value("MOTO_TLS_FIXTURE") != nil && value("MOTO_TLS_CA") != nil }

    static let motoReason: Comment = "MOTO_ENDPOINT/MOTO_FIXTURE are unset: run scripts/test.sh to start moto"
    static let motoPythonReason: Comment =
        "needs moto and the test venv (MOTO_ENDPOINT, MOTO_FIXTURE, TEST_PYTHON): run scripts/test.sh"
    static let pythonReason: Comment = "TEST_PYTHON is unset: run scripts/test.sh (it creates .venv with botocore)"
    static let tlsReason: Comment = "MOTO_TLS_ENDPOINT/MOTO_TLS_FIXTURE/MOTO_TLS_CA are unset: run scripts/test.sh"

    /// The repository root (this file is Tests/AWSClientTests/Support/AWSTestSupport.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ variable: String = "MOTO_FIXTURE") throws -> MotoFixture {
        let path = try #require(value(variable), "\(variable) is unset")
        return try JSONDecoder().decode(MotoFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A fresh directory under the system temporary directory; the caller removes it.
    static func tempDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aws-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// The moto fixture (one declaration, TestSupport's), with the keys as this module's types.
typealias MotoFixture = MotoEnvironment

extension MotoEnvironment.Keys {
    var credentials: AWSCredentials { AWSCredentials(accessKeyID: accessKeyId, secretAccessKey: secretAccessKey) }
    var provider: StaticCredentialProvider { StaticCredentialProvider(credentials) }
}

/// Creates a transport, runs `body`, and always shuts the transport down.
func withTransport<T>(
    settings: AWSHTTPSettings = AWSHTTPSettings(connectTimeout: .seconds(5), requestTimeout: .seconds(20)),
    retryPolicy: AWSRetryPolicy = .standard,
    logger: Logger = Logger(label: "test"),
    _ body: (AWSHTTPTransport) async throws -> T
) async throws -> T {
    let transport = try AWSHTTPTransport(settings: settings, retryPolicy: retryPolicy, logger: logger)
    do {
        let result = try await body(transport)
        try await transport.shutdown()
        return result
    } catch {
        try? await transport.shutdown()
        throw error
    }
}

/// Endpoints that send every service to `url` (moto, or a proxy in front of it).
func endpoints(_ url: String) throws -> AWSEndpoints {
    try AWSEndpoints(endpointURL: url)
}

/// Runs `body` and returns the AWSError it throws (fails the test if it throws something else or nothing).
func expectAWSError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> AWSError? {
    do {
        try await body()
        Issue.record("expected an AWSError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as AWSError {
        return e
    } catch {
        Issue.record("expected an AWSError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension AWSCredentials {
    static let example = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
}
