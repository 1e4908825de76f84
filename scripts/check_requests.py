#!/usr/bin/env python3
"""The contract net: every request the test suite sent to moto, checked against the AWS service model of its
operation.

moto accepts requests AWS rejects. botocore (installed with moto) carries the service models AWS's SDKs are
generated from; this reads the request logs the tests leave (moto's recordings, one JSON line a request) and
checks each request's parameters against its operation's input shape: required members, unknown members, types,
enums, string lengths and patterns, list lengths and numeric ranges. Any violation fails, naming the operation,
the member and the rule; the run says how many requests it checked.

    check_requests.py DIR        check every *.jsonl under DIR
    check_requests.py --self-test
"""

import base64
import json
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import botocore.loaders

try:  # AWS patterns are Java regular expressions (\\p{L} and friends): the `regex` module reads them.
    import regex as re_engine
except ImportError:  # pragma: no cover - the venv has it
    import re as re_engine

SERVICES = [
    "ecr", "events", "ssm", "sqs", "securityhub", "sns", "sts", "inspector2", "resourcegroupstaggingapi", "kms", "iam",
    "organizations", "ecs", "lambda", "cloudtrail", "cloudformation",
]


class Model:
    """One service's model: its shapes and operations, and how its requests are told apart."""

    def __init__(self, name, data):
        self.name = name
        self.shapes = data["shapes"]
        self.operations = data["operations"]
        metadata = data["metadata"]
        self.protocol = metadata["protocol"]
        self.target_prefix = metadata.get("targetPrefix")
        self.api_version = metadata.get("apiVersion")
        self.routes = []
        if self.protocol == "rest-json":
            for op_name, op in self.operations.items():
                http = op.get("http", {})
                uri = http.get("requestUri", "/").split("?")[0]
                parts = [p for p in uri.split("/") if p]
                self.routes.append((http.get("method", "POST"), parts, op_name))


def load_models():
    loader = botocore.loaders.create_loader()
    return [Model(name, loader.load_service_model(name, "service-2")) for name in SERVICES]


