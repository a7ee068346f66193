//! AEAD records on the data channel (`docs/protocol.md` §6).
//!
//! `record = AES-256-GCM(key, nonce = 0x00000000 || u64be(seq), aad = empty,
//! plaintext = flags[1] || inner)`: the record is ciphertext || tag, and the flags byte is the
//! first plaintext byte (so a browser can send WebCrypto's output as-is). The sequence number
//! is implicit: [`RecordSealer`] and [`RecordOpener`] each count
//! from 0, so a dropped, replayed, duplicated or reordered record fails authentication. An
//! opener that rejected one record rejects every later one: the session is over. What the
//! inner bytes mean is [`crate::transfer`]'s business.

use aes_gcm::aead::{Aead as _, AeadInPlace as _, KeyInit as _};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::error::ErrorCode;
use crate::keys::RecordKey;
use crate::limits::MAX_RECORD_BYTES;

/// Bytes a record adds to its inner message: the (encrypted) flags byte and the 16-byte tag.
pub const RECORD_OVERHEAD: usize = 1 + TAG_BYTES;

const TAG_BYTES: usize = 16;

/// Flag bit 0: the last chunk of a file.
pub const FLAG_FINAL: u8 = 0x01;

/// Seals inner messages into records with this side's key and sequence numbers.
pub struct RecordSealer {
    cipher: Aes256Gcm,
    seq: u64,
    max_record: usize,
}

/// Opens the peer's records with the peer's key, expecting sequence numbers in order.
pub struct RecordOpener {
    cipher: Aes256Gcm,
    seq: u64,
    failed: bool,
}

/// An opened record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The inner message.
    pub inner: Vec<u8>,
    /// Whether the FINAL flag was set.
    pub is_final: bool,
}

/// Why a record could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Authentication failed: wrong key, wrong sequence number or tampered bytes.
    #[error("record {seq} failed authentication")]
    Rejected {
        /// The sequence number the opener expected.
        seq: u64,
    },
    /// An earlier record was rejected; the session is over.
    #[error("an earlier record was rejected")]
    SessionFailed,
    /// The sequence number would wrap.
    #[error("sequence numbers exhausted")]
    SeqExhausted,
    /// Too large to be a record (opening) or to fit in one (sealing).
    #[error("record of {len} bytes exceeds {max}")]
    TooLarge {
        /// Record bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Shorter than the flags byte and the tag.
    #[error("record of {len} bytes is shorter than {RECORD_OVERHEAD}")]
    TooShort {
        /// Record bytes.
        len: usize,
    },
    /// The decrypted flags byte has bits other than FINAL set.
    #[error("unknown record flags {flags:#04x}")]
    UnknownFlags {
        /// The flags byte.
        flags: u8,
    },
}

impl RecordError {
    /// The catalogue code: always [`ErrorCode::RecordRejected`]; the session ends.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::RecordRejected
    }
}

impl RecordSealer {
    /// A sealer starting at sequence 0. `max_record` is capped at [`MAX_RECORD_BYTES`] and
    /// raised to at least [`RECORD_OVERHEAD`] + 1 (room for a type byte).
    pub fn new(key: RecordKey, max_record: usize) -> Self {
        Self {
            cipher: Aes256Gcm::new(&(*key.as_bytes()).into()),
            seq: 0,
            max_record: max_record.clamp(RECORD_OVERHEAD + 1, MAX_RECORD_BYTES),
        }
    }

    /// Starts at sequence `seq` instead of 0. Only for test vectors: sealing two records with
    /// the same key and sequence number reuses a GCM nonce and breaks confidentiality.
    pub fn danger_with_seq(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// The largest record this sealer produces.
    pub fn max_record(&self) -> usize {
        self.max_record
    }

    /// The largest inner message that fits in one record.
    pub fn max_inner(&self) -> usize {
        self.max_record - RECORD_OVERHEAD
    }

    /// Seals `inner` as the next record, with FINAL set if `is_final`.
    ///
    /// # Errors
    /// [`RecordError::TooLarge`] if `inner` exceeds [`Self::max_inner`],
    /// [`RecordError::SeqExhausted`] after 2^64 - 1 records.
    pub fn seal(&mut self, inner: &[u8], is_final: bool) -> Result<Vec<u8>, RecordError> {
        self.danger_seal_with_flags(inner, if is_final { FLAG_FINAL } else { 0 })
    }

    /// Seals `inner` as the next record with an arbitrary flags byte, including bits no opener
    /// accepts. Only for test vectors and tests; use [`Self::seal`].
    ///
    /// # Errors
    /// As [`Self::seal`].
    pub fn danger_seal_with_flags(
        &mut self,
        inner: &[u8],
        flags: u8,
    ) -> Result<Vec<u8>, RecordError> {
        if inner.len() > self.max_inner() {
            return Err(RecordError::TooLarge {
                len: inner.len() + RECORD_OVERHEAD,
                max: self.max_record,
            });
        }
        let next = self.seq.checked_add(1).ok_or(RecordError::SeqExhausted)?;
        let mut record = Vec::with_capacity(inner.len() + RECORD_OVERHEAD);
        record.push(flags);
        record.extend_from_slice(inner);
        self.cipher
            .encrypt_in_place(&nonce(self.seq), &[], &mut record)
            .map_err(|_| RecordError::TooLarge {
                len: inner.len() + RECORD_OVERHEAD,
                max: self.max_record,
            })?;
        self.seq = next;
        Ok(record)
    }
}

impl RecordOpener {
    /// An opener expecting sequence 0 first.
    pub fn new(key: RecordKey) -> Self {
        Self {
            cipher: Aes256Gcm::new(&(*key.as_bytes()).into()),
            seq: 0,
            failed: false,
        }
    }

    /// Expects sequence `seq` next instead of 0 (test vectors and tests).
    pub fn with_seq(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// Opens the next record.
    ///
    /// # Errors
    /// A [`RecordError`] for a record that is too short or too long (checked before
    /// decrypting), fails authentication, or decrypts to a flags byte with unknown bits; after any error, [`RecordError::SessionFailed`] forever.
    pub fn open(&mut self, record: &[u8]) -> Result<Opened, RecordError> {
        if self.failed {
            return Err(RecordError::SessionFailed);
        }
        let result = self.open_inner(record);
        self.failed = result.is_err();
        result
    }

    fn open_inner(&mut self, record: &[u8]) -> Result<Opened, RecordError> {
        if record.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge {
                len: record.len(),
                max: MAX_RECORD_BYTES,
            });
        }
        if record.len() < RECORD_OVERHEAD {
            return Err(RecordError::TooShort { len: record.len() });
        }
        let next = self.seq.checked_add(1).ok_or(RecordError::SeqExhausted)?;
        let mut inner = self
            .cipher
            .decrypt(&nonce(self.seq), record)
            .map_err(|_| RecordError::Rejected { seq: self.seq })?;
        // Never empty: the record held at least one plaintext byte besides the tag.
        let Some(&flags) = inner.first() else {
            return Err(RecordError::TooShort { len: record.len() });
        };
        if flags & !FLAG_FINAL != 0 {
            return Err(RecordError::UnknownFlags { flags });
        }
        inner.remove(0);
        self.seq = next;
        Ok(Opened {
            inner,
            is_final: flags & FLAG_FINAL != 0,
        })
    }
}

fn nonce(seq: u64) -> Nonce<aes_gcm::aead::consts::U12> {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n.into()
}

impl std::fmt::Debug for RecordSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSealer")
            .field("seq", &self.seq)
            .field("max_record", &self.max_record)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RecordOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordOpener")
            .field("seq", &self.seq)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
