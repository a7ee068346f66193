//! The transcript hash `th` and the DTLS fingerprint it binds (`docs/protocol.md` §5.1).
//!
//! Each side computes `th` from both `hello`s and the offer and answer fingerprints, its own
//! taken from its local description: a rewritten SDP fingerprint makes the two `th` differ.

use sha2::{Digest as _, Sha256};

use crate::error::ErrorCode;
use crate::handshake::Hello;
use crate::keys::label;

/// A DTLS fingerprint in canonical form: `lowercase(algorithm) SP UPPERCASE(hex:with:colons)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DtlsFingerprint(String);

impl DtlsFingerprint {
    /// The canonical text that goes into the transcript.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an SDP has no usable fingerprint; maps to [`ErrorCode::PeerMisbehaved`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadSdp {
    /// The first `a=fingerprint:` line is not `<algorithm> <hex:pairs>`.
    #[error("malformed a=fingerprint line")]
    MalformedFingerprint,
    /// No line starts with `a=fingerprint:`.
    #[error("sdp has no a=fingerprint line")]
    NoFingerprint,
}

impl BadSdp {
    /// The catalogue code: always [`ErrorCode::PeerMisbehaved`].
    pub fn code(&self) -> ErrorCode {
        ErrorCode::PeerMisbehaved
    }
}

/// The fingerprint of the first line of `sdp` that starts with `a=fingerprint:`.
///
/// Lines end in `\n` or `\r\n`. The value is `<algorithm> <hex>`: the algorithm is letters,
/// digits and `-`; the hex is two-digit groups joined by `:`; one space between them, trailing
/// spaces ignored. The result is lowercased algorithm, one space, uppercased hex.
///
/// # Errors
/// [`BadSdp`] if there is no such line or it is malformed.
pub fn sdp_fingerprint(sdp: &str) -> Result<DtlsFingerprint, BadSdp> {
    let value = sdp
        .split('\n')
        .find_map(|line| line.strip_prefix("a=fingerprint:"))
        .ok_or(BadSdp::NoFingerprint)?;
    let value = value.trim_end_matches(['\r', ' ']);
    let (algorithm, hex) = value.split_once(' ').ok_or(BadSdp::MalformedFingerprint)?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let hex_ok = hex
        .split(':')
        .all(|pair| pair.len() == 2 && pair.bytes().all(|b| b.is_ascii_hexdigit()));
    if !algorithm_ok || !hex_ok || value.len() > usize::from(u16::MAX) {
        return Err(BadSdp::MalformedFingerprint);
    }
    Ok(DtlsFingerprint(format!(
        "{} {}",
        algorithm.to_ascii_lowercase(),
        hex.to_ascii_uppercase()
    )))
}

/// `th`: SHA-256 over the label, both `hello`s and both fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TranscriptHash([u8; 32]);

impl TranscriptHash {
    /// Hashes the transcript of §5.1 (first pairing).
    pub fn compute(
        initiator: &Hello,
        responder: &Hello,
        fp_offer: &DtlsFingerprint,
        fp_answer: &DtlsFingerprint,
    ) -> Self {
        Self::compute_labelled(label::TRANSCRIPT, initiator, responder, fp_offer, fp_answer)
    }

    /// Hashes a transcript under `label`: [`label::TRANSCRIPT`] when pairing,
    /// [`label::RECONNECT_TRANSCRIPT`] when remembered devices reconnect (§10.3).
    pub fn compute_labelled(
        label: &str,
        initiator: &Hello,
        responder: &Hello,
        fp_offer: &DtlsFingerprint,
        fp_answer: &DtlsFingerprint,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(label.as_bytes());
        for hello in [initiator, responder] {
            h.update(hello.identity.to_sec1());
            h.update(hello.ephemeral.to_sec1());
            h.update(hello.nonce.as_bytes());
        }
        for fp in [fp_offer, fp_answer] {
            // `sdp_fingerprint` refuses values longer than u16::MAX, so this never saturates.
            let len = u16::try_from(fp.0.len()).unwrap_or(u16::MAX);
            h.update(len.to_be_bytes());
            h.update(fp.0.as_bytes());
        }
        Self(h.finalize().into())
    }

    /// The 32 hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}
