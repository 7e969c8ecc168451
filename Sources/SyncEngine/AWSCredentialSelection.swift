import AWSClient
import Logging

/// Chooses the credential provider for one cycle's settings: an IAM Roles Anywhere certificate (the settings
/// refuse it together with keys or a token file), else, in the usual AWS order, static keys (with an optional
/// session token), else a web identity token file; `AWS_ROLE_ARN` assumes that role on top of static keys.
/// Temporary credentials are cached and renewed before they expire (Roles Anywhere's also when the certificate
/// files change).
enum AWSCredentialSelection {
    static func provider(for access: AWSAccess, sts: STSClient, logger: Logger) throws -> any AWSCredentialProvider {
        let stsRegion = access.regions.first ?? "us-east-1"
        if let rolesAnywhere = access.rolesAnywhere, let roleARN = access.roleARN {
            // The same transport (proxy, AWS_CA_BUNDLE, retries) and endpoint overrides as STS and ECR.
            let client = RolesAnywhereClient(transport: sts.transport, endpoints: sts.endpoints, logger: logger)
            let configuration = RolesAnywhereCredentialProvider.Configuration(
                certificateFile: rolesAnywhere.certificateFile, privateKeyFile: rolesAnywhere.privateKeyFile,
                session: try rolesAnywhere.sessionRequest(roleARN: roleARN, roleSessionName: access.roleSessionName))
            return RolesAnywhereCredentialProvider(configuration: configuration, client: client, logger: logger)
        }
        if let keyID = access.accessKeyID, let secret = access.secretAccessKey {
            // Quotes or stray characters pasted with a key make AWS answer with a confusing error; say so first.
            let credentials = try AWSCredentials(accessKeyID: keyID, secretAccessKey: secret.value, sessionToken: access.sessionToken?.value).validated()
            let keys = StaticCredentialProvider(credentials)
            guard let roleARN = access.roleARN else { return keys }
            let assume = try AssumeRoleCredentialProvider(
                sts: sts, base: keys, roleARN: roleARN, externalID: access.externalID,
                sessionName: access.roleSessionName ?? STSClient.defaultSessionName(), region: stsRegion
            )
            return CachingCredentialProvider(assume, logger: logger)
        }
        if let tokenFile = access.webIdentityTokenFile, let roleARN = access.roleARN {
            let web = try WebIdentityCredentialProvider(
                sts: sts, roleARN: roleARN, tokenFile: tokenFile,
                sessionName: access.roleSessionName ?? STSClient.defaultSessionName(), region: stsRegion
            )
            return CachingCredentialProvider(web, logger: logger)
        }
        throw ECRTokenSourceError(description: "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or AWS_ROLE_ARN with an IAM Roles Anywhere certificate")
    }
}
