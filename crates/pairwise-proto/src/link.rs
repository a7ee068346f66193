//! The pairing link shown as a QR code (`docs/protocol.md` §2).
//!
//! `<origin>/#pair=b64u(0x02 || s[32] || I_init_pub compressed[33])`. This module encodes and
//! parses the fragment (`pair=…`, with or without the leading `#`); the origin is the caller's.
//! It writes version 2 (88 characters, so that the terminal's QR code fits 80×24) and still reads
//! version 1 (`0x01 || s[32] || I_init_pub[65]`, 131 characters) from older peers. A
//! [`PairingLink`] always holds a valid secret and a valid P-256 point.

use crate::b64;
use crate::error::ErrorCode;
use crate::identity::{COMPRESSED_PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES, PublicKey};
use crate::ids::RoomId;
use crate::keys::PairingSecret;

/// The link version byte this side writes: the key compressed.
pub const LINK_VERSION: u8 = 0x02;

/// Bytes of the decoded link payload this side writes: version, secret, compressed key (66).
pub const LINK_PAYLOAD_BYTES: usize = 1 + 32 + COMPRESSED_PUBLIC_KEY_BYTES;

/// The older link version, still read: the key uncompressed.
pub const LINK_VERSION_1: u8 = 0x01;

/// Bytes of a version 1 payload: version, secret, uncompressed key (98).
pub const LINK_V1_PAYLOAD_BYTES: usize = 1 + 32 + PUBLIC_KEY_BYTES;

const PARAM: &str = "pair=";

/// What a responder learns from the QR code: the pairing secret and the initiator's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingLink {
    secret: PairingSecret,
    initiator: PublicKey,
}

/// Why a link fragment was refused; every variant maps to [`ErrorCode::BadLink`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadLink {
    /// The payload is not canonical base64url.
    #[error("pairing link is not base64url")]
    Base64,
    /// The public key is not a valid P-256 point.
    #[error("pairing link key is not a P-256 point")]
    Key,
    /// The payload has the wrong length for its version (or is empty).
    #[error("pairing link payload of {len} bytes, expected {expected}")]
    Length {
        /// Bytes decoded.
        len: usize,
        /// [`LINK_PAYLOAD_BYTES`] or [`LINK_V1_PAYLOAD_BYTES`], by the version byte.
        expected: usize,
    },
    /// No `pair=` parameter, or more than one.
    #[error("fragment has no single pair= parameter")]
    MissingPair,
    /// A version byte other than [`LINK_VERSION`] and [`LINK_VERSION_1`].
    #[error("pairing link version {got} is not supported")]
    Version {
        /// The version byte found.
        got: u8,
    },
}

impl BadLink {
    /// The catalogue code: always [`ErrorCode::BadLink`].
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BadLink
    }
}

impl PairingLink {
    /// A link for the initiator's fresh secret and identity key.
    pub fn new(secret: PairingSecret, initiator: PublicKey) -> Self {
        Self { secret, initiator }
    }

