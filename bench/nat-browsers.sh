#!/usr/bin/env bash
# Chromium -> Chromium in the NAT lab (tests/nat), direct against relayed, in one run: the
# browser cells of tests/nat/browsers.test.js with a larger file, ROUNDS times, interleaved.
# Prints each cell's summary line (pair, first byte, transfer time and MB/s); the reference is
# the direct cell of the same round.
#
#   sudo bench/nat-browsers.sh [MIB] [ROUNDS]      # default 64 MiB, 3 rounds
#
# Uses PAIRWISE_BIN (default target/release/pairwise: build it first; it embeds web/).
set -euo pipefail
cd "$(dirname "$0")/.."
mib="${1:-64}"
rounds="${2:-3}"
export PAIRWISE_BIN="${PAIRWISE_BIN:-$PWD/target/release/pairwise}"
cells="cone-cone,sym-sym,relay-forced-coturn,cli-chromium-cone-cone,cli-chromium-sym-sym"
for r in $(seq "$rounds"); do
  echo "== round $r"
  PAIRWISE_NAT_FILE_MIB="$mib" PAIRWISE_NAT_CELLS="$cells" tests/nat/run.sh tests/nat/browsers.test.js 2>&1 |
    grep -E '^# \\# [a-z]' | sed 's/^# \\# //' | sed -E 's/ \(chromium .*\]\)//'
done