def request_of(entry, models):
    """(model, operation, parameters, protocol) of a recorded request, or None when no model covers it."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    target = headers.get("x-amz-target")
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        for model in models:
            if model.target_prefix == prefix and operation in model.operations:
                return model, operation, json.loads(body or "{}"), "json"
        return None
    if "Action=" in body:
        params = dict(parse_qsl(body, keep_blank_values=True))
        for model in models:
            if model.protocol == "query" and model.api_version == params.get("Version"):
                operation = params.get("Action")
                if operation in model.operations:
                    return model, operation, params, "query"
        return None
    path = [p for p in urlsplit(entry.get("url", "")).path.split("/") if p]
    method = entry.get("method", "")
    for model in models:
        for route_method, parts, operation in model.routes:
            if route_method == method and len(parts) == len(path) and all(
                p.startswith("{") or p == q for p, q in zip(parts, path)
            ):
                return model, operation, json.loads(body or "{}") if body.strip() else {}, "rest-json"
    return None


def check(model, shape_name, value, where, problems):
    """Appends to `problems` every way `value` breaks shape `shape_name` of `model`."""
    shape = model.shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{where}: a structure, not {type(value).__name__}")
            return
        members = shape.get("members", {})
        for name in shape.get("required", []):
            if name not in value and members.get(name, {}).get("location") is None:
                problems.append(f"{where}.{name}: required, missing")
        for name, member_value in value.items():
            member = members.get(name)
            if member is None:
                problems.append(f"{where}.{name}: not a member of {shape_name}")
            elif member.get("location") is None:
                check(model, member["shape"], member_value, f"{where}.{name}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: a list, not {type(value).__name__}")
            return
        bounds(len(value), shape, where, "items", problems)
        for index, item in enumerate(value):
            check(model, shape["member"]["shape"], item, f"{where}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: a map, not {type(value).__name__}")
            return
        bounds(len(value), shape, where, "entries", problems)
        for key, item in value.items():
            check(model, shape["key"]["shape"], key, f"{where} key", problems)
            check(model, shape["value"]["shape"], item, f"{where}[{key}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{where}: a string, not {type(value).__name__}")
            return
        bounds(len(value), shape, where, "characters", problems)
        if "enum" in shape and value not in shape["enum"]:
            problems.append(f"{where}: `{value[:80]}` is not one of {shape['enum']}")
        pattern = shape.get("pattern")
        if pattern and re_engine.fullmatch(pattern, value) is None:
            problems.append(f"{where}: `{value[:80]}` doesn't match the pattern {pattern}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: a whole number, not {type(value).__name__}")
            return
        bounds(value, shape, where, "", problems)
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: a number, not {type(value).__name__}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: true or false, not {type(value).__name__}")
    elif kind == "timestamp":
        if not isinstance(value, (int, float, str)):
            problems.append(f"{where}: a timestamp, not {type(value).__name__}")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{where}: base64 text, not {type(value).__name__}")


def bounds(size, shape, where, unit, problems):
    low, high = shape.get("min"), shape.get("max")
    unit = f" {unit}" if unit else ""
    if low is not None and size < low:
        problems.append(f"{where}: {size}{unit}, the least is {low}")
    if high is not None and size > high:
        problems.append(f"{where}: {size}{unit}, the most is {high}")


def check_query(model, shape_name, params, problems):
    """A query-protocol request: its top-level members (nested lists and maps arrive flattened)."""
    shape = model.shapes[shape_name]
    members = shape.get("members", {})
    for name in shape.get("required", []):
        if name not in params and not any(key.startswith(f"{name}.") for key in params):
            problems.append(f"{name}: required, missing")
    for name, member in members.items():
        if name in params and model.shapes[member["shape"]]["type"] == "string":
            check(model, member["shape"], params[name], name, problems)


def check_entry(entry, models):
    """(operation name, problems), or None when the request isn't one the models cover (moto's own API)."""
    found = request_of(entry, models)
    if found is None:
        return None
    model, operation, params, protocol = found
    input_shape = model.operations[operation].get("input", {}).get("shape")
    problems = []
    if input_shape:
        if protocol == "query":
            check_query(model, input_shape, params, problems)
        else:
            check(model, input_shape, params, operation, problems)
    return f"{model.name}:{operation}", problems


def run(folder):
    models = load_models()
    checked, skipped, failures = {}, 0, []
    for log in sorted(Path(folder).rglob("*.jsonl")):
        for line in log.read_text().splitlines():
            if not line.strip():
                continue
            result = check_entry(json.loads(line), models)
            if result is None:
                skipped += 1
                continue
            operation, problems = result
            checked[operation] = checked.get(operation, 0) + 1
            failures.extend(f"{operation} ({log.name}): {p}" for p in problems)
    total = sum(checked.values())
    print(f"contract check: {total} requests of {len(checked)} operations checked against the AWS service "
          f"models, {skipped} not covered (moto's own API), {len(failures)} violations")
    for failure in sorted(set(failures))[:50]:
        print(f"  {failure}")
    if total == 0:
        print("no request was checked: is ECR_WARDEN_REQUEST_LOG set for the tests?")
        return 1
    return 1 if failures else 0


def self_test():
    """The checker itself: a request AWS would refuse is caught, one it accepts isn't."""
    models = load_models()

    def entry(target, body):
        return {"headers": {"X-Amz-Target": target}, "method": "POST", "url": "/", "body": json.dumps(body)}

    ecr = "AmazonEC2ContainerRegistry_V20150921"
    good = entry(f"{ecr}.SetRepositoryPolicy", {"repositoryName": "team-a/api", "policyText": "{}"})
    assert check_entry(good, models)[1] == [], check_entry(good, models)
    cases = [
        (entry(f"{ecr}.SetRepositoryPolicy", {"repositoryName": "Team/App", "policyText": "{}"}), "pattern"),
        (entry(f"{ecr}.SetRepositoryPolicy", {"repositoryName": "app", "policyText": "x" * 10241}), "the most is"),
        (entry(f"{ecr}.SetRepositoryPolicy", {"repositoryName": "app"}), "policyText: required"),
        (entry(f"{ecr}.PutImageTagMutability", {"repositoryName": "app", "imageTagMutability": "LOCKED"}), "not one of"),
        (entry(f"{ecr}.DescribeRepositories", {"maxResults": 5000}), "the most is"),
        (entry(f"{ecr}.TagResource", {"resourceArn": "a", "tags": [{"Key": "k"}], "x": 1}), "not a member"),
        (entry("AWSEvents.PutEvents", {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 11}), "the most is 10"),
    ]
    for case, expected in cases:
        problems = check_entry(case, models)[1]
        assert any(expected in p for p in problems), (case, expected, problems)
    query = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "method": "POST", "url": "/",
             "body": "Action=Publish&Version=2010-03-31&Message=hello"}
    assert check_entry(query, models) == ("sns:Publish", []), check_entry(query, models)
    rest = {"headers": {}, "method": "POST", "url": "/findings/import", "body": json.dumps({"Findings": []})}
    assert check_entry(rest, models)[0] == "securityhub:BatchImportFindings"
    print(f"contract check self-test: {len(cases) + 3} cases pass")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(run(sys.argv[1]))
