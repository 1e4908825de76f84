#!/usr/bin/env bash
# The ecr-warden demo: a local ECR (moto), `doctor` finding the missing trail, a drifted registry, `plan`,
# `apply`, a change made by hand replayed as a CloudTrail event, and the registry back at the baseline. Run it
# with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
ECR_WARDEN=${ECR_WARDEN:?set ECR_WARDEN to the ecr-warden binary (make demo does)}
work=$(mktemp -d)
port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
  grep -q "Running on" "$work/moto.log" && break
  kill -0 $moto_pid 2>/dev/null || { cat "$work/moto.log"; exit 1; }
  sleep 0.1
done
grep -q "Running on" "$work/moto.log" || { echo "moto did not start"; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
       AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_MAX_ATTEMPTS=2
unset AWS_PROFILE ECR_WARDEN_BASELINE ECR_WARDEN_MODE

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; set +e; "$@"; code=$?; set -e; printf '(exit %s)\n' "$code"; }

step "A local ECR with a drifted registry (moto on port $port)"
"$VENV/bin/python" scripts/seed_demo.py

step "doctor: what the deployment silently depends on (exit 1: this fresh account has no CloudTrail trail)"
run "$ECR_WARDEN" doctor

step "A multi-region trail, logging (what CreateTrail=true makes); doctor again (exit 3: no alert sink named yet)"
"$VENV/bin/python" - <<'PY'
import boto3
boto3.client("s3").create_bucket(Bucket="demo-trail-logs")
trail = boto3.client("cloudtrail")
trail.create_trail(Name="demo-trail", S3BucketName="demo-trail-logs", IsMultiRegionTrail=True, EnableLogFileValidation=True)
trail.start_logging(Name="demo-trail")
PY
run "$ECR_WARDEN" doctor

step "The built-in baseline (used because no --baseline is given)"
"$ECR_WARDEN" baseline default | grep -v '^#' | grep -v '^$'

step "plan: what holds, what drifts, what would change (exit 2: changes pending)"
run "$ECR_WARDEN" plan

step "apply: fix what can be fixed, report what can't (exit 3: encryption can only be reported)"
run "$ECR_WARDEN" apply

step "Someone makes team-a/api mutable again by hand"
"$VENV/bin/python" -c 'import boto3; boto3.client("ecr").put_image_tag_mutability(repositoryName="team-a/api", imageTagMutability="MUTABLE")'
"$VENV/bin/python" - "$work/event.json" <<'PY'
import json, os, sys
event = json.load(open("tests/fixtures/events/cloudtrail-create-repository.json"))
event["region"] = os.environ["AWS_REGION"]  # an event for another registry would be ignored
event["detail"]["eventName"] = "PutImageTagMutability"
event["detail"]["requestParameters"] = {"repositoryName": "team-a/api", "imageTagMutability": "MUTABLE"}
json.dump(event, open(sys.argv[1], "w"))
PY

step "handle: the CloudTrail event for that call, through the code the Lambda function runs"
run "$ECR_WARDEN" handle --event "$work/event.json"

step "plan again: only the unfixable findings remain (exit 3)"
run "$ECR_WARDEN" plan

step "An alert topic with a queue subscribed, and an image pushed to a new repository, team-c/web"
topic=$("$VENV/bin/python" scripts/demo_alerts.py setup "$work")
echo "topic: $topic"
export ECR_WARDEN_ALERT_TOPIC_ARN=$topic

step "handle the push: the repository is governed and, its scanning being manual when the image arrived, a scan is started"
run "$ECR_WARDEN" handle --event "$work/push.json"

step "The scan completes with findings (set through moto's API); handle the ECR Image Scan event"
"$VENV/bin/python" scripts/demo_alerts.py findings
run "$ECR_WARDEN" handle --event "$work/scan.json"

step "The alert as SNS delivered it to the subscribed queue"
"$VENV/bin/python" scripts/demo_alerts.py show
