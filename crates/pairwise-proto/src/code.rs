//! Pairing by code, for devices without a camera (`docs/protocol.md` §2.1).
//!
//! - the initiator draws a [`PairingCode`] ([`PairingCode::from_random`]) and shows it; the
//!   person types it on the responder ([`PairingCode::parse`]); both join [`PairingCode::room`];
//! - the initiator commits to its ephemeral key, nonce and identity (`code-commit`), the
//!   responder answers with its own key and nonce (`code-key`), the initiator opens the
//!   commitment (`code-open`): [`CodeExchange`] runs these steps on either side;
//! - both show the same [`CodeNumber`] if nobody is in between; each person says whether the
//!   other screen shows it; "yes" on the initiator sends `code-match`, and the responder is
//!   ready once it has both its person's "yes" and the `code-match`;
//! - the result is a [`PairingLink`](crate::link::PairingLink) (the secret `s` and the initiator's identity), exactly
//!   what a scanned QR code gives: the pairing handshake (§5) follows in the same room.
//!
//! The server sees the code's room, the bodies and nothing else; the commitment gives it one
//! guess per attempt (`docs/security.md`). Nothing here does IO, reads a clock or draws
//! randomness: random bytes, keys and the time are arguments.

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::b64;
use crate::error::ErrorCode;
use crate::ids::RoomId;
use crate::keys::{expand, label};

mod body;
mod exchange;

pub use self::body::{CodeBody, CodeTranscript, Commitment, code_secrets};
pub use self::exchange::CodeExchange;

/// Digits in a pairing code.
pub const CODE_DIGITS: usize = 8;

/// Codes there are: 10^8.
const CODE_SPACE: u32 = 100_000_000;

/// The largest multiple of [`CODE_SPACE`] a `u32` holds: draws at or above it are rejected, so
/// every code is equally likely.
const CODE_ACCEPT_BELOW: u32 = 42 * CODE_SPACE;

/// An 8-digit pairing code; always exactly 8 decimal digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PairingCode(u32);

impl PairingCode {
    /// A uniformly random code from the caller's random bytes: each 4 bytes in turn, read as
    /// `u32be`, is taken if below 4 200 000 000 (the code is then the value mod 10^8, zero
    /// padded) and skipped otherwise (rejection sampling; a draw is skipped with probability
    /// under 2.3 %). Returns `None` if no 4 bytes were taken: draw again.
    pub fn from_random(bytes: &[u8]) -> Option<Self> {
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .find(|&v| v < CODE_ACCEPT_BELOW)
            .map(|v| Self(v % CODE_SPACE))
    }

    /// Parses what a person typed: spaces and `-` anywhere are removed first; what is left must
    /// be exactly 8 ASCII digits.
    ///
    /// # Errors
    /// [`BadCode`] (`bad-code`) for anything else.
    pub fn parse(text: &str) -> Result<Self, BadCode> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != CODE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadCode);
        }
        digits.parse().map(Self).map_err(|_| BadCode)
    }

    /// The 8 digits without a space, e.g. `"48219377"`: the HKDF input of the room.
    pub fn digits(&self) -> String {
        format!("{:08}", self.0)
    }

    /// The signaling room: `b64u(HKDF(ikm = ASCII(code), salt = "", info =
    /// "pairwise/v1/code-room", 16))`.
    pub fn room(&self) -> RoomId {
        let hk = Hkdf::<Sha256>::new(Some(&[]), self.digits().as_bytes());
        RoomId::from_derived(&b64::encode(&expand::<16>(&hk, label::CODE_ROOM, &[])))
    }
}

/// Shown to people in two groups of four: `"4821 9377"`.
impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "{} {}", &d[..4], &d[4..])
    }
}

/// The code is what keeps a stranger out of the room: logs never show it.
impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(..)")
    }
}

/// What a person typed is not a pairing code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not 8 digits (spaces and - allowed between them)")]
pub struct BadCode;

impl BadCode {
    /// The catalogue code: always [`ErrorCode::BadCode`].
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BadCode
    }
}

/// The six-digit number both screens show: `u32be(K_c("pairwise/v1/code-compare", 4)) mod
/// 10^6`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeNumber(u32);

impl CodeNumber {
    /// The number from its 4 derived bytes.
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(u32::from_be_bytes(bytes) % 1_000_000)
    }

    /// Six digits, zero-padded: `"004217"`.
    pub fn digits(&self) -> String {
        format!("{:06}", self.0)
    }
}

/// Shown to people in two groups of three: `"482 193"`.
impl fmt::Display for CodeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "{} {}", &d[..3], &d[3..])
    }
}

impl fmt::Debug for CodeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeNumber({self})")
    }
}

/// Why a code exchange ended without a pairing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// A body that does not parse, one out of order, or a second, different one of a kind.
    #[error("code exchange: {0}")]
    Misbehaved(String),
    /// `code-open` does not match `code-commit`: its key, nonce or identity was substituted.
    #[error("code-open does not match the commitment")]
    BadOpen,
    /// This side's person said the numbers differ.
    #[error("the person said the numbers differ")]
    NumbersDiffer,
    /// Nobody said "yes" within `CODE_COMPARE_TIMEOUT_MS` of the numbers.
    #[error("no answer within {secs} s of the numbers")]
    TimedOut {
        /// The limit, in seconds.
        secs: u64,
    },
    /// The responder joined a room nobody waits in.
    #[error("nobody is showing this code")]
    Unknown,
    /// A third device tried the room.
    #[error("the code was already used")]
    Used,
    /// The other device left.
    #[error("the other device left")]
    PeerLeft,
    /// The server answered with an error.
    #[error("server error {code:?}: {message}")]
    Server {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
}

impl CodeError {
    /// The catalogue code people see.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Misbehaved(_) => ErrorCode::PeerMisbehaved,
            Self::BadOpen => ErrorCode::VerifyFailed,
            Self::NumbersDiffer => ErrorCode::NumbersDiffer,
            Self::TimedOut { .. } => ErrorCode::ConnectFailed,
            Self::Unknown => ErrorCode::CodeUnknown,
            Self::Used => ErrorCode::CodeUsed,
            Self::PeerLeft => ErrorCode::PeerLeft,
            Self::Server { code, .. } => *code,
        }
    }
}

#[cfg(test)]
mod tests;
