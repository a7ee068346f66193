//! AEAD records on the data channel (`docs/protocol.md` §6).
//!
//! `record = AES-256-GCM(key, nonce = 0x00000000 || u64be(seq), aad = empty,
//! plaintext = flags[1] || inner)`: the record is ciphertext || tag, and the flags byte is the
//! first plaintext byte (so a browser can send WebCrypto's output as-is). The sequence number
//! is implicit: [`RecordSealer`] and [`RecordOpener`] each count
//! from 0, so a dropped, replayed, duplicated or reordered record fails authentication. An
//! opener that rejected one record rejects every later one: the session is over. What the
//! inner bytes mean is [`crate::transfer`]'s business.
//!
//! AES-256-GCM is *ring*'s (already in the binary for TLS and DTLS): it uses AES-NI and
//! carry-less multiplication where the CPU has them. Bulk data goes through the in-place forms,
//! [`RecordSealer::seal_in_place`] and [`RecordOpener::open_in_place`], so a file chunk is
//! encrypted and decrypted in the buffer it was read into or arrived in, without a copy.

use std::ops::Range;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::ErrorCode;
use crate::keys::RecordKey;
use crate::limits::MAX_RECORD_BYTES;

/// Bytes a record adds to its inner message: the (encrypted) flags byte and the 16-byte tag.
pub const RECORD_OVERHEAD: usize = 1 + TAG_BYTES;

const TAG_BYTES: usize = 16;

/// Flag bit 0: the last chunk of a file.
pub const FLAG_FINAL: u8 = 0x01;

/// Where the inner message starts in a buffer for [`RecordSealer::seal_in_place`]: after the
/// one byte the flags go into.
pub const INNER_OFFSET: usize = 1;

/// Bytes in front of a record in a frame (§12): its sequence number, `u64be`.
pub const FRAME_HEADER: usize = 8;

/// Seals inner messages into records with this side's key and sequence numbers.
pub struct RecordSealer {
    cipher: LessSafeKey,
    seq: u64,
    max_record: usize,
}

/// Opens the peer's records with the peer's key, expecting sequence numbers in order.
pub struct RecordOpener {
    cipher: LessSafeKey,
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

/// A record opened in place by [`RecordOpener::open_in_place`]: the inner message is
/// `record[inner]`, decrypted where the ciphertext was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedInPlace {
    /// Where the inner message is in the record's buffer.
    pub inner: Range<usize>,
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
            cipher: cipher(&key),
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
        let mut record = Vec::with_capacity(inner.len() + RECORD_OVERHEAD);
        record.push(flags);
        record.extend_from_slice(inner);
        self.seal_with_flags_in_place(&mut record, flags)?;
        Ok(record)
    }

    /// Seals the next record in place, without copying: `buf` holds one byte of room for the
    /// flags (its value is overwritten) followed by the inner message, from [`INNER_OFFSET`].
    /// On success `buf` is the record: the bytes are encrypted where they are and the 16-byte
    /// tag is appended (reserve room for it to avoid a reallocation). On error `buf` is
    /// unchanged and no sequence number is used.
    ///
    /// # Errors
    /// As [`Self::seal`]; [`RecordError::TooShort`] for an empty `buf`.
    pub fn seal_in_place(&mut self, buf: &mut Vec<u8>, is_final: bool) -> Result<(), RecordError> {
        self.seal_with_flags_in_place(buf, if is_final { FLAG_FINAL } else { 0 })
    }

    /// Seals the next record in place as a **frame** (§12): `buf` holds [`FRAME_HEADER`]
    /// bytes of room for the sequence number, then the flags byte's room and the inner message
    /// as for [`Self::seal_in_place`]. On success `buf` is `u64be(seq) || record`.
    ///
    /// # Errors
    /// As [`Self::seal_in_place`]; [`RecordError::TooShort`] if `buf` has no room for the
    /// header and the flags byte.
    pub fn seal_frame_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        is_final: bool,
    ) -> Result<(), RecordError> {
        if buf.len() <= FRAME_HEADER {
            return Err(RecordError::TooShort { len: buf.len() });
        }
        let seq = self.seq;
        self.seal_at(buf, FRAME_HEADER, if is_final { FLAG_FINAL } else { 0 })?;
        buf[..FRAME_HEADER].copy_from_slice(&seq.to_be_bytes());
        Ok(())
    }

    fn seal_with_flags_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        flags: u8,
    ) -> Result<(), RecordError> {
        if buf.is_empty() {
            return Err(RecordError::TooShort { len: 0 });
        }
        self.seal_at(buf, 0, flags)
    }

    /// Seals `buf[start..]` (flags room, then inner) with the next sequence number and appends
    /// the tag.
    fn seal_at(&mut self, buf: &mut Vec<u8>, start: usize, flags: u8) -> Result<(), RecordError> {
        let len = buf.len() - start - INNER_OFFSET + RECORD_OVERHEAD;
        if len > self.max_record {
            return Err(RecordError::TooLarge {
                len,
                max: self.max_record,
            });
        }
        let next = self.seq.checked_add(1).ok_or(RecordError::SeqExhausted)?;
        buf[start] = flags;
        let tag = self
            .cipher
            .seal_in_place_separate_tag(nonce(self.seq), Aad::empty(), &mut buf[start..])
            .map_err(|_| RecordError::TooLarge {
                len,
                max: self.max_record,
            })?;
        buf.extend_from_slice(tag.as_ref());
        self.seq = next;
        Ok(())
    }
}

