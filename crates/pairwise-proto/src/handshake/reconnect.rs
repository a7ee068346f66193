//! Remembered devices reconnecting (`docs/protocol.md` §10): the day's room, the fixed roles,
//! and the first handshake state, which both sides enter on seeing each other.
//!
//! After `handle_hello` the handshake is the pairing one ([`AwaitSdps`], [`super::AwaitConfirm`])
//! with the stored pairing key as the HKDF salt and its own transcript label, so a session of
//! one kind can never be confused with the other.

use crate::handshake::{AwaitSdps, HandshakeError, Hello, Role, V1, check_role, same_key};
use crate::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret, PublicKey};
use crate::ids::RoomId;
use crate::keys::{PairingKey, SessionSalt};

/// Seconds in a UTC day: device rooms change at 00:00 UTC.
const DAY_SECONDS: u64 = 86_400;

/// The UTC day number of a Unix time: `floor(unix_seconds / 86400)` (saturates in 2^32 days).
pub fn utc_day(unix_seconds: u64) -> u32 {
    u32::try_from(unix_seconds / DAY_SECONDS).unwrap_or(u32::MAX)
}

/// The role of `own` towards `peer` in a remembered pair: the device whose identity key (65
/// SEC1 bytes) sorts lower is the initiator, and makes the WebRTC offer.
///
/// # Errors
/// [`HandshakeError::OwnIdentity`] if both keys are the same.
pub fn reconnect_role(own: &PublicKey, peer: &PublicKey) -> Result<Role, HandshakeError> {
    match own.to_sec1().cmp(&peer.to_sec1()) {
        std::cmp::Ordering::Less => Ok(Role::Initiator),
        std::cmp::Ordering::Greater => Ok(Role::Responder),
        std::cmp::Ordering::Equal => Err(HandshakeError::OwnIdentity),
    }
}

/// What a device keeps of a paired device for the protocol: its identity and the pairing key.
/// (Names, dates and settings are the application's.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedPeer {
    identity: PublicKey,
    pairing_key: PairingKey,
}

impl RememberedPeer {
    /// Wraps a stored record.
    pub fn new(identity: PublicKey, pairing_key: PairingKey) -> Self {
        Self {
            identity,
            pairing_key,
        }
    }

    /// The paired device's identity key.
    pub fn identity(&self) -> &PublicKey {
        &self.identity
    }

    /// The stored pairing key.
    pub fn pairing_key(&self) -> &PairingKey {
        &self.pairing_key
    }

    /// The pair's room on UTC day `day` (§10.1).
    pub fn room(&self, day: u32) -> RoomId {
        self.pairing_key.room(day)
    }
}

/// A remembered device in the day's room, having sent its `hello`, waiting for the peer's.
#[derive(Debug)]
pub struct ReconnectAwaitHello {
    peer: RememberedPeer,
    role: Role,
    identity: IdentitySecret,
    ephemeral: EphemeralSecret,
    own: Hello,
}

impl ReconnectAwaitHello {
    /// Starts a session with a remembered device; returns the state and the `hello` to send
    /// (both sides send theirs when they see each other in the room).
    ///
    /// # Errors
    /// [`HandshakeError::OwnIdentity`] if the stored peer is this device itself.
    pub fn start(
        peer: RememberedPeer,
        identity: IdentitySecret,
        ephemeral: EphemeralSecret,
        nonce: HandshakeNonce,
    ) -> Result<(Self, Hello), HandshakeError> {
        let role = reconnect_role(&identity.public(), peer.identity())?;
        let own = Hello {
            v: V1,
            role,
            identity: identity.public(),
            ephemeral: ephemeral.public(),
            nonce,
        };
        let state = Self {
            peer,
            role,
            identity,
            ephemeral,
            own: own.clone(),
        };
        Ok((state, own))
    }

    /// This side's role (the initiator sends the offer once it holds the peer's `hello`).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The `hello` this side sent.
    pub fn own_hello(&self) -> &Hello {
        &self.own
    }

    /// Takes the peer's `hello`.
    ///
    /// # Errors
    /// [`HandshakeError::KeyChanged`] if its identity is not the remembered one (answer
    /// with `not-paired`), [`HandshakeError::UnexpectedRole`] if its role breaks the key order.
    pub fn handle_hello(self, peer: Hello) -> Result<AwaitSdps, HandshakeError> {
        if !same_key(&peer.identity, self.peer.identity()) {
            return Err(HandshakeError::KeyChanged);
        }
        check_role(&peer, self.role.peer())?;
        Ok(AwaitSdps::new(
            self.role,
            SessionSalt::Reconnect(self.peer.pairing_key),
            self.identity,
            self.ephemeral,
            self.own,
            peer,
        ))
    }
}
