//! The peer-to-peer handshake (`docs/protocol.md` §5) as typestates.
//!
//! - responder: [`ResponderAwaitHello::start`] -> send its [`Hello`];
//! - initiator: [`InitiatorAwaitHello::start`], then `handle_hello` -> send its [`Hello`] and
//!   the offer; the responder's `handle_hello` checks the initiator identity against the link;
//! - both, once they hold the offer and answer fingerprints: [`AwaitSdps::handle_sdps`] -> send
//!   the [`Confirm`];
//! - both: [`AwaitConfirm::handle_confirm`] checks the peer's MAC in constant time and is the
//!   only way to a [`ConfirmedSession`] (through the [`PeerConfirmed`] proof token).
//!
//! - remembered devices (§10): [`ReconnectAwaitHello::start`] on both sides -> send the
//!   [`Hello`]; `handle_hello` checks the identity against the stored [`RememberedPeer`] and
//!   leads to the same [`AwaitSdps`]; a device that forgot the pair answers a `hello` with a
//!   [`Forgotten`] notice ([`Forgotten::answer`]), which the other side checks with
//!   [`Forgotten::verify`].
//!
//! Each state consumes `self`, so a second `hello` or `confirm` has no state to go to: the
//! caller's driver refuses it (`peer-misbehaved`). Signaling bodies are parsed with
//! [`PeerSignal::parse`]; offers, answers and candidates pass through to the caller's WebRTC
//! stack. This module does no IO.

mod confirm;
mod forget;
mod initiator;
mod reconnect;
mod responder;
mod transcript;

use serde::{Deserialize, Serialize};

pub use self::confirm::{AwaitConfirm, AwaitSdps, ConfirmedSession, PeerConfirmed};
pub use self::forget::Forgotten;
pub use self::initiator::InitiatorAwaitHello;
pub use self::reconnect::{ReconnectAwaitHello, RememberedPeer, reconnect_role, utc_day};
pub use self::responder::ResponderAwaitHello;
pub use self::transcript::{BadSdp, DtlsFingerprint, TranscriptHash, sdp_fingerprint};
use crate::b64;
use crate::error::ErrorCode;
use crate::identity::{HandshakeNonce, PublicKey};

/// Which end of the pairing a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Shows the QR code and makes the WebRTC offer.
    Initiator,
    /// Opens the link and answers.
    Responder,
}

impl Role {
    /// The other role.
    pub fn peer(self) -> Self {
        match self {
            Self::Initiator => Self::Responder,
            Self::Responder => Self::Initiator,
        }
    }
}

/// The protocol version in a `hello`: serialises as `1` and parses only `1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct V1;

impl TryFrom<u64> for V1 {
    type Error = String;
    fn try_from(v: u64) -> Result<Self, String> {
        if v == 1 {
            Ok(Self)
        } else {
            Err(format!("unsupported protocol version {v}"))
        }
    }
}

impl From<V1> for u64 {
    fn from(_: V1) -> Self {
        1
    }
}

/// A `hello` body: who the sender is and its fresh ephemeral key and nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Always 1.
    pub v: V1,
    /// The sender's role.
    pub role: Role,
    /// The sender's long-term identity key.
    pub identity: PublicKey,
    /// The sender's fresh ephemeral key.
    pub ephemeral: PublicKey,
    /// The sender's fresh nonce.
    pub nonce: HandshakeNonce,
}

/// An HMAC-SHA-256 tag (of a `confirm` or a `forgotten`): 32 bytes, base64url in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mac([u8; 32]);

impl Mac {
    /// Wraps MAC bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The MAC bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<String> for Mac {
    type Error = b64::BadBase64;
    fn try_from(s: String) -> Result<Self, b64::BadBase64> {
        b64::decode_array(&s).map(Self)
    }
}

impl From<Mac> for String {
    fn from(m: Mac) -> Self {
        b64::encode(&m.0)
    }
}

/// A `confirm` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// `HMAC(K("pairwise/v1/confirm/<sender role>"), th)`.
    pub mac: Mac,
}

