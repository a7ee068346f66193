#!/usr/bin/env bash
# Runs the browser end-to-end tests the only allowed way: inside a private, loopback-only network
# namespace (tests/e2e/netns.sh). Rebuilds the server first, because it embeds web/.
#
#   tests/e2e/run.sh                       # all tests
#   tests/e2e/run.sh tests/e2e/errors.test.js  # some tests
#
# PAIRWISE_E2E_NO_BUILD=1 skips `cargo build -p pairwise-cli`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if [ "${PAIRWISE_E2E_NO_BUILD:-}" != 1 ]; then
  cargo build -q -p pairwise-cli
fi
if [ "$#" -eq 0 ]; then set -- tests/e2e/; fi
# One test file at a time: the machine has 2 cores and each file runs two browsers.
# --test-force-exit: a browser that survives a failed test's clean-up must not keep the runner
# (and CI) waiting after the results are in; `timeout` bounds the whole suite all the same.
exec timeout --kill-after=30s 45m "$here/netns.sh" \
  node --test --test-force-exit --test-concurrency=1 "$@"
