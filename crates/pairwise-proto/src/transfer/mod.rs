//! Transfer messages inside records, and the sender and receiver state machines
//! (`docs/protocol.md` §6).
//!
//! - sender -> receiver: [`Message::Manifest`], then (after `accept`) [`Message::Chunk`]s in
//!   manifest order, FINAL on each file's last chunk;
//! - receiver -> sender: [`Message::Accept`] or [`Message::Decline`], then one
//!   [`Message::Received`] per kept file;
//! - either way: [`Message::Cancel`] stops every transfer in progress, and [`Message::Close`]
//!   ends the session (normally, or with the code of what this side refused, §6.1).
//!
//! A caller routes each opened record with [`Message::route`] to its [`Receiver`] (for the
//! peer's transfer) or its [`Sender`] (for its own). Both take a
//! [`PeerConfirmed`](crate::handshake::PeerConfirmed), so nothing moves before key
//! confirmation. This module owns no file: the sender plans byte ranges, the receiver hands out
//! bytes.

use std::ops::Range;

mod close;
mod manifest;
mod receiver;
mod resume;
mod sender;

pub use self::close::{refused_as, refuses};
pub use self::manifest::{FileEntry, Manifest, TransferId};
pub use self::receiver::{Receiver, ReceiverEvent};
pub use self::resume::{RESUME_LABEL, ResumeChain, ResumeClaim, ResumeStart};
pub use self::sender::{ChunkPlan, ChunkSpec, Sender, SenderEvent, max_chunk};
use crate::device::DeviceInfo;
use crate::error::ErrorCode;
use crate::lanes::{LaneCandidate, LaneSdp};
use crate::limits::MAX_TEXT_BYTES;
use crate::name::BadName;
use crate::strict_json;

/// Inner message type bytes.
pub mod msg_type {
    /// A manifest (JSON).
    pub const MANIFEST: u8 = 0x01;
    /// The receiver accepts the last manifest.
    pub const ACCEPT: u8 = 0x02;
    /// The receiver declines it.
    pub const DECLINE: u8 = 0x03;
    /// Raw bytes of the current file.
    pub const CHUNK: u8 = 0x04;
    /// `u32be(file index)`: the receiver kept this file.
    pub const RECEIVED: u8 = 0x05;
    /// Stop the current transfer.
    pub const CANCEL: u8 = 0x06;
    /// The sender's name for itself (JSON).
    pub const DEVICE: u8 = 0x07;
    /// A short text (UTF-8).
    pub const TEXT: u8 = 0x08;
    /// The sender's answer to resume claims (JSON).
    pub const RESUME_ACK: u8 = 0x09;
    /// `u64be(bytes)`: chunk bytes of this transfer the receiver has stored.
    pub const PROGRESS: u8 = 0x0a;
    /// A lane's offer SDP (JSON, §12).
    pub const LANE_OFFER: u8 = 0x0b;
    /// A lane's answer SDP (JSON, §12).
    pub const LANE_ANSWER: u8 = 0x0c;
    /// A lane's ICE candidate (JSON, §12).
    pub const LANE_CANDIDATE: u8 = 0x0d;
    /// The session ends (JSON, §6.1).
    pub const CLOSE: u8 = 0x0e;
}

/// One inner message: `type[1] || payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The files on offer.
    Manifest(Manifest),
    /// The receiver takes the last manifest, from the start of every file.
    Accept,
    /// The receiver takes the last manifest and claims prefixes it holds (§11.3); encoded as
    /// an `accept` with a JSON payload.
    AcceptResume(Vec<ResumeClaim>),
    /// The sender's answer to the claims: where each claimed file continues (§11.3).
    ResumeAck(Vec<ResumeStart>),
    /// The receiver refuses it.
    Decline,
    /// Bytes of the current file.
    Chunk(Vec<u8>),
    /// The receiver verified and kept file `index`.
    Received(u32),
    /// Stop.
    Cancel,
    /// The sender's name for itself (§10.7); any time, for the application.
    Device(DeviceInfo),
    /// A short text, clipboard-style (§11.2); any time, for the application.
    Text(String),
    /// The receiver has stored this many chunk bytes of the current transfer (§11.4).
    Progress(u64),
    /// The sender of this message opens a lane (§12); for the session, not a transfer.
    LaneOffer(LaneSdp),
    /// The answer to a [`Self::LaneOffer`].
    LaneAnswer(LaneSdp),
    /// An ICE candidate of a lane, or the end of them.
    LaneCandidate(LaneCandidate),
    /// The sender of this message ends the session (§6.1): `None` normally (it is done), or
    /// with the §9 code of what it refused in what the other side sent.
    Close(Option<ErrorCode>),
}

