"""Measures a Lambda bootstrap's init time: from process start to its first request for work from the Runtime
API (a loopback stand-in here), median of 10 runs. Usage: measure_init.py BOOTSTRAP [RUNS]

The bootstrap must run on this machine's architecture (build an x86_64 release for an x86_64 machine)."""
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

bootstrap, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
first_poll = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.endswith("/invocation/next"):
            first_poll.set()
            threading.Event().wait(30)  # hold the long poll; the process is killed meanwhile

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
env = {
    "PATH": os.environ.get("PATH", ""),
    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
    "AWS_LAMBDA_FUNCTION_NAME": "measure",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "measure",
    "AWS_SECRET_ACCESS_KEY": "measure",
}
times = []
for _ in range(runs):
    first_poll.clear()
    start = time.perf_counter()
    process = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not first_poll.wait(30):
        process.kill()
        sys.exit(f"{bootstrap} never asked for work")
    times.append((time.perf_counter() - start) * 1000)
    process.kill()
    process.wait()
name = os.path.basename(bootstrap)
if name == "bootstrap":  # target/lambda/<function>/bootstrap
    name = os.path.basename(os.path.dirname(os.path.abspath(bootstrap)))
print(f"{name}: init median {statistics.median(times):.1f} ms "
      f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)")
