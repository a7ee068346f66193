#!/usr/bin/env bash
# Pairwise NAT lab: two homes behind Linux NATs and a "public" network with coturn, all in
# network namespaces. Needs root, iproute2, iptables, conntrack, coturn and curl.
#
#   lab.sh up                                   create the namespaces, start coturn in pub
#   lab.sh down                                 stop coturn, delete the namespaces (idempotent)
#   lab.sh status                               namespaces, addresses, NAT kinds, coturn
#   lab.sh nat a|b cone|symmetric|fullcone      how home a or b maps and filters
#   lab.sh udp a|b block|allow                  block: the home sends no UDP to the wan (TCP only)
#   lab.sh wan a|b IP                           the home moves to another public address
#   lab.sh exec NS CMD [ARGS...]                run CMD in lab namespace NS (pub, nat-a, a1, ...)
#
#   pub    203.0.113.1/24   bridge br0; coturn on :3478 (UDP+TCP); the server under test goes
#          here too. Default route: "internet", a veth whose far end is down (a drain).
#   nat-a  wan 203.0.113.10, lan 198.51.100.1/25    hosts a1 198.51.100.11, a2 198.51.100.12
#   nat-b  wan 203.0.113.20, lan 198.51.100.129/25  host  b1 198.51.100.140
#
# Namespaces are named PAIRWISE_NAT_PREFIX + name (default "pw-nat-"); state, logs and the TURN
# secret live in PAIRWISE_NAT_STATE (default /tmp/pairwise-nat). Nothing is created in the root
# namespace: every veth pair is made inside a lab namespace with its peer moved into another.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${PAIRWISE_NAT_PREFIX:-pw-nat-}"
STATE="${PAIRWISE_NAT_STATE:-/tmp/pairwise-nat}"
PUB_IP=203.0.113.1
NAMESPACES=(pub nat-a nat-b a1 a2 b1)
# "lab" marks a lab that was brought up and not (yet) taken down; it holds the prefix.
MARK="$STATE/lab"

die() { echo "lab.sh: $*" >&2; exit 1; }
say() { echo "lab.sh: $*" >&2; }
need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (ip netns, iptables)"; }

# ns NAME: the full namespace name; accepts either "a1" or "pw-nat-a1".
ns() { case "$1" in "$PREFIX"*) echo "$1" ;; *) echo "$PREFIX$1" ;; esac; }
in_ns() { local n; n="$(ns "$1")"; shift; ip netns exec "$n" "$@"; }
ns_exists() { [ -e "/run/netns/$(ns "$1")" ]; }

# veth NS1 IF1 NS2 IF2: a veth pair created in NS1, its other end moved into NS2.
veth() { ip -n "$(ns "$1")" link add "$2" type veth peer name "$4" netns "$(ns "$3")"; }

