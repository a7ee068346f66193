//! Signaling messages between a client and the server (`docs/protocol.md` §4).
//!
//! - client -> server: [`ClientToServer::Join`] once, then [`ClientToServer::Relay`]s;
//! - server -> client: [`ServerToClient::Joined`], peer arrivals and departures, relayed bodies
//!   and [`ServerToClient::Error`]s.
//!
//! The server never looks inside a relay `body`: it is the peers' business and bound by the
//! handshake. Parsing is strict (`deny_unknown_fields`) and size-capped by
//! [`MAX_SIGNAL_BYTES`].

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::RoomId;
use crate::limits::MAX_SIGNAL_BYTES;

/// A message from a client to the signaling server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientToServer {
    /// Join a room (once per connection).
    Join {
        /// The room, derived one-way from a secret.
        room: RoomId,
    },
    /// Forward `body` to the other peer in the room.
    Relay {
        /// Opaque to the server.
        body: serde_json::Value,
    },
}

/// A message from the signaling server to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ServerToClient {
    /// You are in the room, together with `peers - 1` others.
    Joined {
        /// Peers in the room, including you.
        peers: usize,
    },
    /// The other peer arrived.
    PeerJoined,
    /// The other peer left.
    PeerLeft,
    /// A body the other peer relayed.
    Relay {
        /// Opaque to the server.
        body: serde_json::Value,
    },
    /// Something went wrong; see [`ErrorCode::closes_connection`].
    Error {
        /// Machine-readable code from the shared catalogue.
        code: ErrorCode,
        /// A sentence for people.
        message: String,
    },
}

impl ServerToClient {
    /// An error message with the catalogue's sentence for `code`.
    pub fn error(code: ErrorCode) -> Self {
        Self::Error {
            code,
            message: code.sentence().to_owned(),
        }
    }
}

/// Why a signaling frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// The frame is larger than [`MAX_SIGNAL_BYTES`].
    #[error("signaling message of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frame is not a valid message.
    #[error("malformed signaling message: {reason}")]
    Malformed {
        /// What the parser said.
        reason: String,
    },
}

impl SignalError {
    /// The catalogue code to send back.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::TooLarge,
            Self::Malformed { .. } => ErrorCode::BadMessage,
        }
    }
}

impl ClientToServer {
    /// Parses one text frame from a client.
    ///
    /// # Errors
    /// [`SignalError::TooLarge`] past [`MAX_SIGNAL_BYTES`], [`SignalError::Malformed`] for
    /// anything that is not exactly one known message.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        if text.len() > MAX_SIGNAL_BYTES {
            return Err(SignalError::TooLarge {
                len: text.len(),
                max: MAX_SIGNAL_BYTES,
            });
        }
        serde_json::from_str(text).map_err(|e| SignalError::Malformed {
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
