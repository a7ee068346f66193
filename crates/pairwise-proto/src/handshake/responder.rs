//! The responder's first state: it sends its `hello` and waits for the initiator's, whose
//! identity must be the one from the pairing link.

use crate::handshake::{AwaitSdps, HandshakeError, Hello, Role, V1, check_role, same_key};
use crate::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
use crate::keys::SessionSalt;
use crate::link::PairingLink;

/// The responder, in the room, having sent its `hello`.
#[derive(Debug)]
pub struct ResponderAwaitHello {
    link: PairingLink,
    identity: IdentitySecret,
    ephemeral: EphemeralSecret,
    own: Hello,
}

impl ResponderAwaitHello {
    /// Starts a session from a parsed link; returns the state and the `hello` to send.
    pub fn start(
        link: PairingLink,
        identity: IdentitySecret,
        ephemeral: EphemeralSecret,
        nonce: HandshakeNonce,
    ) -> (Self, Hello) {
        let own = Hello {
            v: V1,
            role: Role::Responder,
            identity: identity.public(),
            ephemeral: ephemeral.public(),
            nonce,
        };
        let state = Self {
            link,
            identity,
            ephemeral,
            own: own.clone(),
        };
        (state, own)
    }

    /// Takes the initiator's `hello`.
    ///
    /// # Errors
    /// [`HandshakeError::UnexpectedRole`] if it is not from an initiator,
    /// [`HandshakeError::IdentityMismatch`] if its identity is not the link's.
    pub fn handle_hello(self, peer: Hello) -> Result<AwaitSdps, HandshakeError> {
        check_role(&peer, Role::Initiator)?;
        if !same_key(&peer.identity, self.link.initiator()) {
            return Err(HandshakeError::IdentityMismatch);
        }
        Ok(AwaitSdps::new(
            Role::Responder,
            SessionSalt::Pairing(self.link.secret().clone()),
            self.identity,
            self.ephemeral,
            self.own,
            peer,
        ))
    }
}
