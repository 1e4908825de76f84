"""The organization benchmark: `ecr-warden apply --organization` over 10 accounts x 2 regions x 100 drifted
repositories, against `ecr-warden apply` over the same 2,000 repositories in one account and region; each call
answered after a fixed delay (20 ms by default) by a proxy in front of one moto server. Wall time, calls, and the
second run (everything compliant). Prints a table and writes JSON.

Usage: bench_organization.py ECR_WARDEN [--accounts 10] [--regions us-east-1,eu-west-1] [--per-registry 100]
                             [--delay-ms 20] [--out FILE]

Each account and region of AWS has its own ECR request rates; here one moto process answers every account, so
what carries over is the calls and the work side by side, not moto's ceiling (about 350 calls a second here)."""
import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BASELINE, Moto, create_drifted, free_port, run  # noqa: E402


class Delay(BaseHTTPRequestHandler):
    """Forwards each request to moto after `delay` seconds: a registry that answers each call in that time."""

    protocol_version = "HTTP/1.1"
    # The answer goes out in two writes (headers, then body): with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the headers, about 40 ms more a call on this machine (measured before 2026-12-01).
    disable_nagle_algorithm = True
    upstream = ("127.0.0.1", 0)
    delay = 0.02
    local = threading.local()

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.delay)  # the latency being simulated, not synchronisation
        self.relay(body)

    def relay(self, body):
        """Sends the request (with `body`) to moto and its answer back."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
        except (http.client.HTTPException, OSError):
            connection = self.local.connection = http.client.HTTPConnection(*self.upstream, timeout=60)
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    def log_message(self, *args):
        pass


def start_proxy(moto, delay_ms):
    Delay.upstream = ("127.0.0.1", moto.port)
    Delay.delay = delay_ms / 1000
    # Up to 64 connections open at once (8 registries x 8 repositories): a backlog of 5, the default, would drop
    # connections and time the client's reconnects instead of the calls.
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Delay)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def client(moto, service, region, credentials=None):
    keys = credentials or {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    return boto3.client(service, endpoint_url=moto.endpoint, region_name=region, **keys)


def seed(moto, credentials, region, prefix, count):
    create_drifted(client(moto, "ecr", region, credentials), [f"{prefix}/service-{index:04d}" for index in range(count)])


def member_credentials(moto, account):
    sts = client(moto, "sts", "us-east-1")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def through(moto, proxy_endpoint):
    """`moto` as the commands see it: through the delaying proxy."""
    class Seen:
        endpoint = proxy_endpoint
        forget = moto.forget
        operations = moto.operations
    return Seen()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ecr_warden")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--regions", default="us-east-1,eu-west-1")
    parser.add_argument("--per-registry", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--out", default="bench-organization.json")
    args = parser.parse_args()
    regions = args.regions.split(",")
    total = args.accounts * len(regions) * args.per_registry
    results = {"accounts": args.accounts, "regions": regions, "per_registry": args.per_registry,
               "delay_ms": args.delay_ms, "repositories": total}
    with tempfile.TemporaryDirectory() as workdir:
        baseline = Path(workdir) / "baseline.toml"
        baseline.write_text(BASELINE)
        moto = Moto(workdir)
        proxy, endpoint = start_proxy(moto, args.delay_ms)
        seen = through(moto, endpoint)
        try:
            organizations = client(moto, "organizations", "us-east-1")
            organizations.create_organization(FeatureSet="ALL")
            accounts = ["123456789012"]
            for n in range(args.accounts - 1):
                created = organizations.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")
                accounts.append(created["CreateAccountStatus"]["AccountId"])
            for account in accounts:
                credentials = None if account == "123456789012" else member_credentials(moto, account)
                for region in regions:
                    seed(moto, credentials, region, f"team-{account[-4:]}", args.per_registry)
            command = [args.ecr_warden, "apply", "--organization", "--regions", args.regions,
                       "--baseline", str(baseline), "--output", "json"]
            results["organization_drifted"] = run(seen, command)
            results["organization_compliant"] = run(seen, command)

            moto.reset()
            seed(moto, None, "us-east-1", "team", total)
            command = [args.ecr_warden, "apply", "--baseline", str(baseline), "--output", "json"]
            results["one_registry_drifted"] = run(seen, command)
            results["one_registry_compliant"] = run(seen, command)
        finally:
            proxy.shutdown()
            moto.stop()
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"{total} repositories, {args.delay_ms:g} ms a call")
    print(f"{'run':<32} {'wall s':>8} {'calls':>8} {'calls/s':>8} {'exit':>5}")
    for key in ["organization_drifted", "organization_compliant", "one_registry_drifted", "one_registry_compliant"]:
        r = results[key]
        print(f"{key:<32} {r['seconds']:>8.1f} {r['calls']:>8} {r['calls'] / r['seconds']:>8.0f} {r['exit']:>5}")
        if r["stderr"]:
            print(r["stderr"])


if __name__ == "__main__":
    main()
