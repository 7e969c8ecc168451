/// The AWS identity settings shared by the controller and node mode: static keys, or a role with a web
/// identity token file, and AssumeRole options. One parser so both report the same problems in the same words.
struct AWSIdentity {
    var accessKeyID: String?
    var secretAccessKey: Sensitive?
    var sessionToken: Sensitive?
    var roleARN: String?
    var externalID: String?
    var roleSessionName: String?
    var webIdentityTokenFile: String?
    var rolesAnywhere: RolesAnywhereAccess?

    /// True when the settings name any credentials (keys, a web identity token file, or a Roles Anywhere certificate).
    var hasCredentials: Bool { accessKeyID != nil || webIdentityTokenFile != nil || rolesAnywhere != nil }

    /// Reads the identity, leaving a problem in `reader` for each mistake. `requireCredentials` is false in node
    /// mode, where the AWS shared files may provide the credentials instead.
    static func read(_ reader: inout SettingsReader, requireCredentials: Bool) -> AWSIdentity {
        let accessKeyID = reader.string(.accessKeyID)
        let secretKey = reader.string(.secretAccessKey)
        let sessionToken = reader.string(.sessionToken)
        let webIdentity = reader.string(.webIdentityTokenFile)
        let roleARN = reader.string(.roleARN)
        let certificate = reader.string(.rolesAnywhereCertificate)
        switch (accessKeyID, secretKey) {
        case (nil, nil):
            if webIdentity == nil && certificate == nil && requireCredentials {
                let folder = reader.values.filePaths[Setting.accessKeyID.key].map { " (files in \(FilePaths.directory(of: $0)))" } ?? ""
                reader.missing(.accessKeyID, "no AWS credentials: provide AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\(folder) or environment variables of those names, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or AWS_ROLE_ARN with an IAM Roles Anywhere certificate (AWS_ROLES_ANYWHERE_CERTIFICATE, AWS_ROLES_ANYWHERE_PRIVATE_KEY, AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN, AWS_ROLES_ANYWHERE_PROFILE_ARN)")
            }
        case (nil, _?):
            reader.missing(.accessKeyID, "AWS_ACCESS_KEY_ID is missing while AWS_SECRET_ACCESS_KEY is set (\(reader.origin(.secretAccessKey))): add the access key id that belongs to the secret key, in \(reader.values.placesFor(.accessKeyID))")
        case (let id?, nil):
            reader.missing(.secretAccessKey, "AWS_SECRET_ACCESS_KEY is missing for access key \(redactedKeyID(id)) (\(reader.origin(.accessKeyID))): add it in \(reader.values.placesFor(.secretAccessKey))")
        case (let id?, _?):
            if let problem = AWSAccess.keyValueProblem(id) {
                reader.invalid(.accessKeyID, problem)
            } else if !isPlausibleAccessKeyID(id) {
                reader.invalid(.accessKeyID, "does not look like an AWS access key id (16-128 letters and digits, e.g. AKIA...): check that it holds the key id itself")
            }
        }
        // Quotes or stray characters pasted with a key make AWS answer with a confusing error: say so here,
        // with every other problem and the file or variable to fix.
        for (setting, value) in [(Setting.secretAccessKey, secretKey), (.sessionToken, sessionToken)] {
            if let value, let problem = AWSAccess.keyValueProblem(value) { reader.invalid(setting, problem) }
        }
        if webIdentity != nil && roleARN == nil {
            reader.missing(.roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE is set (\(reader.origin(.webIdentityTokenFile))) but AWS_ROLE_ARN is not: set the ARN of the role to assume with the web identity token")
        }
        if let roleARN, !roleARN.hasPrefix("arn:") {
            reader.invalid(.roleARN, "\"\(printable(roleARN))\" is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
        let rolesAnywhere = RolesAnywhereAccess.read(
            &reader, roleARN: roleARN, otherCredentials: accessKeyID != nil ? .accessKeyID : webIdentity != nil ? .webIdentityTokenFile : nil)
        return AWSIdentity(
            accessKeyID: accessKeyID,
            secretAccessKey: secretKey.map(Sensitive.init),
            sessionToken: sessionToken.map(Sensitive.init),
            roleARN: roleARN,
            externalID: reader.string(.externalID),
            roleSessionName: reader.string(.roleSessionName),
            webIdentityTokenFile: webIdentity,
            rolesAnywhere: rolesAnywhere
        )
    }
}
