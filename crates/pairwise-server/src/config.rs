//! Server settings an operator can change; everything else is a protocol limit in
//! `pairwise_proto::limits`.

use crate::ice::IceConfig;

/// Settings for one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Simultaneous WebSocket connections; more are answered with 503.
    pub max_connections: usize,
    /// STUN and TURN servers handed to every joined connection (§4.1).
    pub ice: IceConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            ice: IceConfig::default(),
        }
    }
}
