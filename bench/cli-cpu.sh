#!/usr/bin/env bash
# CPU work of one CLI-to-CLI transfer (issue 3): wall-clock rates are noisy on a shared machine,
# CPU seconds (user + sys) and instruction counts are not. Run inside the loopback-only namespace:
#
#   tests/e2e/netns.sh bench/cli-cpu.sh [MIB] [BIN]                 # user/sys seconds per GiB
#   CALLGRIND=receive tests/e2e/netns.sh bench/cli-cpu.sh 64 [BIN]   # one side under callgrind
#   PERF=send tests/e2e/netns.sh bench/cli-cpu.sh 256 [BIN]          # one side under perf record
#
# MIB defaults to 256, BIN to target/release/pairwise. CALLGRIND=send|receive runs that side under
# `valgrind --tool=callgrind` and leaves callgrind.out.* in $OUT (default: a fresh temporary
# folder, printed); read it with `callgrind_annotate --inclusive=yes FILE`.
set -euo pipefail
mib="${1:-256}"
bin="${2:-$PWD/target/release/pairwise}"
out="${OUT:-}"
if [ -n "${CALLGRIND:-}${PERF:-}" ] && [ -z "$out" ]; then out="$(mktemp -d /tmp/pairwise-cpu-XXXXXX)"; fi
[ -z "$out" ] || mkdir -p "$out"
work="$(mktemp -d /tmp/pairwise-cpu-work-XXXXXX)"
# shellcheck source=bench/cli-common.sh
. "$(dirname "$0")/cli-common.sh"

head -c "$((mib << 20))" /dev/urandom >"$work/bench.bin"
start_server

wrap() {
  local side="$1"
  shift
  if [ "${CALLGRIND:-}" = "$side" ]; then
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.$side" "$@"
  elif [ "${PERF:-}" = "$side" ]; then
    perf record -q -e cpu-clock -F 2000 -g -o "$out/perf.data.$side" "$@"
  else
    /usr/bin/time -f "$side: %U s user, %S s sys, %e s wall, peak RSS %M KiB" "$@"
  fi
}

PAIRWISE_CONFIG="$work/cfg-s" wrap send "$bin" send --server "$origin" "$work/bench.bin" \
  >"$work/send.out" 2>"$work/send.err" &
spid=$!
pids+=("$spid")
wait_link
t0=$(date +%s.%N)
PAIRWISE_CONFIG="$work/cfg-r" wrap receive "$bin" receive --yes "$link" --dir "$work/in" \
  >"$work/recv.out" 2>"$work/recv.err" || { tail -5 "$work/recv.err" >&2; exit 1; }
wait "$spid" || { tail -5 "$work/send.err" >&2; exit 1; }
t1=$(date +%s.%N)
cmp "$work/bench.bin" "$work/in/bench.bin"
echo "$mib MiB in $(echo "$t1 - $t0" | bc) s (pairing included), bytes equal"
grep -h '^send:\|^receive:' "$work/send.err" "$work/recv.err" || true
grep -h '^==[0-9]*== Collected' "$work/send.err" "$work/recv.err" || true
[ -z "${CALLGRIND:-}${PERF:-}" ] || echo "profile in $out"
