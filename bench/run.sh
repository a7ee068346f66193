#!/usr/bin/env bash
# Runs a benchmark inside the private, loopback-only network namespace (as every WebRTC run must),
# after rebuilding the binary so it embeds the current web/ files.
#   bench/run.sh                         # browser throughput, 256 MiB, 3 interleaved runs
#   bench/run.sh browser-throughput.js --mib 256 --runs 5
#   PAIRWISE_BIN=path/to/pairwise bench/run.sh large-transfers.js   # that binary, no build
# Builds go to $CARGO_TARGET_DIR (default ./target).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
if [ -z "${PAIRWISE_BIN:-}" ]; then
  cargo build -q --release -p pairwise-cli
  PAIRWISE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/pairwise"
fi
script="${1:-browser-throughput.js}"
shift || true
[ "$#" -gt 0 ] || [ "$script" != browser-throughput.js ] || set -- --mib 256 --runs 3
# Benchmarks measure the release binary (server and CLI peers alike).
PAIRWISE_BIN="$PAIRWISE_BIN" exec tests/e2e/netns.sh node "bench/$script" "$@"
