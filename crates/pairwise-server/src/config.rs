//! Server settings an operator can change; everything else is a protocol limit in
//! `pairwise_proto::limits`.

use std::time::Duration;

use crate::ice::IceConfig;

/// Settings for one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Simultaneous WebSocket connections; more are answered with 503.
    pub max_connections: usize,
    /// STUN and TURN servers handed to every joined connection (§4.1).
    pub ice: IceConfig,
    /// A connection that has not joined a room this long after it opened is closed (every
    /// client joins as soon as it is connected; a socket that never does only holds a slot).
    pub join_deadline: Duration,
    /// The longest a frame may take to go out to a client; a client that stops reading is
    /// closed after it (and at once when the room finds its outbox full).
    pub send_timeout: Duration,
    /// Host names the server answers to besides IP addresses and `localhost` (its public
    /// name behind a proxy, the machine's own name): see [`crate::hosts`].
    pub hosts: Vec<String>,
    /// Open connections (HTTP and WebSocket) from one client address (IPv6: one /64); more
    /// are closed at once. 0: no cap.
    pub max_per_ip: usize,
    /// Signaling sessions (WebSockets, each joining one room) one client address may start per
    /// minute, all of them at once at most; more are refused with `rate-limited`
    /// (`crate::join_rate`). 0: no cap (behind a proxy, where every client has the proxy's
    /// address).
    pub joins_per_ip_minute: u32,
    /// How long a client has to send a whole request head (and a kept-alive connection to
    /// start its next request); then the connection is closed.
    pub header_read_timeout: Duration,
    /// A joined or waiting WebSocket gets a ping this often …
    pub ping_interval: Duration,
    /// … and is closed when nothing (a pong or any frame) came from it for this long.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            ice: IceConfig::default(),
            join_deadline: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            hosts: Vec::new(),
            max_per_ip: 256,
            joins_per_ip_minute: 120,
            header_read_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
        }
    }
}