/// Which state machine a peer's message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The peer's transfer to us: our [`Receiver`].
    Receiver,
    /// Our transfer to the peer: our [`Sender`].
    Sender,
    /// Both (a cancel).
    Both,
    /// Neither: for the application (a `device` message).
    Session,
}

impl Message {
    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Self::Manifest(_) => msg_type::MANIFEST,
            Self::Accept | Self::AcceptResume(_) => msg_type::ACCEPT,
            Self::ResumeAck(_) => msg_type::RESUME_ACK,
            Self::Text(_) => msg_type::TEXT,
            Self::Progress(_) => msg_type::PROGRESS,
            Self::Decline => msg_type::DECLINE,
            Self::Chunk(_) => msg_type::CHUNK,
            Self::Received(_) => msg_type::RECEIVED,
            Self::Cancel => msg_type::CANCEL,
            Self::Device(_) => msg_type::DEVICE,
            Self::LaneOffer(_) => msg_type::LANE_OFFER,
            Self::LaneAnswer(_) => msg_type::LANE_ANSWER,
            Self::LaneCandidate(_) => msg_type::LANE_CANDIDATE,
            Self::Close(_) => msg_type::CLOSE,
        }
    }

    /// Where a message from the peer goes.
    pub fn route(&self) -> Route {
        match self {
            Self::Manifest(_) | Self::Chunk(_) | Self::ResumeAck(_) => Route::Receiver,
            Self::Accept
            | Self::AcceptResume(_)
            | Self::Decline
            | Self::Received(_)
            | Self::Progress(_) => Route::Sender,
            Self::Cancel => Route::Both,
            Self::Device(_)
            | Self::Text(_)
            | Self::LaneOffer(_)
            | Self::LaneAnswer(_)
            | Self::LaneCandidate(_)
            | Self::Close(_) => Route::Session,
        }
    }

    /// The inner bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.type_byte()];
        match self {
            Self::Manifest(m) => out.extend_from_slice(&m.to_json()),
            Self::Chunk(data) => out.extend_from_slice(data),
            Self::Received(index) => out.extend_from_slice(&index.to_be_bytes()),
            // Serialising structs of strings and integers cannot fail.
            Self::Device(info) => out.extend(serde_json::to_vec(info).unwrap_or_default()),
            Self::LaneOffer(l) | Self::LaneAnswer(l) => {
                out.extend(serde_json::to_vec(l).unwrap_or_default());
            }
            Self::LaneCandidate(c) => out.extend(serde_json::to_vec(c).unwrap_or_default()),
            Self::AcceptResume(claims) => out.extend(
                serde_json::to_vec(&resume::ClaimsWire {
                    resume: claims.clone(),
                })
                .unwrap_or_default(),
            ),
            Self::ResumeAck(starts) => out.extend(
                serde_json::to_vec(&resume::AckWire {
                    files: starts.clone(),
                })
                .unwrap_or_default(),
            ),
            Self::Text(text) => out.extend_from_slice(text.as_bytes()),
            Self::Progress(n) => out.extend_from_slice(&n.to_be_bytes()),
            Self::Close(code) => out.extend(close::encode(*code)),
            Self::Accept | Self::Decline | Self::Cancel => {}
        }
        out
    }

    /// Parses inner bytes strictly.
    ///
    /// # Errors
    /// [`TransferError`] for an empty message, an unknown type, a payload where none belongs
    /// or of the wrong length, or a bad manifest.
    pub fn decode(inner: &[u8]) -> Result<Self, TransferError> {
        let [ty, payload @ ..] = inner else {
            return Err(TransferError::EmptyMessage);
        };
        let empty = |msg: Self| {
            if payload.is_empty() {
                Ok(msg)
            } else {
                Err(TransferError::PayloadLength {
                    msg_type: *ty,
                    len: payload.len(),
                })
            }
        };
        match *ty {
            msg_type::MANIFEST => Manifest::parse(payload).map(Self::Manifest),
            msg_type::ACCEPT if payload.is_empty() => Ok(Self::Accept),
            msg_type::ACCEPT => strict_json::from_slice::<resume::ClaimsWire>(payload)
                .map(|w| Self::AcceptResume(w.resume))
                .map_err(|reason| TransferError::BadResume { reason }),
            msg_type::RESUME_ACK => strict_json::from_slice::<resume::AckWire>(payload)
                .map(|w| Self::ResumeAck(w.files))
                .map_err(|reason| TransferError::BadResume { reason }),
            msg_type::TEXT => parse_text(payload).map(Self::Text),
            msg_type::PROGRESS => <[u8; 8]>::try_from(payload)
                .map(|b| Self::Progress(u64::from_be_bytes(b)))
                .map_err(|_| TransferError::PayloadLength {
                    msg_type: *ty,
                    len: payload.len(),
                }),
            msg_type::DECLINE => empty(Self::Decline),
            msg_type::CHUNK => Ok(Self::Chunk(payload.to_vec())),
            msg_type::RECEIVED => <[u8; 4]>::try_from(payload)
                .map(|b| Self::Received(u32::from_be_bytes(b)))
                .map_err(|_| TransferError::PayloadLength {
                    msg_type: *ty,
                    len: payload.len(),
                }),
            msg_type::CANCEL => empty(Self::Cancel),
            msg_type::DEVICE => strict_json::from_slice(payload)
                .map(Self::Device)
                .map_err(|reason| TransferError::BadDevice { reason }),
            msg_type::LANE_OFFER => parse_lane_sdp(payload).map(Self::LaneOffer),
            msg_type::LANE_ANSWER => parse_lane_sdp(payload).map(Self::LaneAnswer),
            msg_type::LANE_CANDIDATE => strict_json::from_slice::<LaneCandidate>(payload)
                .and_then(|c| c.check().map(|()| c).map_err(|e| e.to_string()))
                .map(Self::LaneCandidate)
                .map_err(|reason| TransferError::BadLane { reason }),
            msg_type::CLOSE => close::parse(payload).map(Self::Close),
            other => Err(TransferError::UnknownType { msg_type: other }),
        }
    }
}

