import AWSClient
import Logging

/// Chooses the credential provider for one cycle's settings, in the usual AWS order: static keys (with an
/// optional session token), else a web identity token file; `AWS_ROLE_ARN` assumes that role on top of
/// static keys. Temporary credentials are cached and renewed before they expire.
enum AWSCredentialSelection {
    static func provider(for access: AWSAccess, sts: STSClient, logger: Logger) throws -> any AWSCredentialProvider {
        let stsRegion = access.regions.first ?? "us-east-1"
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
        throw ECRTokenSourceError(description: "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE")
    }
}
