//! Server settings an operator can change; everything else is a protocol limit in
//! `pairwise_proto::limits`.

/// Settings for one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Simultaneous WebSocket connections; more are answered with 503.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
        }
    }
}