    /// Parses a URL fragment: `&`-separated parameters, exactly one of them `pair=<b64u>`, an
    /// optional leading `#`.
    ///
    /// # Errors
    /// A [`BadLink`] naming the first problem.
    pub fn parse_fragment(fragment: &str) -> Result<Self, BadLink> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let mut params = fragment.split('&').filter_map(|p| p.strip_prefix(PARAM));
        let (Some(payload), None) = (params.next(), params.next()) else {
            return Err(BadLink::MissingPair);
        };
        let bytes = b64::decode(payload).map_err(|_| BadLink::Base64)?;
        let expected = match bytes.first() {
            Some(&LINK_VERSION) => LINK_PAYLOAD_BYTES,
            Some(&LINK_VERSION_1) => LINK_V1_PAYLOAD_BYTES,
            Some(&got) => return Err(BadLink::Version { got }),
            None => LINK_PAYLOAD_BYTES,
        };
        if bytes.len() != expected {
            return Err(BadLink::Length {
                len: bytes.len(),
                expected,
            });
        }
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&bytes[1..33]);
        let initiator = if bytes[0] == LINK_VERSION {
            PublicKey::from_sec1_compressed(&bytes[33..])
        } else {
            PublicKey::from_sec1(&bytes[33..])
        }
        .map_err(|_| BadLink::Key)?;
        Ok(Self {
            secret: PairingSecret::from_bytes(secret),
            initiator,
        })
    }

    /// The fragment without `#`: `pair=` and 88 base64url characters (version 2).
    pub fn fragment(&self) -> String {
        let mut payload = Vec::with_capacity(LINK_PAYLOAD_BYTES);
        payload.push(LINK_VERSION);
        payload.extend_from_slice(self.secret.as_bytes());
        payload.extend_from_slice(&self.initiator.to_sec1_compressed());
        format!("{PARAM}{}", b64::encode(&payload))
    }

    /// The version 1 fragment an older peer writes (131 characters): for tests and vectors
    /// that check this side still reads it.
    pub fn fragment_v1(&self) -> String {
        let mut payload = Vec::with_capacity(LINK_V1_PAYLOAD_BYTES);
        payload.push(LINK_VERSION_1);
        payload.extend_from_slice(self.secret.as_bytes());
        payload.extend_from_slice(&self.initiator.to_sec1());
        format!("{PARAM}{}", b64::encode(&payload))
    }

    /// The pairing secret `s`.
    pub fn secret(&self) -> &PairingSecret {
        &self.secret
    }

    /// The initiator's identity public key, which its `hello` must repeat.
    pub fn initiator(&self) -> &PublicKey {
        &self.initiator
    }

    /// The signaling room both devices join.
    pub fn room(&self) -> RoomId {
        self.secret.room()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentitySecret;

    fn link() -> PairingLink {
        let key = p256::SecretKey::from_slice(&[5; 32]).unwrap();
        PairingLink::new(
            PairingSecret::from_bytes([9; 32]),
            IdentitySecret::new(key).public(),
        )
    }

    #[test]
    fn fragment_round_trips_and_has_88_payload_chars() {
        let link = link();
        let fragment = link.fragment();
        assert_eq!(fragment.len(), PARAM.len() + 88);
        assert_eq!(PairingLink::parse_fragment(&fragment).unwrap(), link);
        let v1 = link.fragment_v1();
        assert_eq!(v1.len(), PARAM.len() + 131);
        assert_eq!(PairingLink::parse_fragment(&v1).unwrap(), link);
        assert_eq!(
            PairingLink::parse_fragment(&format!("#x=1&{fragment}")).unwrap(),
            link
        );
    }

    #[test]
    fn missing_or_repeated_pair_parameter_is_refused() {
        let f = link().fragment();
        for bad in ["", "#", "x=1", "pair", &format!("{f}&{f}")] {
            assert_eq!(
                PairingLink::parse_fragment(bad),
                Err(BadLink::MissingPair),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrong_length_version_or_key_is_refused() {
        let key = link().initiator().clone();
        let payload = |version: u8, key: &[u8]| {
            let mut p = vec![version];
            p.extend_from_slice(&[9; 32]);
            p.extend_from_slice(key);
            p
        };
        let frag = |p: &[u8]| format!("pair={}", b64::encode(p));
        let v2 = payload(LINK_VERSION, &key.to_sec1_compressed());
        let v1 = payload(LINK_VERSION_1, &key.to_sec1());
        assert!(matches!(
            PairingLink::parse_fragment(&frag(&v2[..65])),
            Err(BadLink::Length {
                len: 65,
                expected: 66
            })
        ));
        assert!(matches!(
            PairingLink::parse_fragment(&frag(&v1[..97])),
            Err(BadLink::Length {
                len: 97,
                expected: 98
            })
        ));
        // Each version with the other's key encoding.
        for (version, key) in [
            (LINK_VERSION, key.to_sec1().to_vec()),
            (LINK_VERSION_1, key.to_sec1_compressed().to_vec()),
        ] {
            assert!(matches!(
                PairingLink::parse_fragment(&frag(&payload(version, &key))),
                Err(BadLink::Length { .. })
            ));
        }
        let mut v3 = v2.clone();
        v3[0] = 3;
        assert_eq!(
            PairingLink::parse_fragment(&frag(&v3)),
            Err(BadLink::Version { got: 3 })
        );
        let mut off = v1.clone();
        off[97] ^= 1;
        assert_eq!(PairingLink::parse_fragment(&frag(&off)), Err(BadLink::Key));
        let mut prefix = v2.clone();
        prefix[33] = 0x04;
        assert_eq!(
            PairingLink::parse_fragment(&frag(&prefix)),
            Err(BadLink::Key)
        );
        assert_eq!(
            PairingLink::parse_fragment("pair=a+b"),
            Err(BadLink::Base64)
        );
        assert_eq!(
            PairingLink::parse_fragment("pair="),
            Err(BadLink::Length {
                len: 0,
                expected: 66
            })
        );
        assert_eq!(BadLink::Base64.code(), ErrorCode::BadLink);
    }
}