impl RecordOpener {
    /// An opener expecting sequence 0 first.
    pub fn new(key: RecordKey) -> Self {
        Self {
            cipher: cipher(&key),
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
        let mut buf = record.to_vec();
        let opened = self.open_in_place(&mut buf)?;
        buf.truncate(opened.inner.end);
        buf.drain(..opened.inner.start);
        Ok(Opened {
            inner: buf,
            is_final: opened.is_final,
        })
    }

    /// Opens the next record in place, without copying: `record` is decrypted where it is and
    /// the inner message is `record[inner]` of the result. On error the bytes of `record` are
    /// unspecified.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_in_place(&mut self, record: &mut [u8]) -> Result<OpenedInPlace, RecordError> {
        if self.failed {
            return Err(RecordError::SessionFailed);
        }
        let result = self.open_inner(record);
        self.failed = result.is_err();
        result
    }

    /// The sequence number the next [`Self::open_in_place`] expects: where a peer that
    /// switched to frames (§12) goes on counting.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    /// Opens, in place, a record sealed at the explicit sequence number `seq` (a frame's,
    /// §12), without moving the implicit count: the caller ([`crate::lanes::Reorder`]) makes
    /// sure each `seq` is opened once.
    ///
    /// # Errors
    /// As [`Self::open`]; after any error, [`RecordError::SessionFailed`] forever.
    pub fn open_at(&mut self, seq: u64, record: &mut [u8]) -> Result<OpenedInPlace, RecordError> {
        if self.failed {
            return Err(RecordError::SessionFailed);
        }
        let result = self.open_seq(seq, record);
        self.failed = result.is_err();
        result
    }

    fn open_inner(&mut self, record: &mut [u8]) -> Result<OpenedInPlace, RecordError> {
        let next = self.seq.checked_add(1).ok_or(RecordError::SeqExhausted)?;
        let opened = self.open_seq(self.seq, record)?;
        self.seq = next;
        Ok(opened)
    }

    fn open_seq(&self, seq: u64, record: &mut [u8]) -> Result<OpenedInPlace, RecordError> {
        let len = record.len();
        if len > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge {
                len: record.len(),
                max: MAX_RECORD_BYTES,
            });
        }
        if len < RECORD_OVERHEAD {
            return Err(RecordError::TooShort { len });
        }
        let plaintext = self
            .cipher
            .open_in_place(nonce(seq), Aad::empty(), record)
            .map_err(|_| RecordError::Rejected { seq })?;
        // Never empty: the record held at least one plaintext byte besides the tag.
        let Some(&flags) = plaintext.first() else {
            return Err(RecordError::TooShort { len });
        };
        if flags & !FLAG_FINAL != 0 {
            return Err(RecordError::UnknownFlags { flags });
        }
        Ok(OpenedInPlace {
            inner: INNER_OFFSET..len - TAG_BYTES,
            is_final: flags & FLAG_FINAL != 0,
        })
    }
}

#[expect(
    clippy::expect_used,
    reason = "a RecordKey is 32 bytes, exactly an AES-256 key: the only way UnboundKey::new fails"
)]
fn cipher(key: &RecordKey) -> LessSafeKey {
    LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key.as_bytes()).expect("a 32-byte key is an AES-256 key"),
    )
}

/// `0x00000000 || u64be(seq)`. Each (key, seq) is used once: the sequence numbers only grow.
fn nonce(seq: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    Nonce::assume_unique_for_key(n)
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
