#!/usr/bin/env bash
# Runs the NAT lab tests (tests/nat/*.test.js: the lab's self-check, then CLI <-> CLI across
# NATs), one file at a time, bounded in time; the lab is always taken down at exit, whatever
# happened (a failed test, a timeout, Ctrl-C). Needs root.
#
#   tests/nat/run.sh                            # every file
#   tests/nat/run.sh tests/nat/matrix.test.js   # some files
#   PAIRWISE_NAT_CELLS=same-lan,no-ice tests/nat/run.sh tests/nat/matrix.test.js
#
# PAIRWISE_NAT_NO_BUILD=1 skips `cargo build -p pairwise-cli` (so does PAIRWISE_BIN);
# PAIRWISE_NAT_TIMEOUT (default 20m) bounds the whole run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: needs root (network namespaces, iptables)" >&2
  exit 2
fi
for tool in ip iptables conntrack turnserver turnutils_uclient curl node; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (apt-get install -y iproute2 iptables conntrack coturn curl)" >&2; exit 2; }
done
cd "$root"
if [ ! -d node_modules/playwright-core ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if [ "${PAIRWISE_NAT_NO_BUILD:-}" != 1 ] && [ -z "${PAIRWISE_BIN:-}" ]; then
  cargo build -q -p pairwise-cli
fi
if [ "$#" -eq 0 ]; then set -- tests/nat/; fi
# The lab is taken down at exit, whatever happened: a failed test, the timeout, Ctrl-C. (When
# node is killed, the servers and CLIs it started are still in the namespaces; lab.sh down stops
# them by PID.) node runs in the background so that a signal reaches this script at once.
trap '"$here/lab.sh" down' EXIT
timeout --kill-after=30s "${PAIRWISE_NAT_TIMEOUT:-20m}" node --test --test-force-exit --test-concurrency=1 "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 130' INT
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 143' TERM
set +e
wait "$pid"
exit $?
