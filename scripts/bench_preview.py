#!/usr/bin/env python3
"""The lifecycle preview as users run it: `ecr-warden lifecycle preview --policy P --images describe-images.json
--output json`, measured as a whole process (start-up, reading and parsing the file, the preview, writing the
JSON), for 10,000, 100,000 and 1,000,000 images and ten rules of every kind.

Each size runs RUNS times under GNU time (`/usr/bin/time -f '%e %M'`): wall seconds and the process's own peak
resident memory (`ru_maxrss` of a child GNU time forked, so nothing of this Python process is counted). The median
wall time and the largest peak are printed, as a Markdown table, and written to bench-preview.json.

    bench_preview.py BINARY [--sizes 10000,100000,1000000] [--runs 7]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

DAY = timedelta(days=1)
NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)
KINDS = ["prod", "release", "v1.2", "v3-rc", "app-snapshot-", "beta", "feature-x", "pr-", "dev", ""]


def policy():
    """The ten rules of the engine's benchmark (shared/core/benches/lifecycle_preview.rs)."""
    def tagged(priority, key, values, count):
        return {"rulePriority": priority, "selection": {"tagStatus": "tagged", key: values, **count},
                "action": {"type": "expire"}}

    def keep(n):
        return {"countType": "imageCountMoreThan", "countNumber": n}

    def days(kind, n):
        return {"countType": kind, "countUnit": "days", "countNumber": n}

    return {"rules": [
        tagged(1, "tagPrefixList", ["prod"], keep(50)),
        tagged(2, "tagPrefixList", ["release", "v"], keep(100)),
        tagged(3, "tagPatternList", ["v*-rc*"], days("sinceImagePushed", 30)),
        tagged(4, "tagPatternList", ["*-snapshot-*"], days("sinceImagePushed", 7)),
        tagged(5, "tagPrefixList", ["beta"], keep(20)),
        tagged(6, "tagPrefixList", ["feature-"], days("sinceImagePulled", 14)),
        tagged(7, "tagPatternList", ["pr-*"], keep(200)),
        tagged(8, "tagPrefixList", ["dev"], days("sinceImagePushed", 3)),
        {"rulePriority": 9, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                          "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
        {"rulePriority": 10, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                           "countNumber": 5000}, "action": {"type": "expire"}},
    ]}


def describe_images(count, out):
    """`aws ecr describe-images` output for `count` images, written to `out`: an entry a line with the fields a
    preview reads and the image's size (about 220 bytes an image; the AWS CLI's indented output with every field
    is larger, and only the reading takes longer)."""
    state = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    out.write('{"imageDetails": [\n')
    for i in range(count):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        kind = KINDS[state % len(KINDS)]
        tags = ([] if kind == "" else [f"v1.2.{i}", f"release-{i}"] if kind == "v1.2"
                else [f"v3-rc{i}"] if kind == "v3-rc" else [f"{kind}{i}"])
        pushed = NOW - timedelta(milliseconds=(state >> 20) % (400 * 86_400_000))
        detail = {
            "imageDigest": f"sha256:{i:064x}",
            "imageSizeInBytes": 50_000_000 + i,
            "imagePushedAt": pushed.isoformat(timespec="milliseconds"),
        }
        if tags:
            detail["imageTags"] = tags
        if i % 3 == 0:
            pulled = NOW - timedelta(milliseconds=(state >> 8) % (60 * 86_400_000))
            detail["lastRecordedPullTime"] = pulled.isoformat(timespec="milliseconds")
        out.write(json.dumps(detail))
        out.write(",\n" if i + 1 < count else "\n")
    out.write("]}\n")


def measure(binary, policy_file, images_file, runs):
    """(median wall seconds, largest peak MB, output bytes) of `runs` whole-process runs."""
    walls, peaks = [], []
    with tempfile.TemporaryDirectory() as scratch:
        timing, output = Path(scratch) / "time", Path(scratch) / "out.json"
        command = ["/usr/bin/time", "-f", "%e %M", "-o", str(timing), binary, "lifecycle", "preview",
                   "--policy", str(policy_file), "--images", str(images_file), "--output", "json",
                   "--now", NOW.isoformat()]
        for _ in range(runs):
            with output.open("wb") as sink:
                subprocess.run(command, stdout=sink, check=True)
            wall, peak_kb = timing.read_text().split()[-2:]
            walls.append(float(wall))
            peaks.append(int(peak_kb) / 1024)
        return statistics.median(walls), max(peaks), output.stat().st_size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("GNU time is needed (/usr/bin/time; Debian: apt install time)")
    results = []
    with tempfile.TemporaryDirectory() as work:
        policy_file = Path(work) / "policy.json"
        policy_file.write_text(json.dumps(policy()))
        for size in (int(s) for s in args.sizes.split(",")):
            images_file = Path(work) / f"images-{size}.json"
            with images_file.open("w") as out:
                describe_images(size, out)
            wall, peak, written = measure(args.binary, policy_file, images_file, args.runs)
            results.append({"images": size, "input_mb": round(images_file.stat().st_size / 1e6, 1),
                            "output_mb": round(written / 1e6, 1), "median_wall_ms": round(wall * 1000),
                            "peak_mb": round(peak, 1), "runs": args.runs})
            images_file.unlink()
    print("| images | input MB | output MB | median wall ms | peak MB |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['images']:,} | {r['input_mb']} | {r['output_mb']} | {r['median_wall_ms']} | {r['peak_mb']} |")
    Path("bench-preview.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
