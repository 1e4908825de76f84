"""Seeds a local ECR (moto) with a registry that drifts from the baseline in every way ecr-warden knows."""
import json

import boto3

ecr = boto3.client("ecr")

PUBLIC = {"Sid": "AnyoneCanPull", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}
TEAM = {"Sid": "TeamBPush", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
        "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]}

# Mutable, not scanned, no lifecycle policy, pulled by anyone, untagged.
ecr.create_repository(repositoryName="team-a/api")
ecr.set_repository_policy(repositoryName="team-a/api",
                          policyText=json.dumps({"Version": "2012-10-17", "Statement": [TEAM, PUBLIC]}))
# KMS-encrypted and scanned, but mutable and without the required tag.
ecr.create_repository(repositoryName="team-b/worker", encryptionConfiguration={"encryptionType": "KMS"},
                      imageScanningConfiguration={"scanOnPush": True},
                      tags=[{"Key": "owner", "Value": "team-b"}])
# Already compliant but for its tag.
ecr.create_repository(repositoryName="prod/payments", imageTagMutability="IMMUTABLE",
                      encryptionConfiguration={"encryptionType": "KMS"},
                      imageScanningConfiguration={"scanOnPush": True})
# Exempt by tag: reported, never changed.
ecr.create_repository(repositoryName="legacy/public-mirror", tags=[{"Key": "ecr-warden:exempt", "Value": "true"}])
print("seeded 4 repositories: team-a/api, team-b/worker, prod/payments, legacy/public-mirror")
