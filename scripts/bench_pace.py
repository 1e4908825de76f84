"""The pace benchmark: `ecr-warden apply` over N drifted repositories against a registry that answers each call
after a delay (20 ms by default) and throttles every ECR call above a rate (100 calls a second by default), as
ECR's per-account, per-region quotas do; then `apply` again once everything is compliant. Each pace given runs
on a freshly seeded registry. Wall time, calls answered, calls throttled, the report's pace and failures.

Usage: bench_pace.py ECR_WARDEN [--repositories 1000] [--rate 100] [--delay-ms 20]
                     [--paces fixed:8,adaptive:32] [--out FILE]

The proxy holds a token bucket, as AWS documents the API limits of EC2 and ECS (ECR publishes none): RATE tokens at
most (a second's burst), refilled at RATE a second; each ECR call takes one, and a call that finds the bucket empty
is answered (after the same delay) with HTTP 400 `ThrottlingException`, as ECR answers; the SDK retries those with
back-off (standard mode, 3 attempts). Calls other than ECR's pass unthrottled; `--rate 0` throttles nothing (the
delay alone)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BASELINE, Moto, aws_env, free_port, seed  # noqa: E402
from bench_organization import Delay  # noqa: E402

EXTRA_ENV = dict(item.split("=", 1) for item in os.environ.get("BENCH_ENV", "").split() if "=" in item)
THROTTLED = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


class Quota:
    """A token bucket of `rate` tokens refilled at `rate` a second; counts the calls it accepted and refused."""

    def __init__(self, rate):
        self.rate = rate
        self.tokens = float(rate)
        self.refilled_at = time.monotonic()
        self.lock = threading.Lock()
        self.accepted = self.throttled = 0

    def admit(self):
        with self.lock:
            if self.rate == 0:
                self.accepted += 1
                return True
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.refilled_at) * self.rate)
            self.refilled_at = now
            if self.tokens < 1:
                self.throttled += 1
                return False
            self.tokens -= 1
            self.accepted += 1
            return True

    def take(self):
        with self.lock:
            counts = {"accepted": self.accepted, "throttled": self.throttled}
            self.accepted = self.throttled = 0
            return counts


class Throttling(Delay):
    """The delaying proxy, with a quota: a call the quota refuses is answered (after the same delay) with ECR's
    throttling error instead of going to moto."""

    quota = Quota(100)

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        admitted = not target.startswith("AmazonEC2ContainerRegistry") or self.quota.admit()
        time.sleep(self.delay)  # the latency being simulated, not synchronisation
        if admitted:
            self.relay(body)
            return
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-ErrorType", "ThrottlingException")
        self.send_header("Content-Length", str(len(THROTTLED)))
        self.end_headers()
        self.wfile.write(THROTTLED)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward


def start_proxy(moto, delay_ms, rate):
    Throttling.upstream = ("127.0.0.1", moto.port)
    Throttling.delay = delay_ms / 1000
    Throttling.quota = Quota(rate)
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Throttling)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def failed(repository):
    """Whether a repository's report says it, or one of its controls, failed."""
    return repository["outcome"] == "error" or any(c["status"] == "error" for c in repository["controls"])


def run(endpoint, command):
    """Runs `command` against the proxy: wall time, exit code, calls accepted and throttled, the report's pace
    and how many repositories failed."""
    Throttling.quota.take()
    env = dict(aws_env(type("Seen", (), {"endpoint": endpoint})), AWS_MAX_ATTEMPTS="3")
    env.update(EXTRA_ENV)
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    counts = Throttling.quota.take()
    result = {"seconds": round(seconds, 1), "exit": process.returncode, **counts}
    try:
        report = json.loads(process.stdout)
        result["pace"] = report.get("pace")
        result["failed"] = sum(1 for repository in report["repositories"] if failed(repository))
    except (ValueError, KeyError):
        result["stderr"] = process.stderr.decode(errors="replace")[-500:]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ecr_warden")
    parser.add_argument("--repositories", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--paces", default="fixed:8,adaptive:32")
    parser.add_argument("--out", default="bench-pace.json")
    args = parser.parse_args()
    paces = [pace.split(":") for pace in args.paces.split(",")]
    results = {"repositories": args.repositories, "rate": args.rate, "delay_ms": args.delay_ms, "runs": []}
    with tempfile.TemporaryDirectory() as workdir:
        baseline = Path(workdir) / "baseline.toml"
        baseline.write_text(BASELINE)
        moto = Moto(workdir)
        proxy, endpoint = start_proxy(moto, args.delay_ms, args.rate)
        try:
            for mode, concurrency in paces:
                moto.reset()
                seed(moto, args.repositories)
                command = [args.ecr_warden, "apply", "--baseline", str(baseline), "--output", "json",
                           "--pace", mode, "--concurrency", concurrency]
                for state in ["drifted", "compliant"]:
                    result = {"run": f"{mode} {concurrency}", "state": state, **run(endpoint, command)}
                    results["runs"].append(result)
                    print(json.dumps(result), flush=True)
        finally:
            proxy.shutdown()
            moto.stop()
    Path(args.out).write_text(json.dumps(results, indent=2))
    limit = f"{args.rate} ECR calls a second" if args.rate else "no throttling"
    print(f"\n{args.repositories} repositories, {args.delay_ms:g} ms a call, {limit}")
    print(f"{'pace':<14} {'state':<10} {'wall s':>7} {'accepted':>9} {'throttled':>9} {'failed':>6} "
          f"{'reached':>7} {'ended':>5} {'exit':>4}")
    for r in results["runs"]:
        pace = r.get("pace") or {}
        print(f"{r['run']:<14} {r['state']:<10} {r['seconds']:>7.1f} "
              f"{r['accepted']:>9} {r['throttled']:>9} {r.get('failed', '?'):>6} {pace.get('reached', '?'):>7} "
              f"{pace.get('endedAt', '?'):>5} {r['exit']:>4}")


if __name__ == "__main__":
    main()
