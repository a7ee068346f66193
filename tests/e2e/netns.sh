#!/usr/bin/env bash
# Runs a command inside a fresh, private network namespace whose only usable addresses are
# loopback (127.0.0.1, ::1), then deletes the namespace. Needs root (ip netns).
#
#   tests/e2e/netns.sh COMMAND [ARGS...]
#
# Besides lo, the namespace gets a veth pair anc0 <-> anc1 with both ends inside it, carrying
# only automatic IPv6 link-local addresses (DAD and router solicitations off). With lo alone
# Chromium reports navigator.onLine === false; the link-local pair makes browsers "online" while
# their WebRTC stacks still ignore link-local addresses, so the only ICE candidates are loopback.
# There is no route out of the namespace. The harness refuses to start a browser if it sees any
# other interface (tests/e2e/harness/guard.js).
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: needs root (ip netns)" >&2
  exit 2
fi
NS="pairwise-e2e-$$"
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link add anc0 type veth peer name anc1
for i in anc0 anc1; do
  ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$i.dad_transmits=0" "net.ipv6.conf.$i.router_solicitations=0"
  ip netns exec "$NS" ip link set "$i" up
done
# Let the link-local addresses settle before a browser looks at them.
sleep 1
# Not exec: the EXIT trap must run to delete the namespace.
set +e
ip netns exec "$NS" "$@"
rc=$?
exit "$rc"