up() {
  need_root
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  if [ -f "$MARK" ]; then
    say "a previous lab was not taken down ($MARK); cleaning it up first"
    PREFIX="$(cat "$MARK")" down # the namespaces it made, whatever PAIRWISE_NAT_PREFIX is now
  fi
  local n
  for n in "${NAMESPACES[@]}"; do
    ! ns_exists "$n" || die "namespace $(ns "$n") exists but this state dir did not create it; run 'lab.sh down' (or pick another PAIRWISE_NAT_PREFIX)"
  done
  echo "$PREFIX" >"$MARK"
  trap 'say "up failed; taking the lab down"; down' ERR

  for n in "${NAMESPACES[@]}"; do
    ip netns add "$(ns "$n")"
    ip -n "$(ns "$n")" link set lo up
    # IPv4 only: no link-local IPv6 candidates, no router solicitations.
    in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done

  # The public network: one bridge in pub; the NATs' wan ports are its ports.
  ip -n "$(ns pub)" link add br0 type bridge
  ip -n "$(ns pub)" addr add "$PUB_IP/24" dev br0
  ip -n "$(ns pub)" link set br0 up
  # The rest of the internet, as seen from a real server: a default route. Packets for anything
  # outside 203.0.113.0/24 (e.g. a peer's private host candidate 198.51.100.x, which a TURN
  # relay is asked to check) go into "internet", whose peer "internet-end" stays down, and are
  # lost (TX dropped on "internet"). Without a default route sendto() fails with ENETUNREACH,
  # and coturn 4.6.1 closes the whole allocation on that error: relayed transfers died after
  # a few hundred KB.
  veth pub internet pub internet-end
  ip -n "$(ns pub)" link set internet arp off up
  ip -n "$(ns pub)" route add default dev internet

  local h wan lan
  for h in a b; do
    case "$h" in
      a) wan=203.0.113.10 lan=198.51.100.1/25 ;;
      b) wan=203.0.113.20 lan=198.51.100.129/25 ;;
    esac
    veth pub "wan-$h" "nat-$h" wan
    ip -n "$(ns pub)" link set "wan-$h" master br0 up
    ip -n "$(ns "nat-$h")" addr add "$wan/24" dev wan
    ip -n "$(ns "nat-$h")" link set wan up
    ip -n "$(ns "nat-$h")" route add default via "$PUB_IP"
    ip -n "$(ns "nat-$h")" link add br0 type bridge
    ip -n "$(ns "nat-$h")" addr add "$lan" dev br0
    ip -n "$(ns "nat-$h")" link set br0 up
    in_ns "nat-$h" sysctl -qw net.ipv4.ip_forward=1
    router_firewall "nat-$h"
  done

  local host home addr gw
  while read -r host home addr gw; do
    veth "nat-$home" "$host" "$host" eth0
    ip -n "$(ns "nat-$home")" link set "$host" master br0 up
    ip -n "$(ns "$host")" addr add "$addr" dev eth0
    ip -n "$(ns "$host")" link set eth0 up
    ip -n "$(ns "$host")" route add default via "$gw"
  done <<'EOF'
a1 a 198.51.100.11/25  198.51.100.1
a2 a 198.51.100.12/25  198.51.100.1
b1 b 198.51.100.140/25 198.51.100.129
EOF
  nat a cone
  nat b cone
  udp a allow
  udp b allow

  start_coturn
  trap - ERR
  say "up: pub $PUB_IP (coturn :3478 udp+tcp, realm pairwise.test, secret in $STATE/turn-secret); state $STATE"
}

# A home router's filter: drop unsolicited packets from the wan, route only 203.0.113.0/24 out.
# The INPUT drop is not decoration. Without it, a peer's connectivity check that reaches the NAT
# before our own first packet to that peer went out gets a conntrack entry (confirmed, inbound,
# for the very 4-tuple our check needs); MASQUERADE then has to pick another source port, the
# cone behaves like a symmetric NAT for that peer and cone-cone hole punching fails. A packet
# dropped in INPUT never confirms its entry.
router_firewall() {
  local n="$1"
  in_ns "$n" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_ns "$n" iptables -A INPUT -i wan -j DROP
  in_ns "$n" iptables -A FORWARD -i wan -m conntrack --ctstate ESTABLISHED,RELATED,DNAT -j ACCEPT
  in_ns "$n" iptables -A FORWARD -i wan -j DROP
  in_ns "$n" iptables -A FORWARD -o wan ! -d 203.0.113.0/24 -j DROP
  # `udp block` fills this chain.
  in_ns "$n" iptables -N PW-UDP-OUT
  in_ns "$n" iptables -A FORWARD -o wan -j PW-UDP-OUT
}

