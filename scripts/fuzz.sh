#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (`make fuzz`, FUZZ_SECONDS each, default 60),
# seeded with the project's own examples: fixture events, the built-in baseline, lifecycle policies,
# repository policies. `--sanitizer none` builds on the stable toolchain. A crash fails the run; its input is
# kept under fuzz/artifacts/<target>/: add it as a regression test beside the code it broke.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
corpus_root=${CARGO_TARGET_DIR:-target}/fuzz-corpus
mkdir -p "$corpus_root"/{event_route,baseline_parse,lifecycle_policy,policy_merge}
cp tests/fixtures/events/*.json "$corpus_root/event_route/"
cp shared/core/src/baseline/builtin.toml "$corpus_root/baseline_parse/"
cp tests/fixtures/lifecycle/*.policy.json "$corpus_root/lifecycle_policy/"
printf '%s' '{"Version":"2012-10-17","Statement":[{"Sid":"TeamPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"ecr:BatchGetImage"},{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}' \
  > "$corpus_root/policy_merge/two-statements.json"
printf '%s' '{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":["a","*"]},"Action":"ecr:*","Condition":{}}}' \
  > "$corpus_root/policy_merge/single-object.json"

for target in event_route baseline_parse lifecycle_policy policy_merge; do
  echo "fuzz: $target for ${seconds}s"
  log="$corpus_root/$target.log"
  if ! cargo fuzz run --fuzz-dir fuzz --sanitizer none "$target" "$corpus_root/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 > "$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed; crashing inputs are in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "$log" || true
done
echo "fuzz: no crash in any target"
