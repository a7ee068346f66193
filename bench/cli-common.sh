# Shared by the CLI benchmarks (cli-cpu.sh, cli-phases.sh); sourced, not run. Expects `work`
# (a scratch folder) and `bin` (the pairwise binary) to be set; keeps every process it starts
# in `pids` and ends them, and removes `work`, on exit.
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/in" "$work/cfg-s" "$work/cfg-r"

# Prints the first match of the extended regex PATTERN in FILE, waiting up to TRIES tenths of
# a second for it to appear; on timeout prints SHOW (a log) to stderr and fails.
wait_for() {
  local pattern="$1" file="$2" tries="$3" show="$4" got=""
  for _ in $(seq "$tries"); do
    got="$(grep -oE "$pattern" "$file" | head -1 || true)"
    [ -n "$got" ] && { echo "$got"; return 0; }
    sleep 0.1
  done
  cat "$show" >&2
  return 1
}

# Starts `pairwise serve` on a free loopback port and sets `origin`.
start_server() {
  "$bin" serve --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
  pids+=("$!")
  origin="$(wait_for 'http://127\.0\.0\.1:[0-9]+' "$work/serve.log" 100 "$work/serve.log")"
}

# Waits for the pairing link the sender printed to $work/send.out and sets `link`.
wait_link() {
  link="$(wait_for 'https?://[^ ]*#pair=[^ ]*' "$work/send.out" 600 "$work/send.err")"
}

# UDP datagrams dropped so far in this network namespace because a receive buffer was full.
rcvbuf_errors() {
  awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}
