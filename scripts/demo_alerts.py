"""The alert part of the demo, against the same local ECR (moto):

  demo_alerts.py setup DIR     an SNS topic with an SQS queue subscribed; a new repository team-c/web
                               (scanned manually) with an image pushed to it;
                               DIR/push.json and DIR/scan.json (the fixture events for that image);
                               prints the topic ARN
  demo_alerts.py findings      sets the image's scan findings through moto's API
  demo_alerts.py show          prints every alert that reached the queue, as SNS delivered it
"""
import json
import os
import sys
import urllib.request

import boto3

REPOSITORY = "team-c/web"
QUEUE = "demo-alerts"
ecr, sns, sqs = boto3.client("ecr"), boto3.client("sns"), boto3.client("sqs")


def image_digest():
    images = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    return images[0]["imageDigest"]


def setup(folder):
    topic = sns.create_topic(Name="ecr-warden-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ecr.create_repository(repositoryName=REPOSITORY)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                           "digest": "sha256:" + "1" * 64}, "layers": []}
    digest = ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest),
                           imageTag="v1.4.2")["image"]["imageId"]["imageDigest"]
    for name, edit in [("push", {"image-tag": "v1.4.2"}), ("scan", {"image-tags": ["v1.4.2"]})]:
        fixture = "ecr-image-push.json" if name == "push" else "ecr-image-scan-complete.json"
        event = json.load(open(f"tests/fixtures/events/{fixture}"))
        event["region"] = os.environ["AWS_REGION"]
        event["detail"].update({"repository-name": REPOSITORY, "image-digest": digest, **edit})
        json.dump(event, open(os.path.join(folder, f"{name}.json"), "w"))
    print(topic)


def findings():
    def finding(cve, severity, package, version, score):
        return {"name": cve, "severity": severity, "uri": f"https://nvd.nist.gov/vuln/detail/{cve}",
                "attributes": [{"key": "package_name", "value": package}, {"key": "package_version", "value": version},
                               {"key": "CVSS3_SCORE", "value": score}]}
    result = {"registryId": "123456789012", "repositoryName": REPOSITORY, "imageId": {"imageDigest": image_digest()},
              "imageScanStatus": {"status": "COMPLETE"},
              "imageScanFindings": {"findings": [
                  finding("CVE-2024-6387", "CRITICAL", "openssh", "8.9p1", "8.1"),
                  finding("CVE-2023-4911", "HIGH", "glibc", "2.35", "7.8"),
                  finding("CVE-2023-5678", "MEDIUM", "openssl", "3.0.2", "5.3")],
                  "findingSeverityCounts": {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1}}}
    body = json.dumps({"results": [result], "region": os.environ["AWS_REGION"]}).encode()
    request = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/static/ecr/scan-finding-results",
                                     data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def show():
    queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        delivered = json.loads(message["Body"])
        attributes = {k: v["Value"] for k, v in delivered.get("MessageAttributes", {}).items()}
        print(f"Subject: {delivered['Subject']}\nAttributes: {json.dumps(attributes)}\n\n{delivered['Message']}")
    print(f"({len(messages)} message(s) in the queue subscribed to the topic)")


if __name__ == "__main__":
    command = sys.argv[1]
    {"setup": lambda: setup(sys.argv[2]), "findings": findings, "show": show}[command]()
