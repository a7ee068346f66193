//! The initiator's first state: it waits for the responder's `hello`, then answers with its own.

use crate::handshake::{AwaitSdps, HandshakeError, Hello, Role, V1, check_role};
use crate::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
use crate::keys::{PairingSecret, SessionSalt};

/// The initiator, in the room, waiting for the responder's `hello`.
#[derive(Debug)]
pub struct InitiatorAwaitHello {
    secret: PairingSecret,
    identity: IdentitySecret,
    ephemeral: EphemeralSecret,
    own: Hello,
}

impl InitiatorAwaitHello {
    /// Starts a session for the link secret `secret`, with a fresh ephemeral key and nonce.
    pub fn start(
        secret: PairingSecret,
        identity: IdentitySecret,
        ephemeral: EphemeralSecret,
        nonce: HandshakeNonce,
    ) -> Self {
        let own = Hello {
            v: V1,
            role: Role::Initiator,
            identity: identity.public(),
            ephemeral: ephemeral.public(),
            nonce,
        };
        Self {
            secret,
            identity,
            ephemeral,
            own,
        }
    }

    /// Takes the responder's `hello`; returns the next state and the initiator's own `hello`
    /// to send (followed by the offer).
    ///
    /// # Errors
    /// [`HandshakeError::UnexpectedRole`] if the `hello` is not from a responder.
    pub fn handle_hello(self, peer: Hello) -> Result<(AwaitSdps, Hello), HandshakeError> {
        check_role(&peer, Role::Responder)?;
        let own = self.own.clone();
        let next = AwaitSdps::new(
            Role::Initiator,
            SessionSalt::Pairing(self.secret),
            self.identity,
            self.ephemeral,
            self.own,
            peer,
        );
        Ok((next, own))
    }
}
