#!/usr/bin/env bash
# Phases of one CLI-to-CLI transfer (issue 3), for interleaved before/after runs on a shared
# machine: pairing (receiver started -> its first progress event), the data phase (first to last
# progress event, MB/s), the receiver's flush (last progress -> `saved`), end to end (receiver
# started -> both exited), CPU seconds and peak RSS per side, loopback bytes per payload byte
# (retransmissions would raise it) and UDP packets the kernel dropped because a socket's receive
# buffer was full (`RcvbufErrors`). Run inside the loopback-only namespace:
#
#   tests/e2e/netns.sh bench/cli-phases.sh [MIB] [BIN]
#
# MIB defaults to 1024, BIN to target/release/pairwise. The source file is cached in
# /tmp/pairwise-phases-MIB.bin between runs.
set -euo pipefail
mib="${1:-1024}"
bin="${2:-$PWD/target/release/pairwise}"
work="$(mktemp -d /tmp/pairwise-phases-XXXXXX)"
# shellcheck source=bench/cli-common.sh
. "$(dirname "$0")/cli-common.sh"

src="/tmp/pairwise-phases-$mib.bin"
[ -f "$src" ] || head -c "$((mib << 20))" /dev/urandom >"$src"
start_server

fmt="%U %S %M"
PAIRWISE_CONFIG="$work/cfg-s" /usr/bin/time -o "$work/send.time" -f "$fmt" \
  "$bin" send --server "$origin" "$src" >"$work/send.out" 2>"$work/send.err" &
spid=$!
pids+=("$spid")
wait_link
lo0=$(awk '/lo:/ {print $10}' /proc/net/dev)
drops0=$(rcvbuf_errors)
t0=$(date +%s.%N)
PAIRWISE_CONFIG="$work/cfg-r" /usr/bin/time -o "$work/recv.time" -f "$fmt" \
  "$bin" receive --yes --json "$link" --dir "$work/in" 2>"$work/recv.err" |
  while IFS= read -r line; do echo "$(date +%s.%N) $line"; done >"$work/recv.json"
wait "$spid"
t1=$(date +%s.%N)
cmp "$src" "$work/in/$(basename "$src")"
lo=$(awk -v a="$lo0" -v m="$mib" '/lo:/ {printf "%.4f", ($10 - a) / (m * 1048576)}' /proc/net/dev)
drops=$(($(rcvbuf_errors) - drops0))
read -r su ss sr <"$work/send.time"
read -r ru rs rr <"$work/recv.time"
awk -v t0="$t0" -v t1="$t1" -v mib="$mib" -v lo="$lo" -v drops="$drops" \
  -v scpu="$(echo "$su + $ss" | bc)" -v rcpu="$(echo "$ru + $rs" | bc)" -v srss="$sr" -v rrss="$rr" '
  /"event":"progress"/ {
    if (!first) first = $1
    last = $1
    match($0, /"bytes":[0-9]+/); b = substr($0, RSTART + 8, RLENGTH - 8)
    if (!fb) fb = b
    lb = b
  }
  /"event":"saved"/ { saved = $1 }
  END {
    printf "%d MiB: end to end %.0f MB/s (%.2f s); pairing %.2f s; data %.0f MB/s; flush %.2f s; ", \
      mib, mib * 1048576 / 1e6 / (t1 - t0), t1 - t0, first - t0, (lb - fb) / 1e6 / (last - first), saved - last
    printf "CPU s/GiB sender %.2f receiver %.2f; peak RSS sender %d MiB receiver %d MiB; loopback bytes per byte %s; UDP packets dropped for a full receive buffer %d\n", \
      scpu * 1024 / mib, rcpu * 1024 / mib, srss / 1024, rrss / 1024, lo, drops
  }' "$work/recv.json"
