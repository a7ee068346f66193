//! The key schedule (`docs/protocol.md` §3 and §5.2): HKDF labels, purpose-typed keys, the SAS.
//!
//! - [`PairingSecret`] (from the link) -> [`RoomId`] with [`label::ROOM`];
//! - `ikm` ([`Ikm`]), salt = pairing secret, transcript hash -> [`KeySchedule`]: one key per
//!   purpose, each with its own label.
//!
//! Every key is a distinct type whose `Debug` prints only its name. Bytes are exposed through
//! `as_bytes` for the record layer, storage and test vectors; nothing here logs them. The
//! asymmetric keys live in [`crate::identity`].

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::b64;
use crate::handshake::TranscriptHash;
use crate::identity::Ikm;
use crate::ids::RoomId;

/// HKDF labels (the `info` prefixes) and the transcript label, versioned, one per purpose.
pub mod label {
    /// Room id from the pairing secret.
    pub const ROOM: &str = "pairwise/v1/room";
    /// Prefix of the transcript hash input.
    pub const TRANSCRIPT: &str = "pairwise/v1/transcript";
    /// HMAC key for the initiator's `confirm`.
    pub const CONFIRM_INITIATOR: &str = "pairwise/v1/confirm/initiator";
    /// HMAC key for the responder's `confirm`.
    pub const CONFIRM_RESPONDER: &str = "pairwise/v1/confirm/responder";
    /// AES-256-GCM key for records the initiator sends.
    pub const RECORD_INITIATOR: &str = "pairwise/v1/record/initiator";
    /// AES-256-GCM key for records the responder sends.
    pub const RECORD_RESPONDER: &str = "pairwise/v1/record/responder";
    /// The 4 bytes behind the verification code.
    pub const SAS: &str = "pairwise/v1/sas";
    /// Key kept for remembered devices.
    pub const PAIRING_KEY: &str = "pairwise/v1/pairing-key";
    /// Daily room id of a remembered pair, from the pairing key (followed by `u32be(day)`).
    pub const DEVICE_ROOM: &str = "pairwise/v1/device-room";
    /// Prefix of the transcript hash input when remembered devices reconnect.
    pub const RECONNECT_TRANSCRIPT: &str = "pairwise/v1/reconnect-transcript";
    /// HMAC key for a `forgotten` notice, from the pairing key.
    pub const FORGET_KEY: &str = "pairwise/v1/forget-key";
    /// Prefix of the `forgotten` MAC input.
    pub const FORGOTTEN: &str = "pairwise/v1/forgotten";
    /// Room id from a pairing code (§2.1).
    pub const CODE_ROOM: &str = "pairwise/v1/code-room";
    /// Prefix of the code exchange's commitment input.
    pub const CODE_COMMIT: &str = "pairwise/v1/code-commit";
    /// Prefix of the code exchange's transcript hash input.
    pub const CODE_TRANSCRIPT: &str = "pairwise/v1/code";
    /// The 4 bytes behind the number people compare in the code exchange.
    pub const CODE_COMPARE: &str = "pairwise/v1/code-compare";
    /// The pairing secret `s` agreed by the code exchange.
    pub const CODE_SECRET: &str = "pairwise/v1/code-secret";
}

macro_rules! secret_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Wraps raw key bytes (from storage, a test vector, or the schedule).
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes. Never log them.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_bytes!(
    /// The 32-byte pairing secret `s` from the link: HKDF salt and room seed.
    PairingSecret,
    32
);
secret_bytes!(
    /// HMAC-SHA-256 key for one role's `confirm` MAC.
    ConfirmKey,
    32
);
secret_bytes!(
    /// AES-256-GCM key for the records one role sends.
    RecordKey,
    32
);
secret_bytes!(
    /// Long-term key both devices keep for a remembered pairing: the HKDF salt and room seed
    /// when they reconnect (§10).
    PairingKey,
    32
);
secret_bytes!(
    /// HMAC-SHA-256 key of the `forgotten` notice (§10.5).
    ForgetKey,
    32
);

impl PairingSecret {
    /// The signaling room: `b64u(HKDF(ikm = s, salt = "", info = "pairwise/v1/room", 16))`.
    pub fn room(&self) -> RoomId {
        let hk = Hkdf::<Sha256>::new(Some(&[]), &self.0);
        RoomId::from_derived(&b64::encode(&expand::<16>(&hk, label::ROOM, &[])))
    }
}

impl PairingKey {
    /// The room of a remembered pair on UTC day `day` (§10.1):
    /// `b64u(HKDF(ikm = pk, salt = "", info = "pairwise/v1/device-room" || u32be(day), 16))`.
    pub fn room(&self, day: u32) -> RoomId {
        let hk = Hkdf::<Sha256>::new(Some(&[]), &self.0);
        RoomId::from_derived(&b64::encode(&expand::<16>(
            &hk,
            label::DEVICE_ROOM,
            &day.to_be_bytes(),
        )))
    }

    /// The key of the `forgotten` notice: `HKDF(ikm = pk, salt = "", info =
    /// "pairwise/v1/forget-key", 32)`.
    pub fn forget_key(&self) -> ForgetKey {
        let hk = Hkdf::<Sha256>::new(Some(&[]), &self.0);
        ForgetKey(expand(&hk, label::FORGET_KEY, &[]))
    }
}