impl Message {
    /// Checks the record's FINAL flag against the message: FINAL is only for a chunk (§6).
    ///
    /// # Errors
    /// [`TransferError::FinalOnNonChunk`] (peer-misbehaved) for FINAL on anything else.
    pub fn check_final(&self, is_final: bool) -> Result<(), TransferError> {
        if is_final && !matches!(self, Self::Chunk(_)) {
            return Err(TransferError::FinalOnNonChunk {
                msg_type: self.type_byte(),
            });
        }
        Ok(())
    }

    /// Parses the inner message at `buf[inner]` (a record opened in place, see
    /// [`crate::record::RecordOpener::open_in_place`]) like [`Self::decode`], but a chunk keeps
    /// `buf`'s allocation for its bytes instead of copying them.
    ///
    /// # Errors
    /// As [`Self::decode`]; [`TransferError::EmptyMessage`] if `inner` is empty or outside
    /// `buf`.
    pub fn decode_in(mut buf: Vec<u8>, inner: Range<usize>) -> Result<Self, TransferError> {
        let Some(bytes) = buf.get(inner.clone()) else {
            return Err(TransferError::EmptyMessage);
        };
        if bytes.first() != Some(&msg_type::CHUNK) {
            return Self::decode(bytes);
        }
        buf.truncate(inner.end);
        buf.drain(..=inner.start);
        Ok(Self::Chunk(buf))
    }
}

