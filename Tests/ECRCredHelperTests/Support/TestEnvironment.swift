import Foundation
import TestSupport
import Testing

/// The test run's environment: moto (started by scripts/test.sh) and the built binary.
enum TestEnvironment {
    static let environment = ProcessInfo.processInfo.environment

    static func value(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    static var motoEndpoint: String? { value("MOTO_ENDPOINT") }
    static var hasMoto: Bool { motoEndpoint != nil && value("MOTO_FIXTURE") != nil }
    static let motoReason: Comment = "MOTO_ENDPOINT/MOTO_FIXTURE are unset: run scripts/test.sh (it starts moto with IAM signature checking)"

    /// The IAM fixture scripts/moto_fixture.py wrote.
    static func moto() throws -> MotoFixture {
        let path = try #require(value("MOTO_FIXTURE"), "MOTO_FIXTURE is unset")
        return try JSONDecoder().decode(MotoFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static var repositoryRoot: URL { TestSupport.repositoryRoot }

    static func helperBinary() throws -> String { try helperExecutable() }
}

/// The moto fixture (one declaration, TestSupport's).
typealias MotoFixture = MotoEnvironment
