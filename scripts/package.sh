#!/usr/bin/env bash
# Builds every Lambda function as a zip for arm64 (Graviton) with cargo-lambda, into target/lambda/<name>/.
# `make package` runs it. Where the aarch64 Rust target can't be installed, it says so and builds x86_64
# (deploy with the template parameter Architecture=x86_64 then).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
# cargo-lambda and zig cache under ~/.cache by default: keep theirs private to this build.
cache="${CARGO_TARGET_DIR:-target}/package-cache"
mkdir -p "$cache/zig"
export XDG_CACHE_HOME="$(cd "$cache" && pwd)" ZIG_GLOBAL_CACHE_DIR="$(cd "$cache/zig" && pwd)"

functions=()
for dir in functions/*/; do functions+=(-p "$(basename "$dir")"); done

arch=--arm64
if ! rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$'; then
  if ! rustup target add aarch64-unknown-linux-gnu; then
    echo "package: the aarch64 Rust target can't be installed on this machine; building x86_64 instead." >&2
    echo "package: deploy with the template parameter Architecture=x86_64." >&2
    arch=--x86-64
  fi
fi
cargo lambda -V
cargo lambda build --release "$arch" --output-format zip "${functions[@]}"

lambda_dir="${CARGO_TARGET_DIR:-target}/lambda"
for dir in functions/*/; do
  name=$(basename "$dir")
  zip="$lambda_dir/$name/bootstrap.zip"
  printf '%-20s %8s bytes  %s\n' "$name" "$(stat -c %s "$zip")" "$zip"
done
