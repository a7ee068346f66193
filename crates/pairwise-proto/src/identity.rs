//! P-256 key material of the handshake (`docs/protocol.md` §1): public keys, the identity and
//! ephemeral private keys, nonces, and the ECDH input keying material.
//!
//! Private keys and nonces are passed in by the caller (from its RNG or keystore); nothing here
//! draws randomness. Public keys are always 65-byte uncompressed SEC1 on the wire, as
//! base64url in JSON. The symmetric schedule lives in [`crate::keys`].

use std::fmt;

use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::b64;

/// Bytes of an uncompressed SEC1 P-256 public key.
pub const PUBLIC_KEY_BYTES: usize = 65;

/// Bytes of a compressed SEC1 P-256 public key (`0x02`/`0x03` || X), as the pairing link
/// carries it.
pub const COMPRESSED_PUBLIC_KEY_BYTES: usize = 33;

/// Bytes of a handshake nonce.
pub const NONCE_BYTES: usize = 32;

/// A valid P-256 public key (identity or ephemeral).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey(p256::PublicKey);

/// Why bytes are not a P-256 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a 65-byte uncompressed P-256 public key on the curve")]
pub struct BadPublicKey;

impl PublicKey {
    /// Parses a 65-byte uncompressed SEC1 point, refusing other encodings and points that are
    /// not on the curve.
    ///
    /// # Errors
    /// [`BadPublicKey`] for anything else.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, BadPublicKey> {
        if bytes.len() != PUBLIC_KEY_BYTES || bytes[0] != 0x04 {
            return Err(BadPublicKey);
        }
        p256::PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| BadPublicKey)
    }

    /// Parses a 33-byte compressed SEC1 point (`0x02`/`0x03` || X), refusing other encodings
    /// and an X that is no point's on the curve.
    ///
    /// # Errors
    /// [`BadPublicKey`] for anything else.
    pub fn from_sec1_compressed(bytes: &[u8]) -> Result<Self, BadPublicKey> {
        if bytes.len() != COMPRESSED_PUBLIC_KEY_BYTES || !matches!(bytes[0], 0x02 | 0x03) {
            return Err(BadPublicKey);
        }
        p256::PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| BadPublicKey)
    }

    /// The 33-byte compressed SEC1 encoding `0x02`/`0x03` (the parity of Y) `|| X`.
    pub fn to_sec1_compressed(&self) -> [u8; COMPRESSED_PUBLIC_KEY_BYTES] {
        let point = self.0.to_encoded_point(true);
        let mut out = [0u8; COMPRESSED_PUBLIC_KEY_BYTES];
        // A compressed P-256 point is always 33 bytes.
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The 65-byte uncompressed SEC1 encoding `0x04 || X || Y`.
    pub fn to_sec1(&self) -> [u8; PUBLIC_KEY_BYTES] {
        let point = self.0.to_encoded_point(false);
        let mut out = [0u8; PUBLIC_KEY_BYTES];
        // An uncompressed P-256 point is always 65 bytes.
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The device fingerprint `SHA-256(I_pub)`.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.to_sec1()).into()
    }

    /// A short, stable form for logs: the first 4 fingerprint bytes in hex.
    pub fn fmt_short(&self) -> String {
        self.fingerprint()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl TryFrom<String> for PublicKey {
    type Error = BadPublicKey;
    fn try_from(s: String) -> Result<Self, BadPublicKey> {
        let bytes = b64::decode(&s).map_err(|_| BadPublicKey)?;
        Self::from_sec1(&bytes)
    }
}

impl From<PublicKey> for String {
    fn from(k: PublicKey) -> Self {
        b64::encode(&k.to_sec1())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}..)", self.fmt_short())
    }
}

/// A device's long-term identity private key.
#[derive(Clone)]
pub struct IdentitySecret(p256::SecretKey);

/// A per-session ephemeral private key; consumed by the handshake.
pub struct EphemeralSecret(p256::SecretKey);

