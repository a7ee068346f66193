//! Sans-IO core of the Pairwise protocol, version 1 (`docs/protocol.md` is the spec).
//!
//! Data flow: a client joins a signaling room ([`signal`]) derived from the pairing link
//! ([`link`]); the two peers run the handshake ([`handshake`]) over relayed signaling, which
//! yields per-direction record keys; every data-channel message is an AEAD record ([`record`])
//! carrying transfer messages ([`transfer`]).
//!
//! Nothing here does IO, reads a clock or draws randomness: keys and nonces are passed in, bytes
//! come in and bytes go out. Callers own the sockets and the data channel.
//!
//! Drive contract: feed every relayed body to [`handshake::PeerSignal::parse`] and the current
//! handshake state's `handle_*`; send what it returns, in order (own `hello`, then offer or
//! answer, then `confirm`). After [`handshake::AwaitConfirm::handle_confirm`] succeeds, open
//! every data-channel message with the [`record::RecordOpener`], decode it with
//! [`transfer::Message::decode`], route it to the [`transfer::Receiver`] or
//! [`transfer::Sender`], and after each `handle_*` drain `poll_event` (and `poll_chunk` while the
//! channel's buffer is below its high-water mark) until it returns `None`. Any error ends the
//! session with the error's `code()`.
//!
//! # Layout
//! - [`limits`]: every size and count cap.
//! - [`ids`]: identifiers the server sees.
//! - [`signal`]: client/server signaling messages.
//! - [`b64`]: base64url without padding, canonical.
//! - [`link`]: the pairing link (QR code) and its room.
//! - [`code`]: pairing by an 8-digit code instead: the code, its room, the exchange that
//!   agrees on the link's secret, and the number people compare.
//! - [`identity`]: P-256 keys, nonces and the ECDH input.
//! - [`keys`]: HKDF labels, purpose-typed symmetric keys, the key schedule and SAS.
//! - [`handshake`]: hello/confirm bodies, SDP fingerprint, transcript, the typestates.
//! - [`record`]: AEAD record sealing and opening.
//! - [`transfer`]: inner messages, manifest, sender and receiver state machines.
//! - [`name`]: `SafeName`, file names safe to create.
//! - [`device`]: `DeviceName`, the name a device shows for itself.
//! - [`error`]: the shared error catalogue; every error type here has `code()`.

pub mod b64;
pub mod code;
pub mod device;
pub mod error;
pub mod handshake;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod lanes;
pub mod limits;
pub mod link;
pub mod name;
pub mod record;
pub mod session;
pub mod signal;
mod strict_json;
pub mod transfer;
