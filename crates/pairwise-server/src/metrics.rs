//! Counters for `/metrics` (Prometheus text format 0.0.4): open and total WebSocket
//! connections, rooms, relayed messages and bytes, rejections by reason, and with rooms on
//! Redis whether it is reachable and how many messages went through it. Plain atomics and
//! one small map: the server counts a handful of events per signaling message, and a metrics
//! crate would add a registry for six numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::rooms::RedisStats;

/// Why the server refused or closed something, as a `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    /// A request to a name the server does not answer to (421).
    Host,
    /// A WebSocket from another page (403).
    Origin,
    /// The server's connection cap (503).
    ServerFull,
    /// The per-address connection cap.
    PerIp,
    /// The per-address rate of new signaling sessions (`rate-limited`).
    JoinRate,
    /// A WebSocket closed by the server: the close reason's slug.
    Closed(&'static str),
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Origin => "origin",
            Self::ServerFull => "server-full",
            Self::PerIp => "per-ip",
            Self::JoinRate => "join-rate",
            Self::Closed(slug) => slug,
        }
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    ws_open: AtomicU64,
    ws_total: AtomicU64,
    relayed_messages: AtomicU64,
    relayed_bytes: AtomicU64,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// A WebSocket session started.
    pub fn ws_opened(&self) {
        self.ws_open.fetch_add(1, Ordering::Relaxed);
        self.ws_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A WebSocket session ended.
    pub fn ws_closed(&self) {
        self.ws_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// WebSocket sessions open now.
    pub fn ws_open(&self) -> u64 {
        self.ws_open.load(Ordering::Relaxed)
    }

    /// A body of `bytes` was relayed to the other peer.
    pub fn relayed(&self, bytes: usize) {
        self.relayed_messages.fetch_add(1, Ordering::Relaxed);
        self.relayed_bytes
            .fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Counts one rejection.
    pub fn reject(&self, why: Rejection) {
        let mut map = self
            .rejections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(why.label()).or_default() += 1;
    }

    /// The counters in Prometheus text format, with `rooms` open now (that have a peer on
    /// this server) and, with rooms on Redis, its counters.
    pub fn render(&self, rooms: usize, redis: Option<RedisStats>) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "pairwise_ws_connections",
            "gauge",
            "Open signaling WebSockets.",
            self.ws_open(),
        );
        metric(
            "pairwise_ws_connections_total",
            "counter",
            "Signaling WebSockets opened.",
            self.ws_total.load(Ordering::Relaxed),
        );
        metric(
            "pairwise_rooms",
            "gauge",
            "Rooms with at least one peer on this server.",
            rooms as u64,
        );
        if let Some(redis) = redis {
            metric(
                "pairwise_redis_up",
                "gauge",
                "1 while this node has a working Redis connection and subscription.",
                u64::from(redis.up),
            );
            metric(
                "pairwise_redis_published_total",
                "counter",
                "Messages published to other nodes through Redis.",
                redis.published,
            );
            metric(
                "pairwise_redis_received_total",
                "counter",
                "Messages received from other nodes through Redis.",
                redis.received,
            );
        }
        metric(
            "pairwise_relayed_messages_total",
            "counter",
            "Bodies relayed between peers.",
            self.relayed_messages.load(Ordering::Relaxed),
        );
        metric(
            "pairwise_relayed_bytes_total",
            "counter",
            "Bytes of relayed bodies.",
            self.relayed_bytes.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP pairwise_rejections_total Requests refused and connections closed by the server, by reason.\n\
             # TYPE pairwise_rejections_total counter"
        );
        let map = self
            .rejections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (reason, n) in map.iter() {
            let _ = writeln!(out, "pairwise_rejections_total{{reason=\"{reason}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter_in_text_format() {
        let m = Metrics::default();
        m.ws_opened();
        m.ws_opened();
        m.ws_closed();
        m.relayed(10);
        m.relayed(5);
        m.reject(Rejection::Host);
        m.reject(Rejection::Closed("idle"));
        m.reject(Rejection::Closed("idle"));
        let text = m.render(
            3,
            Some(RedisStats {
                up: true,
                published: 7,
                received: 9,
            }),
        );
        for line in [
            "pairwise_ws_connections 1",
            "pairwise_ws_connections_total 2",
            "pairwise_rooms 3",
            "pairwise_relayed_messages_total 2",
            "pairwise_relayed_bytes_total 15",
            "pairwise_rejections_total{reason=\"host\"} 1",
            "pairwise_rejections_total{reason=\"idle\"} 2",
            "# TYPE pairwise_rejections_total counter",
            "pairwise_redis_up 1",
            "pairwise_redis_published_total 7",
            "pairwise_redis_received_total 9",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            !m.render(3, None).contains("redis"),
            "no Redis lines without Redis"
        );
    }
}
