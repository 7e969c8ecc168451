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

    /// True when the settings name any credentials (keys, or a web identity token file).
    var hasCredentials: Bool { accessKeyID != nil || webIdentityTokenFile != nil }

    /// Appends a line to `problems` for each mistake. `requireCredentials` is false in node mode, where the
    /// AWS shared files may provide the credentials instead.
    static func parse(_ values: SettingValues, requireCredentials: Bool, problems: inout [String]) -> AWSIdentity {
        typealias K = HelperSettings.Key
        let accessKeyID = values.string(K.accessKeyID)
        let secretKey = values.string(K.secretAccessKey)
        let webIdentity = values.string(K.webIdentityTokenFile)
        let roleARN = values.string(K.roleARN)
        switch (accessKeyID, secretKey) {
        case (nil, nil):
            if webIdentity == nil && requireCredentials {
                problems.append("no AWS credentials: provide AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (files in the AWS config folder, default /config-aws, or environment variables), or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE")
            }
        case (nil, _?):
            problems.append("\(K.accessKeyID) is missing while \(K.secretAccessKey) is set (\(values.origin(K.secretAccessKey))): add the access key id that belongs to the secret key")
        case (let id?, nil):
            problems.append("\(K.secretAccessKey) is missing for access key \(redactedKeyID(id)): add it next to \(K.accessKeyID) (\(values.origin(K.accessKeyID)))")
        case (let id?, _?):
            if !isPlausibleAccessKeyID(id) {
                problems.append("\(K.accessKeyID) (\(values.origin(K.accessKeyID))) does not look like an AWS access key id (16-128 letters and digits, e.g. AKIA...): check that the file holds the key id itself")
            }
        }
        if webIdentity != nil && roleARN == nil {
            problems.append("\(K.webIdentityTokenFile) is set but \(K.roleARN) is not: set the ARN of the role to assume with the web identity token")
        }
        if let roleARN, !roleARN.hasPrefix("arn:") {
            problems.append("\(K.roleARN) (\(values.origin(K.roleARN))): \"\(printable(roleARN))\" is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
        return AWSIdentity(
            accessKeyID: accessKeyID,
            secretAccessKey: secretKey.map(Sensitive.init),
            sessionToken: values.string(K.sessionToken).map(Sensitive.init),
            roleARN: roleARN,
            externalID: values.string(K.externalID),
            roleSessionName: values.string(K.roleSessionName),
            webIdentityTokenFile: webIdentity
        )
    }
}
