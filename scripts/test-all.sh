#!/usr/bin/env bash
# Runs every test of the project, in the order CI needs them: formatting and lints, Rust unit,
# vector and server tests, the fuzz targets for a bounded time (scripts/fuzz.sh), the web
# client's type check and unit tests, then the end-to-end tests with real browsers and the
# real binary inside a private network namespace (needs root, ip),
# and the NAT lab (tests/nat: namespaces with real NATs, coturn; needs iptables, conntrack).
# This is the test command of README.md; .ci/run installs the tools and then calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check   # fuzz/ is its own workspace
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo doc"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked --quiet
step "cargo test"
cargo test --workspace --locked
step "cargo fuzz: every parser a peer or the server feeds, 15 s per target (scripts/fuzz.sh)"
# 15 s, not the script's 20: with the cold build and the cargo-fuzz install, under 8 minutes.
bash scripts/fuzz.sh 15
step "cargo test: native WebRTC tests (ignored above), inside a private network namespace"
tests/e2e/netns.sh cargo test --locked --offline -p pairwise-cli --test native_pairing --test cli_names --test cli_terminal --test cli_code -- --ignored
step "tsc (browser, service worker and test configs)"
npx --no-install tsc -p web
npx --no-install tsc -p web/tsconfig.sw.json
npx --no-install tsc -p web/test
step "node --test web/test"
node --test web/test/
step "end-to-end tests (real browsers, real server, private network namespace)"
cargo build --locked -p pairwise-cli
PAIRWISE_E2E_NO_BUILD=1 tests/e2e/run.sh   # built just above, with --locked
step "NAT lab: the real binary across Linux NATs, with the embedded relay and coturn (tests/nat)"
PAIRWISE_NAT_NO_BUILD=1 tests/nat/run.sh
step "Cargo.lock unchanged"
git diff --exit-code -- Cargo.lock
