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
//! # Layout
//! - [`limits`]: every size and count cap.
//! - [`ids`]: identifiers the server sees.
//! - [`signal`]: client/server signaling messages.
//! - [`error`]: the shared error catalogue.

pub mod error;
pub mod ids;
pub mod limits;
pub mod signal;
