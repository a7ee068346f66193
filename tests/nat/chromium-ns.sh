#!/bin/sh
# Playwright's executablePath for the NAT lab (tests/nat/lab.js, launchChromiumIn): Debian
# Chromium inside lab namespace $PAIRWISE_NAT_NS. `ip netns exec` execs the browser (same PID)
# and keeps file descriptors, so Playwright's --remote-debugging-pipe still works.
set -eu
: "${PAIRWISE_NAT_NS:?set PAIRWISE_NAT_NS to a lab namespace (e.g. pw-nat-a1)}"
exec ip netns exec "$PAIRWISE_NAT_NS" "${PAIRWISE_CHROMIUM:-/usr/bin/chromium}" "$@"
