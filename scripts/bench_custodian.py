"""Side by side with Cloud Custodian: the same fixes over N drifted repositories, by `custodian run` (the policy
set docs/migrating.md translates) and by `ecr-warden apply` (its translation, `from-custodian.toml`), each on a
freshly seeded registry that answers every call after a delay (20 ms by default). Wall time and ECR calls of each,
alternating, and the ratio of the medians.

Usage: bench_custodian.py ECR_WARDEN CUSTODIAN [--repositories 200] [--delay-ms 20] [--runs 3] [--out FILE]

CUSTODIAN is the `custodian` command of a Cloud Custodian install (`pip install c7n` in a virtual environment of
its own; it is not part of the test environment). Both tools talk to the same delaying proxy in front of moto
(`AWS_ENDPOINT_URL`), which counts the ECR calls it forwards. The fixes: tags immutable, scan on push (Custodian
per repository, ecr-warden with the registry's scanning rule, its default), and the statement open to everyone
removed while the team's own stays. Afterwards each run's registry is checked: every repository immutable, its
public statement gone, the team's statement kept."""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import Moto, aws_env, seed  # noqa: E402
from bench_pace import Throttling, start_proxy  # noqa: E402

# docs/migrating.md's Custodian set, every policy pulled (the benchmark runs it once, as a scheduled run would).
POLICIES = """\
policies:
  - name: ecr-immutable
    resource: aws.ecr
    actions: [{type: set-immutability, state: true}]
  - name: ecr-scan-on-push
    resource: aws.ecr
    actions: [{type: set-scanning, state: true}]
  - name: ecr-no-public
    resource: aws.ecr
    filters: [{type: cross-account}]
    actions: [{type: remove-statements, statement_ids: matched}]
"""

# docs/migrating.md's translation of that set, with the encryption moto gives new repositories audited.
BASELINE = """\
[defaults.tag_mutability]
mode = "enforce"
target = "IMMUTABLE"

[defaults.scanning]
mode = "enforce"

[defaults.repository_policy]
mode = "enforce"
public_access = "deny"

[defaults.lifecycle_policy]
mode = "audit"

[defaults.tags]
mode = "off"

[defaults.encryption]
mode = "audit"
type = "AES256"
"""


def timed(moto, endpoint, command):
    """Runs `command` against the proxy: wall time, exit code and the ECR calls it made (by operation, from
    moto's request recorder)."""
    Throttling.quota.take()
    moto.forget()
    env = aws_env(type("Seen", (), {"endpoint": endpoint}))
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    calls = Throttling.quota.take()["accepted"]
    result = {"seconds": round(seconds, 2), "exit": process.returncode, "calls": calls, "operations": moto.operations()}
    if process.returncode not in (0, 2, 3):  # 3: drift the baseline only audits (lifecycle)
        result["stderr"] = process.stderr.decode(errors="replace")[-500:]
    return result


def governed(moto, count):
    """Whether every repository ended immutable, without its public statement, with the team's kept."""
    ecr = boto3.client("ecr", endpoint_url=moto.endpoint, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    pages = ecr.get_paginator("describe_repositories").paginate()
    repositories = [r for page in pages for r in page["repositories"]]
    if len(repositories) != count:
        return False
    for repository in repositories:
        name = repository["repositoryName"]
        sids = [s.get("Sid") for s in json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])
                ["Statement"]]
        if repository["imageTagMutability"] != "IMMUTABLE" or sids != ["TeamPull"]:
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ecr_warden")
    parser.add_argument("custodian")
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="bench-custodian.json")
    args = parser.parse_args()
    results = {"repositories": args.repositories, "delay_ms": args.delay_ms, "runs": []}
    with tempfile.TemporaryDirectory() as workdir:
        policies, baseline = Path(workdir) / "policies.yml", Path(workdir) / "baseline.toml"
        policies.write_text(POLICIES)
        baseline.write_text(BASELINE)
        tools = {
            "custodian": [args.custodian, "run", "--cache-period", "0", "--region", "us-east-1",
                          "-s", str(Path(workdir) / "custodian-output"), str(policies)],
            "ecr-warden": [args.ecr_warden, "apply", "--baseline", str(baseline), "--output", "json"],
        }
        moto = Moto(workdir)
        proxy, endpoint = start_proxy(moto, args.delay_ms, 0)
        try:
            for _ in range(args.runs):
                for tool, command in tools.items():
                    moto.reset()
                    seed(moto, args.repositories)
                    result = {"tool": tool, **timed(moto, endpoint, command)}
                    result["governed"] = governed(moto, args.repositories)
                    results["runs"].append(result)
                    print(json.dumps(result), flush=True)
        finally:
            proxy.shutdown()
            moto.stop()
    Path(args.out).write_text(json.dumps(results, indent=2))
    median = {tool: statistics.median(r["seconds"] for r in results["runs"] if r["tool"] == tool) for tool in tools}
    print(f"\n{args.repositories} drifted repositories, {args.delay_ms:g} ms a call")
    for tool in tools:
        runs = [r for r in results["runs"] if r["tool"] == tool]
        print(f"{tool:<11} wall s {', '.join(str(r['seconds']) for r in runs):<22} median {median[tool]:>6.2f}  "
              f"ECR calls {runs[0]['calls']}  governed {all(r['governed'] for r in runs)}")
        print(f"{'':<11} {runs[0]['operations']}")
    print(f"ratio (ecr-warden / custodian, medians): {median['ecr-warden'] / median['custodian']:.3f}")


if __name__ == "__main__":
    main()