start_coturn() {
  local secret pid i
  # The REST secret, new for every lab: only root reads it (serve --turn-secret-file).
  secret="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  (umask 077 && echo "$secret" >"$STATE/turn-secret")
  (umask 077 && sed -e "s|@PUB_IP@|$PUB_IP|g" -e "s|@SECRET@|$secret|g" -e "s|@STATE@|$STATE|g" \
    "$HERE/turnserver.conf.in" >"$STATE/turnserver.conf")
  rm -f "$STATE/turnserver.pid" "$STATE/turnserver.log" "$STATE/turndb"
  # ip netns exec execs, so $! is turnserver itself.
  ip netns exec "$(ns pub)" turnserver -c "$STATE/turnserver.conf" >"$STATE/turnserver.out" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/coturn.pid"
  for i in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$STATE/turnserver.out" >&2 || true
      say "coturn exited"
      false
    fi
    if in_ns pub ss -Hlun "src $PUB_IP:3478" | grep -q . && in_ns pub ss -Hltn "src $PUB_IP:3478" | grep -q .; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$STATE/turnserver.out" >&2 || true
  say "coturn did not listen on $PUB_IP:3478 within 10 s"
  false
}

# nat a|b cone|symmetric|fullcone
#   cone       MASQUERADE. Linux keeps the source port when it is free, so the mapping does not
#              depend on the destination; conntrack lets in only replies from the exact address
#              and port a packet went to ("port-restricted cone").
#   symmetric  MASQUERADE --random-fully: a new random port for every destination.
#   fullcone   cone, plus any new inbound UDP is forwarded to the home's first host at the same
#              port (endpoint-independent filtering; correct here because ports are preserved).
nat() {
  need_root
  local h="$1" kind="$2" n host
  case "$h" in a) host=198.51.100.11 ;; b) host=198.51.100.140 ;; *) die "nat: the home is a or b" ;; esac
  n="nat-$h"
  ns_exists "$n" || die "the lab is not up"
  case "$kind" in cone | symmetric | fullcone) ;; *) die "nat: the kind is cone, symmetric or fullcone" ;; esac
  in_ns "$n" iptables -t nat -F POSTROUTING
  in_ns "$n" iptables -t nat -F PREROUTING
  case "$kind" in
    cone) in_ns "$n" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE ;;
    symmetric) in_ns "$n" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE --random-fully ;;
    fullcone)
      in_ns "$n" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
      in_ns "$n" iptables -t nat -A PREROUTING -i wan -p udp -j DNAT --to-destination "$host"
      ;;
  esac
  # Mappings made under the previous kind must not survive into the next cell.
  in_ns "$n" conntrack -F >/dev/null 2>&1 || true
  echo "$kind" >"$STATE/nat-$h"
}

# udp a|b block|allow: block drops every forwarded UDP packet towards the wan, so the home's
# hosts reach the internet over TCP only (the "TURN over TCP" case).
udp() {
  need_root
  local h="$1" mode="$2" n
  case "$h" in a | b) ;; *) die "udp: the home is a or b" ;; esac
  n="nat-$h"
  ns_exists "$n" || die "the lab is not up"
  in_ns "$n" iptables -F PW-UDP-OUT
  case "$mode" in
    block)
      in_ns "$n" iptables -A PW-UDP-OUT -p udp -j DROP
      in_ns "$n" conntrack -D -p udp >/dev/null 2>&1 || true
      ;;
    allow) ;;
    *) die "udp: block or allow" ;;
  esac
  echo "$mode" >"$STATE/udp-$h"
}

# wan a|b IP: the home gets another public address (203.0.113.0/24), as a device does when it
# moves to another network: its NAT's mappings are flushed, so every flow to the outside,
# WebRTC and TCP alike, needs a new mapping on the new address (the old one answers nothing).
wan() {
  need_root
  local h="$1" ip="$2" n
  case "$h" in a | b) ;; *) die "wan: the home is a or b" ;; esac
  case "$ip" in 203.0.113.*) ;; *) die "wan: an address in 203.0.113.0/24" ;; esac
  n="nat-$h"
  ns_exists "$n" || die "the lab is not up"
  ip -n "$(ns "$n")" addr flush dev wan
  ip -n "$(ns "$n")" addr add "$ip/24" dev wan
  ip -n "$(ns "$n")" route replace default via "$PUB_IP"
  in_ns "$n" conntrack -F >/dev/null 2>&1 || true
  echo "$ip" >"$STATE/wan-$h"
}