/// A peer-to-peer signaling body, carried in a relay `body` (§4, second table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PeerSignal {
    /// Keys and nonce of the sender.
    Hello(Hello),
    /// The initiator's SDP offer.
    Offer {
        /// Session description.
        sdp: String,
    },
    /// The responder's SDP answer.
    Answer {
        /// Session description.
        sdp: String,
    },
    /// An ICE candidate (an `RTCIceCandidateInit`, opaque here) or `null` for the end.
    Candidate {
        /// Passed to the WebRTC stack as is.
        candidate: serde_json::Value,
    },
    /// Key confirmation.
    Confirm(Confirm),
    /// Remembered devices: the sender has forgotten this pairing (§10.5). Authenticated.
    Forgotten(Forgotten),
    /// Remembered devices: the sender does not know the identity in the `hello` it got (§10.6).
    /// Not authenticated: it only explains a refusal.
    NotPaired {},
}

impl PeerSignal {
    /// Parses a relayed body strictly.
    ///
    /// # Errors
    /// [`HandshakeError::Malformed`] for an unknown kind, unknown or missing fields, a version
    /// other than 1, invalid keys or a nonce or MAC of the wrong length, a candidate that is
    /// neither `null` nor an object with a `candidate` string.
    pub fn parse(body: &serde_json::Value) -> Result<Self, HandshakeError> {
        let signal = Self::deserialize(body).map_err(|e| HandshakeError::Malformed {
            reason: e.to_string(),
        })?;
        // §4.2: `null`, or an object with a `candidate` string (the rest is the WebRTC stack's).
        if let Self::Candidate { candidate } = &signal {
            let ok = candidate.is_null()
                || candidate
                    .get("candidate")
                    .is_some_and(serde_json::Value::is_string);
            if !ok {
                return Err(HandshakeError::Malformed {
                    reason: "candidate is neither null nor an object with a candidate string"
                        .to_owned(),
                });
            }
        }
        Ok(signal)
    }

    /// The `kind` on the wire, for messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Offer { .. } => "offer",
            Self::Answer { .. } => "answer",
            Self::Candidate { .. } => "candidate",
            Self::Confirm(_) => "confirm",
            Self::Forgotten(_) => "forgotten",
            Self::NotPaired {} => "not-paired",
        }
    }

    /// The JSON body to relay.
    pub fn to_value(&self) -> serde_json::Value {
        // Serialising these types cannot fail: every field is a string, number or JSON value.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Why the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's `confirm` MAC is wrong: a key, nonce or fingerprint was substituted.
    #[error("confirm mac does not verify")]
    BadConfirm,
    /// An SDP has no usable fingerprint.
    #[error(transparent)]
    BadSdp(#[from] BadSdp),
    /// A `forgotten` notice whose MAC does not verify: nothing may be deleted.
    #[error("forgotten notice does not verify")]
    BadForgotten,
    /// The initiator's `hello` names another identity than the link.
    #[error("initiator identity differs from the pairing link")]
    IdentityMismatch,
    /// A remembered device's room got a `hello` from an identity that is not the paired one.
    #[error("hello from an identity that is not the paired device")]
    KeyChanged,
    /// A `hello` that carries the receiver's own identity.
    #[error("hello carries this device's own identity")]
    OwnIdentity,
    /// A signaling body that does not parse.
    #[error("malformed signaling body: {reason}")]
    Malformed {
        /// What the parser said.
        reason: String,
    },
    /// A `hello` with the wrong role.
    #[error("hello from a {got:?}, expected a {expected:?}")]
    UnexpectedRole {
        /// The role the receiver expects.
        expected: Role,
        /// The role in the hello.
        got: Role,
    },
}

impl HandshakeError {
    /// The catalogue code: `verify-failed` for anything that smells of substitution,
    /// `peer-misbehaved` for malformed input.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadConfirm | Self::BadForgotten | Self::IdentityMismatch => {
                ErrorCode::VerifyFailed
            }
            Self::KeyChanged => ErrorCode::KeyChanged,
            Self::BadSdp(_)
            | Self::Malformed { .. }
            | Self::OwnIdentity
            | Self::UnexpectedRole { .. } => ErrorCode::PeerMisbehaved,
        }
    }
}

/// Compares two public keys in constant time.
pub(crate) fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    use subtle::ConstantTimeEq as _;
    a.to_sec1().ct_eq(&b.to_sec1()).into()
}

fn check_role(hello: &Hello, expected: Role) -> Result<(), HandshakeError> {
    if hello.role == expected {
        Ok(())
    } else {
        Err(HandshakeError::UnexpectedRole {
            expected,
            got: hello.role,
        })
    }
}

#[cfg(test)]
mod tests;