/// A `lane-offer` or `lane-answer` payload.
fn parse_lane_sdp(payload: &[u8]) -> Result<LaneSdp, TransferError> {
    strict_json::from_slice::<LaneSdp>(payload)
        .and_then(|l| l.check().map(|()| l).map_err(|e| e.to_string()))
        .map_err(|reason| TransferError::BadLane { reason })
}

/// A `text` payload: 1 to [`MAX_TEXT_BYTES`] bytes of UTF-8.
fn parse_text(payload: &[u8]) -> Result<String, TransferError> {
    if payload.is_empty() {
        return Err(TransferError::BadText { reason: "empty" });
    }
    if payload.len() > MAX_TEXT_BYTES {
        return Err(TransferError::BadText {
            reason: "longer than 65536 bytes",
        });
    }
    String::from_utf8(payload.to_vec()).map_err(|_| TransferError::BadText {
        reason: "not UTF-8",
    })
}

/// Why a transfer message or step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The manifest JSON does not parse or breaks a rule.
    #[error("bad manifest: {reason}")]
    BadManifest {
        /// What is wrong.
        reason: String,
    },
    /// A `device` message that does not parse or whose name breaks §10.7.
    #[error("bad device message: {reason}")]
    BadDevice {
        /// What is wrong.
        reason: String,
    },
    /// A lane message (§12) that does not parse or names no lane.
    #[error("bad lane message: {reason}")]
    BadLane {
        /// What is wrong.
        reason: String,
    },
    /// A resume claim or answer that does not parse.
    #[error("bad resume message: {reason}")]
    BadResume {
        /// What is wrong.
        reason: String,
    },
    /// A `close` message that does not parse or carries no §9 code.
    #[error("bad close message: {reason}")]
    BadClose {
        /// What is wrong.
        reason: String,
    },
    /// A `text` message that is empty, too long or not UTF-8.
    #[error("bad text message: {reason}")]
    BadText {
        /// What is wrong.
        reason: &'static str,
    },
    /// A file name in the manifest is unsafe.
    #[error(transparent)]
    BadName(#[from] BadName),
    /// A chunk when no file is expected.
    #[error("chunk when no file is expected")]
    ChunkWithoutFile,
    /// An inner message with no type byte.
    #[error("empty inner message")]
    EmptyMessage,
    /// FINAL set on something other than a chunk.
    #[error("final flag on a message of type {msg_type:#04x}")]
    FinalOnNonChunk {
        /// The type byte.
        msg_type: u8,
    },
    /// FINAL before the file's manifest size was reached.
    #[error("file {index} ended after {got} of {expected} bytes")]
    FinalTooEarly {
        /// The file.
        index: u32,
        /// Bytes received.
        got: u64,
        /// Bytes in the manifest.
        expected: u64,
    },
    /// The channel closed before every file got its FINAL chunk.
    #[error("transfer incomplete")]
    Incomplete,
    /// A payload where none belongs, or a `received` that is not 4 bytes.
    #[error("payload of {len} bytes for message type {msg_type:#04x}")]
    PayloadLength {
        /// The type byte.
        msg_type: u8,
        /// Payload bytes.
        len: usize,
    },
    /// More bytes than the manifest's size.
    #[error("file {index} got {got} bytes, more than its {expected}")]
    TooManyBytes {
        /// The file.
        index: u32,
        /// Bytes received including this chunk.
        got: u64,
        /// Bytes in the manifest.
        expected: u64,
    },
    /// A message that makes no sense in the current state.
    #[error("unexpected {what}")]
    Unexpected {
        /// What arrived, in words.
        what: &'static str,
    },
    /// A type byte outside `0x01..=0x0e`.
    #[error("unknown message type {msg_type:#04x}")]
    UnknownType {
        /// The type byte.
        msg_type: u8,
    },
}

impl TransferError {
    /// The catalogue code: `bad-name`, `incomplete`, otherwise `peer-misbehaved`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadName(_) => ErrorCode::BadName,
            Self::Incomplete => ErrorCode::Incomplete,
            _ => ErrorCode::PeerMisbehaved,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_large;
