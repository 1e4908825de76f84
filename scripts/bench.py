"""The scale benchmark: `ecr-warden apply` over N drifted repositories in a local ECR (moto), then a second
`apply` when every repository is compliant, and one event of each kind; wall time, API calls by operation
(moto's request recorder), calls per repository and peak memory. Prints a table and writes JSON.

Usage: bench.py ECR_WARDEN [--sizes 100,1000,5000] [--concurrency 8] [--out FILE]

Every repository starts drifted in each control `apply` can fix: mutable tags, no scan on push, no lifecycle
policy, no required tag, a public statement beside a team's own. moto answers from one process on this machine,
so wall times measure ecr-warden against moto's speed, not ECR's; the call counts are what carries over."""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

TEAM = {"Sid": "TeamPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
PUBLIC = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [TEAM, PUBLIC]})
# The built-in baseline, with the encryption moto gives new repositories, so a governed registry is clean.
BASELINE = '[defaults.encryption]\nmode = "audit"\ntype = "AES256"\n'
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "events"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """A moto server with its request recorder on, stopped on exit."""

    def __init__(self, workdir):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording = Path(workdir) / "recording.jsonl"
        moto = Path(sys.executable).parent / "moto_server"
        env = dict(os.environ, MOTO_ENABLE_RECORDING="true", MOTO_RECORDER_FILEPATH=str(self.recording))
        self.process = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(self.port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)  # polling for the server to listen, not synchronising a result
        raise SystemExit("moto did not start listening within 60 s")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")).read()
        self.forget()

    def forget(self):
        self.recording.write_text("")

    def operations(self):
        counts = {}
        for line in self.recording.read_text().splitlines():
            if line.strip():
                target = json.loads(line)["headers"].get("X-Amz-Target", "(no X-Amz-Target)")
                operation = target.rsplit(".", 1)[-1]
                counts[operation] = counts.get(operation, 0) + 1
        return dict(sorted(counts.items()))

    def stop(self):
        self.process.terminate()
        self.process.wait()


def aws_env(moto):
    return dict(os.environ, AWS_ENDPOINT_URL=moto.endpoint, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", RUST_LOG="warn")


def seed(moto, count):
    ecr = boto3.client("ecr", endpoint_url=moto.endpoint, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    create_drifted(ecr, [f"team-{index % 20:02d}/service-{index:05d}" for index in range(count)])


def create_drifted(ecr, names):
    """Creates each repository drifted in every control `apply` can fix (see the module documentation)."""
    def one(name):
        ecr.create_repository(repositoryName=name)
        ecr.set_repository_policy(repositoryName=name, policyText=POLICY)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, names))


def run(moto, command):
    """Runs a command against moto; its wall time, its own CPU time and peak resident memory, exit code and the
    calls it made.

    CPU and memory come from GNU time (`/usr/bin/time`), which forks the command from its own small process: the
    `ru_maxrss` this Python process could read of a child it forked carries this process's resident size from
    before the child's `exec`, so it is not the command's own peak.
    """
    moto.forget()
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", timing.name, *command]
        started = time.perf_counter()
        process = subprocess.run(timed, env=aws_env(moto), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
        peak_kb, user, system = timing.read().split()[-3:]
    stderr = process.stderr.decode(errors="replace")
    code = process.returncode
    operations = moto.operations()
    return {"seconds": round(seconds, 3), "cpu_seconds": round(float(user) + float(system), 3),
            "peak_rss_mb": round(int(peak_kb) / 1024, 1), "exit": code,
            "calls": sum(operations.values()), "operations": operations, "stderr": stderr[-500:] if code > 3 else ""}


def per_repository(result, count):
    return round(result["calls"] / count, 2)


def events(moto, warden, baseline, workdir):
    """One event of each kind against a governed registry; calls and process wall time (start-up included)."""
    ecr = boto3.client("ecr", endpoint_url=moto.endpoint, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    ecr.create_repository(repositoryName="bench/new")
    create = json.loads((FIXTURES / "cloudtrail-create-repository.json").read_text())
    create["region"] = "us-east-1"
    create["detail"]["requestParameters"] = {"repositoryName": "bench/new"}
    push = json.loads((FIXTURES / "ecr-image-push.json").read_text())
    push["region"] = "us-east-1"
    push["detail"]["repository-name"] = "bench/new"
    scan = json.loads((FIXTURES / "ecr-image-scan-complete.json").read_text())
    scan["region"] = "us-east-1"
    scan["detail"]["repository-name"] = "bench/new"
    cases = [("CreateRepository (drifted new repository)", create),
             ("CreateRepository again (compliant: duplicate delivery)", create),
             ("ECR Image Action PUSH (compliant repository)", push),
             ("ECR Image Scan COMPLETE (no findings to read)", scan)]
    results = []
    for name, event in cases:
        path = Path(workdir) / "event.json"
        path.write_text(json.dumps(event))
        result = run(moto, [warden, "handle", "--event", str(path), "--baseline", baseline])
        results.append({"event": name, **result})
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ecr_warden")
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", default="bench-results.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not Path("/usr/bin/time").exists():
        sys.exit("GNU time is needed to measure ecr-warden's own CPU time and memory (Debian: apt install time)")

    with tempfile.TemporaryDirectory() as workdir:
        baseline = Path(workdir) / "baseline.toml"
        baseline.write_text(BASELINE)
        moto = Moto(workdir)
        try:
            report = {"concurrency": args.concurrency, "runs": [], "events": []}
            apply = [args.ecr_warden, "apply", "--baseline", str(baseline), "--output", "json",
                     "--concurrency", str(args.concurrency)]
            for count in sizes:
                moto.reset()
                started = time.perf_counter()
                seed(moto, count)
                print(f"N={count}: seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
                first = run(moto, apply)
                second = run(moto, apply)
                report["runs"].append({"repositories": count, "drifted": first, "compliant": second})
                print(f"N={count}: drifted apply {first['seconds']} s, compliant apply {second['seconds']} s",
                      file=sys.stderr)
            report["events"] = events(moto, args.ecr_warden, str(baseline), workdir)
        finally:
            moto.stop()

    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print("| N | run | exit | wall s | ecr-warden CPU s | calls | calls/repo | repos/s | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for entry in report["runs"]:
        count = entry["repositories"]
        for kind in ("drifted", "compliant"):
            r = entry[kind]
            print(f"| {count} | {kind} | {r['exit']} | {r['seconds']} | {r['cpu_seconds']} | {r['calls']} | "
                  f"{per_repository(r, count)} | {round(count / r['seconds'], 1)} | {r['peak_rss_mb']} |")
    print()
    print("| event | exit | wall s | calls | operations |")
    print("|---|---|---|---|---|")
    for e in report["events"]:
        ops = ", ".join(f"{k} {v}" for k, v in e["operations"].items())
        print(f"| {e['event']} | {e['exit']} | {e['seconds']} | {e['calls']} | {ops} |")
    print()
    for entry in report["runs"]:
        print(f"N={entry['repositories']} compliant: {entry['compliant']['operations']}")
    print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
