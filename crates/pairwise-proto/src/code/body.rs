//! The bodies of the code exchange (§2.1's table) and what is computed from them: the
//! commitment, the transcript `th_c`, and from `ECDH(E_i, E_r)` the number and the secret `s`.

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{CodeError, CodeNumber};
use crate::b64;
use crate::identity::{EphemeralSecret, HandshakeNonce, PublicKey};
use crate::keys::{PairingSecret, expand, label};

/// A relayed body of the code exchange, parsed strictly (exact fields, valid P-256 points,
/// 32-byte nonces and commitment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CodeBody {
    /// The initiator's commitment, sent when the responder has joined.
    CodeCommit {
        /// `SHA-256("pairwise/v1/code-commit" || E_i_pub || N_i || I_init_pub)`.
        commit: Commitment,
    },
    /// The responder's ephemeral key and nonce, sent on the commitment.
    CodeKey {
        /// `E_r_pub`.
        ephemeral: PublicKey,
        /// `N_r`.
        nonce: HandshakeNonce,
    },
    /// The initiator opens its commitment, on the responder's key.
    CodeOpen {
        /// `E_i_pub`.
        ephemeral: PublicKey,
        /// `N_i`.
        nonce: HandshakeNonce,
        /// `I_init_pub`: the identity its `hello` will carry.
        identity: PublicKey,
    },
    /// The initiator's person said the numbers match. Not authenticated.
    CodeMatch {},
}

impl CodeBody {
    /// Parses a relayed body strictly.
    ///
    /// # Errors
    /// [`CodeError::Misbehaved`] for anything but one of the four bodies, exactly.
    pub fn parse(body: &serde_json::Value) -> Result<Self, CodeError> {
        // serde's tagged enums also read an array (tag first); a body is an object.
        if !body.is_object() {
            return Err(CodeError::Misbehaved(
                "a body that is not an object".to_owned(),
            ));
        }
        Self::deserialize(body).map_err(|e| CodeError::Misbehaved(format!("malformed body: {e}")))
    }

    /// The `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CodeCommit { .. } => "code-commit",
            Self::CodeKey { .. } => "code-key",
            Self::CodeOpen { .. } => "code-open",
            Self::CodeMatch {} => "code-match",
        }
    }

    /// The JSON body to relay.
    pub fn to_value(&self) -> serde_json::Value {
        // Serialising these types cannot fail: every field is a string.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The 32-byte commitment of `code-commit`; base64url in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Commitment([u8; 32]);

impl Commitment {
    /// `SHA-256("pairwise/v1/code-commit" || E_i_pub || N_i || I_init_pub)`.
    pub fn compute(ephemeral: &PublicKey, nonce: &HandshakeNonce, identity: &PublicKey) -> Self {
        let mut h = Sha256::new();
        h.update(label::CODE_COMMIT);
        h.update(ephemeral.to_sec1());
        h.update(nonce.as_bytes());
        h.update(identity.to_sec1());
        Self(h.finalize().into())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `other` is the same commitment, in constant time.
    pub(crate) fn matches(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.ct_eq(&other.0).into()
    }
}

impl TryFrom<String> for Commitment {
    type Error = b64::BadBase64;
    fn try_from(s: String) -> Result<Self, b64::BadBase64> {
        b64::decode_array(&s).map(Self)
    }
}

impl From<Commitment> for String {
    fn from(c: Commitment) -> Self {
        b64::encode(&c.0)
    }
}

/// `th_c`: what both sides saw of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeTranscript([u8; 32]);

impl CodeTranscript {
    /// `SHA-256("pairwise/v1/code" || commit || E_i_pub || N_i || I_init_pub || E_r_pub ||
    /// N_r)`.
    pub fn compute(
        commit: &Commitment,
        init_ephemeral: &PublicKey,
        init_nonce: &HandshakeNonce,
        identity: &PublicKey,
        resp_ephemeral: &PublicKey,
        resp_nonce: &HandshakeNonce,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(label::CODE_TRANSCRIPT);
        h.update(commit.as_bytes());
        h.update(init_ephemeral.to_sec1());
        h.update(init_nonce.as_bytes());
        h.update(identity.to_sec1());
        h.update(resp_ephemeral.to_sec1());
        h.update(resp_nonce.as_bytes());
        Self(h.finalize().into())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The number to compare and the pairing secret `s`: `K_c(label, L) = HKDF(ikm =
/// ECDH(E_own, E_peer), salt = "", info = label || th_c, L)` with `pairwise/v1/code-compare`
/// (4 bytes) and `pairwise/v1/code-secret` (32).
pub fn code_secrets(
    own_ephemeral: &EphemeralSecret,
    peer_ephemeral: &PublicKey,
    th: &CodeTranscript,
) -> (CodeNumber, PairingSecret) {
    let shared = own_ephemeral.ecdh(peer_ephemeral);
    let hk = Hkdf::<Sha256>::new(Some(&[]), &shared);
    let number = CodeNumber::from_bytes(expand(&hk, label::CODE_COMPARE, th.as_bytes()));
    let secret = PairingSecret::from_bytes(expand(&hk, label::CODE_SECRET, th.as_bytes()));
    (number, secret)
}