/// The salt of a session's key schedule: the link secret when pairing, the pairing key when
/// remembered devices reconnect. It also picks the transcript label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSalt {
    /// First pairing (§5): `s` from the link.
    Pairing(PairingSecret),
    /// Remembered devices (§10): the stored pairing key.
    Reconnect(PairingKey),
}

impl SessionSalt {
    /// The 32 salt bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        match self {
            Self::Pairing(s) => s.as_bytes(),
            Self::Reconnect(k) => k.as_bytes(),
        }
    }

    /// The transcript label for this kind of session.
    pub fn transcript_label(&self) -> &'static str {
        match self {
            Self::Pairing(_) => label::TRANSCRIPT,
            Self::Reconnect(_) => label::RECONNECT_TRANSCRIPT,
        }
    }
}

/// The short authentication string both people may compare: 4 bytes from the schedule.
#[derive(Clone, PartialEq, Eq)]
pub struct Sas([u8; 4]);

impl Sas {
    /// Wraps the 4 derived bytes.
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The 4 derived bytes.
    pub fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }

    /// Six digits, zero-padded: `u32be(bytes) mod 1 000 000`, e.g. `"042917"`.
    pub fn digits(&self) -> String {
        format!("{:06}", u32::from_be_bytes(self.0) % 1_000_000)
    }

    /// The digits as shown to people, in two groups: `"042 917"`.
    pub fn grouped(&self) -> String {
        let d = self.digits();
        format!("{} {}", &d[..3], &d[3..])
    }
}

impl fmt::Debug for Sas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sas(..)")
    }
}

/// Every key of one session, derived from `ikm`, the pairing secret and the transcript hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchedule {
    /// Keys the initiator's `confirm` MAC.
    pub confirm_initiator: ConfirmKey,
    /// Keys the responder's `confirm` MAC.
    pub confirm_responder: ConfirmKey,
    /// Seals what the initiator sends.
    pub record_initiator: RecordKey,
    /// Seals what the responder sends.
    pub record_responder: RecordKey,
    /// The verification code.
    pub sas: Sas,
    /// Kept for remembered devices.
    pub pairing_key: PairingKey,
}

impl KeySchedule {
    /// `K(label, L) = HKDF(ikm, salt, info = label || th, L)` for every label of §5.2; the
    /// salt is `s` when pairing and the pairing key when reconnecting (§10).
    pub fn derive(ikm: &Ikm, salt: &SessionSalt, th: &TranscriptHash) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(salt.as_bytes()), ikm.as_bytes());
        let th = th.as_bytes();
        Self {
            confirm_initiator: ConfirmKey(expand(&hk, label::CONFIRM_INITIATOR, th)),
            confirm_responder: ConfirmKey(expand(&hk, label::CONFIRM_RESPONDER, th)),
            record_initiator: RecordKey(expand(&hk, label::RECORD_INITIATOR, th)),
            record_responder: RecordKey(expand(&hk, label::RECORD_RESPONDER, th)),
            sas: Sas(expand(&hk, label::SAS, th)),
            pairing_key: PairingKey(expand(&hk, label::PAIRING_KEY, th)),
        }
    }
}

#[expect(
    clippy::expect_used,
    reason = "HKDF-SHA-256 expands up to 8160 bytes; every caller asks for at most 32"
)]
pub(crate) fn expand<const L: usize>(hk: &Hkdf<Sha256>, label: &str, th: &[u8]) -> [u8; L] {
    let mut out = [0u8; L];
    hk.expand_multi_info(&[label.as_bytes(), th], &mut out)
        .expect("L <= 32 is a valid HKDF-SHA-256 output length");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 appendix A.1, test case 1, typed in from the RFC text.
    #[test]
    fn hkdf_matches_rfc5869_test_case_1() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let hk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
        let mut okm = [0u8; 42];
        hk.expand(&info, &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
             34007208d5b887185865"
        );
    }

    #[test]
    fn sas_is_six_zero_padded_digits() {
        let sas = Sas::from_bytes(0x0000_a3e5_u32.to_be_bytes());
        assert_eq!(sas.digits(), "041957");
        assert_eq!(sas.grouped(), "041 957");
        let sas = Sas::from_bytes([0xff; 4]);
        assert_eq!(sas.digits(), format!("{}", u32::MAX % 1_000_000));
    }

    #[test]
    fn keys_print_no_bytes() {
        let key = RecordKey::from_bytes([7; 32]);
        assert_eq!(format!("{key:?}"), "RecordKey(..)");
        assert_eq!(
            format!("{:?}", PairingSecret::from_bytes([7; 32])),
            "PairingSecret(..)"
        );
    }

    #[test]
    fn room_is_22_characters_and_depends_on_the_secret() {
        let a = PairingSecret::from_bytes([1; 32]).room();
        let b = PairingSecret::from_bytes([2; 32]).room();
        assert_eq!(a.as_str().len(), 22);
        assert_ne!(a, b);
    }
}