macro_rules! private_key {
    ($name:ident) => {
        impl $name {
            /// Wraps a P-256 private key the caller generated or loaded.
            pub fn new(key: p256::SecretKey) -> Self {
                Self(key)
            }

            /// The matching public key.
            pub fn public(&self) -> PublicKey {
                PublicKey(self.0.public_key())
            }

            /// `ECDH(self, peer)`: the X coordinate of the shared point.
            pub(crate) fn ecdh(&self, peer: &PublicKey) -> [u8; 32] {
                let shared =
                    p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.0.as_affine());
                (*shared.raw_secret_bytes()).into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

private_key!(IdentitySecret);
private_key!(EphemeralSecret);

/// A 32-byte handshake nonce, fresh per session; base64url in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HandshakeNonce([u8; NONCE_BYTES]);

impl HandshakeNonce {
    /// Wraps 32 random bytes from the caller.
    pub fn from_bytes(bytes: [u8; NONCE_BYTES]) -> Self {
        Self(bytes)
    }

    /// The nonce bytes.
    pub fn as_bytes(&self) -> &[u8; NONCE_BYTES] {
        &self.0
    }
}

impl TryFrom<String> for HandshakeNonce {
    type Error = b64::BadBase64;
    fn try_from(s: String) -> Result<Self, b64::BadBase64> {
        b64::decode_array(&s).map(Self)
    }
}

impl From<HandshakeNonce> for String {
    fn from(n: HandshakeNonce) -> Self {
        b64::encode(&n.0)
    }
}

/// The 64-byte input keying material `ECDH(E_self, E_peer) || ECDH(I_self, I_peer)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Ikm([u8; 64]);

impl Ikm {
    /// Computes both Diffie-Hellman shares; both sides get the same bytes.
    pub fn compute(
        own_ephemeral: &EphemeralSecret,
        peer_ephemeral: &PublicKey,
        own_identity: &IdentitySecret,
        peer_identity: &PublicKey,
    ) -> Self {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&own_ephemeral.ecdh(peer_ephemeral));
        out[32..].copy_from_slice(&own_identity.ecdh(peer_identity));
        Self(out)
    }

    /// The 64 bytes. Never log them.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Ikm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ikm(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> p256::SecretKey {
        p256::SecretKey::from_slice(&[byte; 32]).unwrap()
    }

    #[test]
    fn public_key_round_trips_through_sec1_and_json() {
        let key = IdentitySecret::new(secret(1)).public();
        assert_eq!(PublicKey::from_sec1(&key.to_sec1()).unwrap(), key);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
    }

    #[test]
    fn compressed_off_curve_and_short_keys_are_refused() {
        let sec1 = IdentitySecret::new(secret(1)).public().to_sec1();
        let compressed = p256::PublicKey::from_sec1_bytes(&sec1)
            .unwrap()
            .to_encoded_point(true);
        assert_eq!(
            PublicKey::from_sec1(compressed.as_bytes()),
            Err(BadPublicKey)
        );
        let mut off = sec1;
        off[64] ^= 1;
        assert_eq!(PublicKey::from_sec1(&off), Err(BadPublicKey));
        assert_eq!(PublicKey::from_sec1(&sec1[..64]), Err(BadPublicKey));
        assert_eq!(PublicKey::from_sec1(&[0u8; 65]), Err(BadPublicKey));
    }

    #[test]
    fn compressed_key_round_trips_and_uncompressed_or_short_ones_are_refused() {
        let key = IdentitySecret::new(secret(1)).public();
        let compressed = key.to_sec1_compressed();
        assert_eq!(PublicKey::from_sec1_compressed(&compressed).unwrap(), key);
        assert_eq!(compressed[1..], key.to_sec1()[1..33]);
        assert_eq!(
            PublicKey::from_sec1_compressed(&key.to_sec1()),
            Err(BadPublicKey)
        );
        assert_eq!(
            PublicKey::from_sec1_compressed(&compressed[..32]),
            Err(BadPublicKey)
        );
        let mut prefix = compressed;
        prefix[0] = 0x04;
        assert_eq!(PublicKey::from_sec1_compressed(&prefix), Err(BadPublicKey));
        // X = 2^256 - 1 is not below the field prime.
        let mut too_big = [0xff; 33];
        too_big[0] = 0x02;
        assert_eq!(PublicKey::from_sec1_compressed(&too_big), Err(BadPublicKey));
    }

    #[test]
    fn both_sides_compute_the_same_ikm() {
        let (ia, ea) = (
            IdentitySecret::new(secret(1)),
            EphemeralSecret::new(secret(2)),
        );
        let (ib, eb) = (
            IdentitySecret::new(secret(3)),
            EphemeralSecret::new(secret(4)),
        );
        let a = Ikm::compute(&ea, &eb.public(), &ia, &ib.public());
        let b = Ikm::compute(&eb, &ea.public(), &ib, &ia.public());
        assert_eq!(a, b);
    }

    #[test]
    fn private_keys_print_no_bytes() {
        assert_eq!(
            format!("{:?}", IdentitySecret::new(secret(1))),
            "IdentitySecret(..)"
        );
    }
}
