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
use crate::limits::{MAX_ICE_SERVERS, MAX_ICE_URL_BYTES, MAX_ICE_URLS, MAX_SIGNAL_BYTES};

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
        /// STUN and TURN servers for this connection's peer connection (§4.1), with TURN
        /// credentials minted for it alone. Absent or empty: host candidates only. Parsed
        /// leniently: only the usable entries are kept ([`usable_ice_servers`]).
        #[serde(default, deserialize_with = "lenient_ice")]
        ice: Vec<IceServer>,
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

/// One entry of [`ServerToClient::Joined`]'s `ice`: the shape of WebRTC's `RTCIceServer`, so
/// a browser passes it on unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs (RFC 7064/7065), e.g. `turn:host:3478?transport=tcp`.
    pub urls: Vec<String>,
    /// TURN only: the time-limited user name (`EXPIRY:ID`, coturn's REST scheme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN only: base64(HMAC-SHA1(secret, username)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl IceServer {
    /// Whether a client should use this entry: every URL has a known scheme and fits
    /// [`MAX_ICE_URL_BYTES`], there are at most [`MAX_ICE_URLS`] of them, and TURN URLs come
    /// with a user name and a credential. The server is untrusted: a client keeps the first
    /// [`MAX_ICE_SERVERS`] usable entries and ignores the rest (§4.1).
    pub fn is_usable(&self) -> bool {
        let short = |s: &Option<String>| s.as_ref().is_some_and(|v| v.len() <= MAX_ICE_URL_BYTES);
        !self.urls.is_empty()
            && self.urls.len() <= MAX_ICE_URLS
            && self.urls.iter().all(|u| {
                u.len() <= MAX_ICE_URL_BYTES
                    && (u.starts_with("stun:")
                        || ((u.starts_with("turn:") || u.starts_with("turns:"))
                            && short(&self.username)
                            && short(&self.credential)))
            })
    }

    /// Whether any URL is a relay (`turn:`/`turns:`).
    pub fn is_turn(&self) -> bool {
        self.urls.iter().any(|u| u.starts_with("turn"))
    }
}

/// `joined`'s `ice` as a client reads it: whatever is not a list of usable entries is dropped,
/// not an error (the list is the untrusted server's hint, §4.1).
fn lenient_ice<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IceServer>, D::Error> {
    let raw = serde_json::Value::deserialize(d)?;
    Ok(ice_from_value(&raw))
}

/// The usable ICE servers in a `joined` frame's raw `ice` value (§4.1): entries that are not
/// exactly `{urls, username?, credential?}` or not [`IceServer::is_usable`] are skipped, and at
/// most [`MAX_ICE_SERVERS`] are kept. Pinned by `testdata/vectors/ice.json`.
pub fn ice_from_value(raw: &serde_json::Value) -> Vec<IceServer> {
    let Some(list) = raw.as_array() else {
        return Vec::new();
    };
    let parsed: Vec<IceServer> = list
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect();
    usable_ice_servers(&parsed)
}

/// The entries of `ice` a client uses: the first [`MAX_ICE_SERVERS`] usable ones (§4.1).
pub fn usable_ice_servers(ice: &[IceServer]) -> Vec<IceServer> {
    ice.iter()
        .filter(|s| s.is_usable())
        .take(MAX_ICE_SERVERS)
        .cloned()
        .collect()
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

/// A client's frame as the server reads it: a relay's `body` stays the exact bytes received
/// (checked to be one JSON value, never rebuilt), so it costs no more memory than the frame
/// and reaches the peer byte for byte, within the same size limit. Parsing it into a
/// `serde_json::Value` turned 64 KB of numbers into about 1 MB and re-serialised `1e15` as
/// `1000000000000000.0` (65 505 bytes in, 248 849 out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame<'a> {
    /// Join a room (once per connection).
    Join {
        /// The room.
        room: RoomId,
    },
    /// Forward `body` to the other peer in the room.
    Relay {
        /// The body's JSON text as received.
        body: &'a str,
    },
}

/// The fields of any client frame; which ones a frame must have depends on its `type`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClientFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    room: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    body: Option<&'a serde_json::value::RawValue>,
}

impl<'a> ClientFrame<'a> {
    /// Parses one text frame from a client, as strictly as [`ClientToServer::parse`].
    ///
    /// # Errors
    /// As [`ClientToServer::parse`].
    pub fn parse(text: &'a str) -> Result<Self, SignalError> {
        check_len(text)?;
        let malformed = |reason: &str| SignalError::Malformed {
            reason: reason.to_owned(),
        };
        let raw: RawClientFrame<'a> =
            serde_json::from_str(text).map_err(|e| malformed(&e.to_string()))?;
        match (raw.kind.as_ref(), raw.room, raw.body) {
            ("join", Some(room), None) => RoomId::parse(&room)
                .map(|room| Self::Join { room })
                .map_err(|e| malformed(&e.to_string())),
            ("relay", None, Some(body)) => Ok(Self::Relay { body: body.get() }),
            ("join" | "relay", _, _) => Err(malformed("missing or extra field")),
            (other, _, _) => Err(malformed(&format!("unknown type {other:?}"))),
        }
    }
}

/// [`SignalError::TooLarge`] for a frame past [`MAX_SIGNAL_BYTES`].
fn check_len(text: &str) -> Result<(), SignalError> {
    if text.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge {
            len: text.len(),
            max: MAX_SIGNAL_BYTES,
        });
    }
    Ok(())
}

/// The server's `relay` frame for a body received as `body` (JSON text), byte for byte.
pub fn relay_frame(body: &str) -> String {
    format!(r#"{{"type":"relay","body":{body}}}"#)
}

impl ClientToServer {
    /// Parses one text frame from a client.
    ///
    /// # Errors
    /// [`SignalError::TooLarge`] past [`MAX_SIGNAL_BYTES`], [`SignalError::Malformed`] for
    /// anything that is not exactly one known message.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        check_len(text)?;
        serde_json::from_str(text).map_err(|e| SignalError::Malformed {
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
