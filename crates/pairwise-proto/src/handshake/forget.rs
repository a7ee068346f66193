//! The `forgotten` notice (`docs/protocol.md` §10.5): how a device that forgot a pairing tells
//! the other one, so that it stops waiting and says why, without letting the server fake it.
//!
//! `mac = HMAC(K_forget, "pairwise/v1/forgotten" || N_peer || I_sender || I_receiver)` with
//! `K_forget` from the pairing key: only a holder of the pairing key can make it, and the
//! receiver's fresh `hello` nonce makes every notice single-use.

use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::handshake::{HandshakeError, Hello, Mac, RememberedPeer, same_key};
use crate::identity::PublicKey;
use crate::keys::{ForgetKey, label};

/// A `forgotten` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forgotten {
    /// The MAC over the receiver's nonce and both identities.
    pub mac: Mac,
}

impl Forgotten {
    /// The notice a device that forgot `forgotten` sends in answer to that device's `hello`.
    /// `own` is the sender's identity.
    ///
    /// # Errors
    /// [`HandshakeError::KeyChanged`] if the `hello` is not from the forgotten device
    /// (answer `not-paired` instead).
    pub fn answer(
        forgotten: &RememberedPeer,
        own: &PublicKey,
        hello: &Hello,
    ) -> Result<Self, HandshakeError> {
        if !same_key(&hello.identity, forgotten.identity()) {
            return Err(HandshakeError::KeyChanged);
        }
        let tag = notice_mac(&forgotten.pairing_key().forget_key(), hello, own);
        Ok(Self {
            mac: Mac::from_bytes(tag.finalize().into_bytes().into()),
        })
    }

    /// Checks a notice from `peer` against the `hello` this side sent. Only a notice that
    /// verifies may make the application delete the pairing.
    ///
    /// # Errors
    /// [`HandshakeError::BadForgotten`] if the MAC is wrong (possible tampering: keep the
    /// pairing).
    pub fn verify(&self, peer: &RememberedPeer, own_hello: &Hello) -> Result<(), HandshakeError> {
        notice_mac(&peer.pairing_key().forget_key(), own_hello, peer.identity())
            .verify_slice(self.mac.as_bytes())
            .map_err(|_| HandshakeError::BadForgotten)
    }
}

/// `HMAC(K_forget, "pairwise/v1/forgotten" || N_receiver || I_sender || I_receiver)`, where the
/// receiver is the forgotten device (whose `hello` is `receiver`).
#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so new_from_slice cannot fail"
)]
fn notice_mac(key: &ForgetKey, receiver: &Hello, sender: &PublicKey) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(label::FORGOTTEN.as_bytes());
    mac.update(receiver.nonce.as_bytes());
    mac.update(&sender.to_sec1());
    mac.update(&receiver.identity.to_sec1());
    mac
}
