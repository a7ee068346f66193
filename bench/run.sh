#!/usr/bin/env bash
# Runs a benchmark inside the private, loopback-only network namespace (as every WebRTC run must),
# after rebuilding the server so it embeds the current web/ files.
#   bench/run.sh                         # browser throughput, 256 MiB, 3 interleaved runs
#   bench/run.sh browser-throughput.js --mib 256 --runs 5
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
cargo build -q -p pairwise-cli
cargo build -q --release -p pairwise-cli
script="${1:-browser-throughput.js}"
shift || true
[ "$#" -gt 0 ] || [ "$script" != browser-throughput.js ] || set -- --mib 256 --runs 3
# The CLI benchmark measures the release binary; the server may be either.
PAIRWISE_BIN="$PWD/target/release/pairwise" exec tests/e2e/netns.sh node "bench/$script" "$@"
