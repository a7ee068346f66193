#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time and fails on any crash (issue 14).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 20)
#
# Installs cargo-fuzz (pinned) if it is missing; about 1 min 10 s on 2 cores. cargo-fuzz needs
# nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the stable toolchain take
# them, as there is no nightly here. Corpora start from testdata/vectors (fuzz/seeds.py) and
# grow in fuzz/corpus/ (not committed). A crash stops the script with the path of the input
# that caused it (fuzz/artifacts/TARGET/crash-…); reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
cargo_fuzz_version=0.13.2
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version 2>/dev/null | grep -qF "$cargo_fuzz_version"; then
  cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

python3 fuzz/seeds.py
# One build for every target (sanitizer and coverage instrumentation of pairwise-proto and its
# dependencies: about 3 minutes cold on 2 cores); each run below then finds it up to date.
cargo fuzz build
# The fuzz crate's own Cargo.lock is committed: the build must not have changed it.
git diff --exit-code -- fuzz/Cargo.lock

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(cargo fuzz list); do
  printf '%-18s %3ss ... ' "$target" "$seconds"
  # -timeout: an input that takes 10 s is a hang, reported like a crash.
  if cargo fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 \
      -dict=fuzz/json.dict -print_final_stats=0 >"$log" 2>&1; then
    grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || echo "done"
  else
    echo "FAILED"
    tail -n 60 "$log"
    echo
    echo "fuzz target $target crashed (or hung); the input is:"
    for input in $(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log"); do
      echo "  $input"
      od -An -tx1 -v "$input" | tr -d ' \n' | head -c 2048
      echo
    done
    exit 1
  fi
done
