//! Two in-memory peers run the whole protocol through a fake relay that may tamper: the
//! handshake (hellos, SDP offer and answer with fingerprints, confirms), then records and a
//! transfer of several files.
//!
//! - `harness`: the peer driver and the tampering relay;
//! - `handshake`: honest and tampered handshakes, replayed hellos and confirms, and tampered
//!   records between two confirmed peers;
//! - `transfer`: files over records, and a sender that misbehaves.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod handshake;
mod harness;
mod transfer;
