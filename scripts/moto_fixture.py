"""Create the IAM fixture the tests use in a fresh moto_server, while its signature checking is still off.

Writes a JSON file with the keys and ARNs, e.g.
{"endpoint": ..., "region": "us-east-1", "account": "123456789012",
 "allowed": {"accessKeyId": ..., "secretAccessKey": ...},     # may call ecr:GetAuthorizationToken and sts:AssumeRole
 "denied":  {"accessKeyId": ..., "secretAccessKey": ...},     # valid keys, no permission at all
 "roleArn": ...}                                              # a role "allowed" may assume, which may call ECR
"""
import json
import sys

import boto3

endpoint, out = sys.argv[1], sys.argv[2]
region = "us-east-1"
session = boto3.session.Session(aws_access_key_id="fixture", aws_secret_access_key="fixture", region_name=region)
iam = session.client("iam", endpoint_url=endpoint)

ECR_AND_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"], "Resource": "*"},
    ],
}
policy_arn = iam.create_policy(PolicyName="ecr-pull", PolicyDocument=json.dumps(ECR_AND_ASSUME))["Policy"]["Arn"]


def user(name, attach):
    iam.create_user(UserName=name)
    if attach:
        iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}


allowed = user("ecr-helper", True)
denied = user("no-permissions", False)
trust = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}
role = iam.create_role(RoleName="ecr-pull-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.attach_role_policy(RoleName="ecr-pull-role", PolicyArn=policy_arn)

with open(out, "w") as f:
    json.dump(
        {
            "endpoint": endpoint,
            "region": region,
            "account": "123456789012",
            "allowed": allowed,
            "denied": denied,
            "roleArn": role["Arn"],
        },
        f,
        indent=1,
    )
