//! Key derivation and key confirmation: the last two handshake states, shared by both roles.
//!
//! [`AwaitSdps`] turns both fingerprints into `th`, the [`KeySchedule`] and the own `confirm`;
//! [`AwaitConfirm`] checks the peer's MAC in constant time. Only that check creates a
//! [`PeerConfirmed`], and only a `PeerConfirmed` builds a [`ConfirmedSession`].

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::handshake::{
    Confirm, DtlsFingerprint, HandshakeError, Hello, Mac, Role, TranscriptHash,
};
use crate::identity::{EphemeralSecret, IdentitySecret, Ikm, PublicKey};
use crate::keys::{ConfirmKey, KeySchedule, PairingKey, RecordKey, Sas, SessionSalt};
use crate::record::{RecordOpener, RecordSealer};

/// Both `hello`s exchanged; waiting for the offer and answer fingerprints.
#[derive(Debug)]
pub struct AwaitSdps {
    role: Role,
    salt: SessionSalt,
    identity: IdentitySecret,
    ephemeral: EphemeralSecret,
    own: Hello,
    peer: Hello,
}

impl AwaitSdps {
    pub(crate) fn new(
        role: Role,
        salt: SessionSalt,
        identity: IdentitySecret,
        ephemeral: EphemeralSecret,
        own: Hello,
        peer: Hello,
    ) -> Self {
        Self {
            role,
            salt,
            identity,
            ephemeral,
            own,
            peer,
        }
    }

    /// The peer's `hello`.
    pub fn peer_hello(&self) -> &Hello {
        &self.peer
    }

    /// Takes the offer's and the answer's fingerprints (own from the local description, the
    /// peer's from the received one); returns the next state and the `confirm` to send.
    pub fn handle_sdps(
        self,
        fp_offer: &DtlsFingerprint,
        fp_answer: &DtlsFingerprint,
    ) -> (AwaitConfirm, Confirm) {
        let (initiator, responder) = match self.role {
            Role::Initiator => (&self.own, &self.peer),
            Role::Responder => (&self.peer, &self.own),
        };
        let th = TranscriptHash::compute_labelled(
            self.salt.transcript_label(),
            initiator,
            responder,
            fp_offer,
            fp_answer,
        );
        let ikm = Ikm::compute(
            &self.ephemeral,
            &self.peer.ephemeral,
            &self.identity,
            &self.peer.identity,
        );
        let keys = KeySchedule::derive(&ikm, &self.salt, &th);
        let own_key = match self.role {
            Role::Initiator => &keys.confirm_initiator,
            Role::Responder => &keys.confirm_responder,
        };
        let confirm = Confirm {
            mac: Mac::from_bytes(mac(own_key, &th).finalize().into_bytes().into()),
        };
        let next = AwaitConfirm {
            role: self.role,
            th,
            keys,
            peer_identity: self.peer.identity,
        };
        (next, confirm)
    }
}

/// Own `confirm` sent; waiting for the peer's.
#[derive(Debug)]
pub struct AwaitConfirm {
    role: Role,
    th: TranscriptHash,
    keys: KeySchedule,
    peer_identity: PublicKey,
}

impl AwaitConfirm {
    /// The transcript hash of this session.
    pub fn transcript_hash(&self) -> &TranscriptHash {
        &self.th
    }

    /// Checks the peer's `confirm` in constant time.
    ///
    /// # Errors
    /// [`HandshakeError::BadConfirm`] if the MAC is wrong; the session must end and no file
    /// byte may move.
    pub fn handle_confirm(self, peer: &Confirm) -> Result<ConfirmedSession, HandshakeError> {
        let peer_key = match self.role {
            Role::Initiator => &self.keys.confirm_responder,
            Role::Responder => &self.keys.confirm_initiator,
        };
        mac(peer_key, &self.th)
            .verify_slice(peer.mac.as_bytes())
            .map_err(|_| HandshakeError::BadConfirm)?;
        let proof = PeerConfirmed(());
        let KeySchedule {
            record_initiator,
            record_responder,
            sas,
            pairing_key,
            ..
        } = self.keys;
        let (send, recv) = match self.role {
            Role::Initiator => (record_initiator, record_responder),
            Role::Responder => (record_responder, record_initiator),
        };
        Ok(ConfirmedSession {
            proof,
            role: self.role,
            send,
            recv,
            sas,
            pairing_key,
            peer_identity: self.peer_identity,
        })
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so new_from_slice cannot fail"
)]
fn mac(key: &ConfirmKey, th: &TranscriptHash) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(th.as_bytes());
    mac
}

/// Proof that the peer's `confirm` MAC verified. Only [`AwaitConfirm::handle_confirm`] makes
/// one; transfers take it, so no file byte moves on an unconfirmed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerConfirmed(());

impl PeerConfirmed {
    /// A proof for unit tests of code that needs one.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self(())
    }
}

/// A session whose peer proved it holds the same keys: the only source of record keys.
#[derive(Debug)]
pub struct ConfirmedSession {
    proof: PeerConfirmed,
    role: Role,
    send: RecordKey,
    recv: RecordKey,
    sas: Sas,
    pairing_key: PairingKey,
    peer_identity: PublicKey,
}

impl ConfirmedSession {
    /// The proof token, for [`crate::transfer`] constructors.
    pub fn proof(&self) -> PeerConfirmed {
        self.proof
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The verification code both devices can show.
    pub fn sas(&self) -> &Sas {
        &self.sas
    }

    /// The key to keep for a remembered device.
    pub fn pairing_key(&self) -> &PairingKey {
        &self.pairing_key
    }

    /// The peer's identity key (equal to the link's, on the responder).
    pub fn peer_identity(&self) -> &PublicKey {
        &self.peer_identity
    }

    /// The record layer for this session: a sealer with this role's key and an opener with
    /// the peer's. `max_record` is `min(peer max-message-size, MAX_RECORD_BYTES)`.
    pub fn into_records(self, max_record: usize) -> (RecordSealer, RecordOpener) {
        (
            RecordSealer::new(self.send, max_record),
            RecordOpener::new(self.recv),
        )
    }
}
