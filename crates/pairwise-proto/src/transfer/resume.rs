//! Resuming a transfer (`docs/protocol.md` §11.3): the hash chain over a file's 1 MiB blocks,
//! the receiver's claims (in `accept`) and the sender's answer (`resume-ack`).
//!
//! ```text
//! h_0 = SHA-256("pairwise/v1/resume" || id[16] || u32be(index))
//! h_k = SHA-256(h_{k-1} || SHA-256(block_k))        block_k = bytes [(k-1)·B, k·B), B = 1 MiB
//! ```
//!
//! The receiver keeps, per file, a prefix it verified and the chain value at its end; it claims
//! it on the next offer of the same transfer id. The sender recomputes the chain over its own
//! bytes and continues after the prefix only if the values match, so a changed source file or a
//! damaged partial file never ends up in a handed-over file. Pure: bytes in, hashes out.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::limits::RESUME_BLOCK;
use crate::transfer::{Manifest, TransferError, TransferId};

/// Label of the chain's start value.
pub const RESUME_LABEL: &str = "pairwise/v1/resume";

/// The running hash chain of one file.
#[derive(Debug, Clone)]
pub struct ResumeChain {
    h: [u8; 32],
    block: Sha256,
    in_block: u64,
    offset: u64,
}

impl ResumeChain {
    /// The chain of file `index` of transfer `id`, at offset 0.
    pub fn new(id: &TransferId, index: u32) -> Self {
        let mut h = Sha256::new();
        h.update(RESUME_LABEL.as_bytes());
        h.update(id.as_bytes());
        h.update(index.to_be_bytes());
        Self::at(h.finalize().into(), 0)
    }

    /// A chain continued from a kept value `h` at `offset` (a multiple of [`RESUME_BLOCK`]).
    pub fn at(h: [u8; 32], offset: u64) -> Self {
        Self {
            h,
            block: Sha256::new(),
            in_block: 0,
            offset,
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = usize::try_from(RESUME_BLOCK - self.in_block).unwrap_or(usize::MAX);
            let take = room.min(bytes.len());
            self.block.update(&bytes[..take]);
            self.in_block += take as u64;
            self.offset += take as u64;
            bytes = &bytes[take..];
            if self.in_block == RESUME_BLOCK {
                self.fold();
            }
        }
    }

    /// Bytes fed so far (plus the start offset).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The last block boundary and the chain value there: what a receiver keeps and claims.
    pub fn checkpoint(&self) -> (u64, [u8; 32]) {
        (self.offset - self.in_block, self.h)
    }

    /// The value over everything fed, a shorter last block included: the claim for a file the
    /// receiver holds completely.
    pub fn finish(mut self) -> [u8; 32] {
        if self.in_block > 0 {
            self.fold();
        }
        self.h
    }

    fn fold(&mut self) {
        let digest = std::mem::take(&mut self.block).finalize();
        let mut h = Sha256::new();
        h.update(self.h);
        h.update(digest);
        self.h = h.finalize().into();
        self.in_block = 0;
    }
}

/// One file the receiver holds a verified prefix of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeClaim {
    /// The file, in manifest order.
    pub index: u32,
    /// Bytes held: a multiple of 1 MiB, or the whole size.
    pub offset: u64,
    /// The chain value at `offset` (base64url in JSON).
    #[serde(with = "proof_b64")]
    pub proof: [u8; 32],
}

/// The sender's answer to one claim: continue at `offset` (the claim's) or at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeStart {
    /// The file.
    pub index: u32,
    /// Where the sender continues: the claimed offset, or 0 if the proof did not match.
    pub offset: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimsWire {
    pub(crate) resume: Vec<ResumeClaim>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AckWire {
    pub(crate) files: Vec<ResumeStart>,
}

/// Checks claims against the offer: a resumable offer, 1+ claims, strictly increasing indices
/// of its files, offsets in `1..=size` that are block multiples unless equal to the size.
pub(crate) fn check_claims(
    manifest: &Manifest,
    claims: &[ResumeClaim],
) -> Result<(), TransferError> {
    let bad = |what| Err(TransferError::Unexpected { what });
    if manifest.id().is_none() {
        return bad("resume claims for an offer without an id");
    }
    if claims.is_empty() {
        return bad("empty resume claims");
    }
    let mut last: Option<u32> = None;
    for c in claims {
        if last.is_some_and(|l| c.index <= l) {
            return bad("resume claims out of order");
        }
        last = Some(c.index);
        let Some(file) = usize::try_from(c.index)
            .ok()
            .and_then(|i| manifest.files().get(i))
        else {
            return bad("resume claim for a file not offered");
        };
        let aligned = c.offset % RESUME_BLOCK == 0;
        if c.offset == 0 || c.offset > file.size() || !(aligned || c.offset == file.size()) {
            return bad("resume claim with an invalid offset");
        }
    }
    Ok(())
}

/// Checks a `resume-ack` against the claims it answers: the same files in the same order,
/// each at the claimed offset or 0.
pub(crate) fn check_ack(
    claims: &[ResumeClaim],
    starts: &[ResumeStart],
) -> Result<(), TransferError> {
    let ok = claims.len() == starts.len()
        && claims
            .iter()
            .zip(starts)
            .all(|(c, s)| c.index == s.index && (s.offset == 0 || s.offset == c.offset));
    if ok {
        Ok(())
    } else {
        Err(TransferError::Unexpected {
            what: "resume-ack that does not answer the claims",
        })
    }
}

mod proof_b64 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(proof: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::b64::encode(proof))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::b64::decode_array(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> TransferId {
        TransferId::from_bytes([7; 16])
    }

    #[test]
    fn chain_is_independent_of_how_bytes_are_fed() {
        let data: Vec<u8> = (0..3 * RESUME_BLOCK + 5).map(|i| (i % 251) as u8).collect();
        let mut whole = ResumeChain::new(&id(), 2);
        whole.update(&data);
        let mut pieces = ResumeChain::new(&id(), 2);
        for chunk in data.chunks(262_127) {
            pieces.update(chunk);
        }
        assert_eq!(whole.checkpoint(), pieces.checkpoint());
        assert_eq!(whole.checkpoint().0, 3 * RESUME_BLOCK);
        assert_eq!(whole.finish(), pieces.finish());
    }

    #[test]
    fn a_continued_chain_equals_the_whole_chain() {
        let data: Vec<u8> = (0..2 * RESUME_BLOCK + 9)
            .map(|i| (i * 7 % 256) as u8)
            .collect();
        let mut first = ResumeChain::new(&id(), 0);
        first.update(&data[..(RESUME_BLOCK as usize + 100)]);
        let (at, h) = first.checkpoint();
        assert_eq!(at, RESUME_BLOCK);
        let mut rest = ResumeChain::at(h, at);
        rest.update(&data[at as usize..]);
        let mut whole = ResumeChain::new(&id(), 0);
        whole.update(&data);
        assert_eq!(rest.finish(), whole.finish());
    }

    #[test]
    fn chains_differ_by_file_and_transfer() {
        let a = ResumeChain::new(&id(), 0).finish();
        assert_ne!(a, ResumeChain::new(&id(), 1).finish());
        assert_ne!(
            a,
            ResumeChain::new(&TransferId::from_bytes([8; 16]), 0).finish()
        );
    }
}