# Stops the lab's coturn, by the PID recorded at start (and coturn's own pidfile).
stop_coturn() {
  local f pid
  for f in "$STATE/coturn.pid" "$STATE/turnserver.pid"; do
    [ -f "$f" ] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    rm -f "$f"
    [ -n "$pid" ] || continue
    # Only a turnserver started on this lab's config (a recycled PID is left alone).
    if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q "turnserver.*$STATE/turnserver.conf"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

down() {
  need_root
  trap - ERR
  stop_coturn
  local n pids pid
  for n in b1 a2 a1 nat-b nat-a pub; do
    ns_exists "$n" || continue
    # Anything still running in a lab namespace (a server or peer a killed test left behind)
    # would keep the namespace alive after `ip netns del`; stop it by PID.
    pids="$(ip netns pids "$(ns "$n")" 2>/dev/null || true)"
    if [ -n "$pids" ]; then
      say "stopping processes left in $(ns "$n"): $(echo $pids)"
      for pid in $pids; do kill "$pid" 2>/dev/null || true; done
      sleep 0.5
      for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    fi
    ip netns del "$(ns "$n")" 2>/dev/null || true
  done
  rm -f "$MARK" "$STATE/nat-a" "$STATE/nat-b" "$STATE/udp-a" "$STATE/udp-b" "$STATE/wan-a" "$STATE/wan-b" \
    "$STATE/turn-secret" "$STATE/turnserver.conf"
}

status() {
  local n pid
  for n in "${NAMESPACES[@]}"; do
    if ns_exists "$n"; then
      printf '%-14s %s\n' "$(ns "$n")" "$(ip -n "$(ns "$n")" -br -4 addr 2>/dev/null | awk '$1 != "lo" { printf "%s %s %s  ", $1, $2, $3 }')"
    else
      printf '%-14s absent\n' "$(ns "$n")"
    fi
  done
  echo "home a: nat $(cat "$STATE/nat-a" 2>/dev/null || echo -), udp $(cat "$STATE/udp-a" 2>/dev/null || echo -)"
  echo "home b: nat $(cat "$STATE/nat-b" 2>/dev/null || echo -), udp $(cat "$STATE/udp-b" 2>/dev/null || echo -)"
  pid="$(cat "$STATE/coturn.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "coturn: pid $pid, log $STATE/turnserver.log"
  else
    echo "coturn: not running"
  fi
  if ns_exists pub && [ "$(id -u)" -eq 0 ]; then
    echo "pub listening: $(in_ns pub ss -Hlnut 2>/dev/null | awk '{ printf "%s/%s  ", $5, $1 }')"
    echo "pub -> internet drain (TX): $(ip -n "$(ns pub)" -s link show internet 2>/dev/null | awk '/TX:/ { getline; print $2 " packets, " $4 " dropped" }')"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  nat) [ $# -eq 3 ] || die "usage: lab.sh nat a|b cone|symmetric|fullcone"; nat "$2" "$3" ;;
  udp) [ $# -eq 3 ] || die "usage: lab.sh udp a|b block|allow"; udp "$2" "$3" ;;
  wan) [ $# -eq 3 ] || die "usage: lab.sh wan a|b IP"; wan "$2" "$3" ;;
  exec)
    [ $# -ge 3 ] || die "usage: lab.sh exec NS CMD [ARGS...]"
    need_root
    n="$2"
    shift 2
    ns_exists "$n" || die "no namespace $(ns "$n"); is the lab up?"
    in_ns "$n" "$@"
    ;;
  *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
