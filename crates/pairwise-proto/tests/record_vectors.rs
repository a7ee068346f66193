//! Shared test vectors in `testdata/vectors/*.json`: AEAD records (`records.json`).
//!
//! Each test builds its vector file from the implementation (deterministic keys from SHA-256 of
//! fixed strings), asserting on the way that every invalid case fails with the listed code.
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it reads the file and checks
//! that it is exactly what the implementation produces. `web/test` checks the same files.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use aes_gcm::aead::{Aead as _, KeyInit as _};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::keys::RecordKey;
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::record::{RecordOpener, RecordSealer};
use pairwise_proto::transfer::Message;
use serde_json::{Value, json};

use crate::common::{check_or_write, sample_manifest, seed};

/// AES-256-GCM of `plaintext` with the record nonce for `seq` and no AAD, independently of
/// [`RecordSealer`].
fn gcm_raw(key: &[u8; 32], seq: u64, plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes256Gcm::new(&(*key).into());
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&seq.to_be_bytes());
    cipher.encrypt(&nonce.into(), plaintext).unwrap()
}

/// A record built by hand: `AES-256-GCM(plaintext = flags || inner)`.
fn seal_raw(key: &[u8; 32], seq: u64, flags: u8, inner: &[u8]) -> Vec<u8> {
    gcm_raw(key, seq, &[&[flags][..], inner].concat())
}

/// A record sealed by [`RecordSealer`] with any flags byte, including unknown bits.
fn seal_flags(key: &[u8; 32], seq: u64, flags: u8, inner: &[u8]) -> Vec<u8> {
    let record = RecordSealer::new(RecordKey::from_bytes(*key), MAX_RECORD_BYTES)
        .danger_with_seq(seq)
        .danger_seal_with_flags(inner, flags)
        .unwrap();
    assert_eq!(record, seal_raw(key, seq, flags, inner));
    record
}

#[test]
fn record_vectors() {
    let key = seed("record key 1");
    let other = seed("record key 2");
    let manifest = Message::Manifest(sample_manifest()).encode();
    let cases: [(u64, bool, Vec<u8>); 6] = [
        (0, false, vec![0x02]),
        (1, false, manifest),
        (2, true, vec![0x04]),
        (7, true, b"\x04hello".to_vec()),
        (3, false, [&[0x04u8][..], &[0xa5; 300]].concat()),
        ((1 << 32) + 1, false, vec![0x06]),
    ];
    let valid: Vec<Value> = cases
        .into_iter()
        .map(|(seq, is_final, inner)| {
            let mut sealer = RecordSealer::new(RecordKey::from_bytes(key), MAX_RECORD_BYTES)
                .danger_with_seq(seq);
            let record = sealer.seal(&inner, is_final).unwrap();
            assert_eq!(record, seal_raw(&key, seq, u8::from(is_final), &inner));
            let opened = RecordOpener::new(RecordKey::from_bytes(key))
                .with_seq(seq)
                .open(&record)
                .unwrap();
            assert_eq!(
                (opened.inner.as_slice(), opened.is_final),
                (&inner[..], is_final)
            );
            json!({"key": hex::encode(key), "seq": seq, "flags": u8::from(is_final),
                   "inner": hex::encode(&inner), "record": hex::encode(&record)})
        })
        .collect();

    let good = seal_raw(&key, 5, 0, b"\x04chunk");
    let flip = |i: usize| {
        let mut r = good.clone();
        r[i] ^= 0x01;
        r
    };
    let rejected = [
        (5, flip(1), "ciphertext byte flipped"),
        (5, flip(good.len() - 1), "tag byte flipped"),
        (
            5,
            flip(0),
            "encrypted flags byte flipped (FINAL set after sealing)",
        ),
        (
            4,
            good.clone(),
            "expected seq 4 (record sealed at 5: dropped record)",
        ),
        (
            6,
            good.clone(),
            "expected seq 6 (record sealed at 5: replay)",
        ),
        (
            5,
            seal_raw(&other, 5, 0, b"\x04chunk"),
            "sealed with another key",
        ),
        (
            5,
            seal_flags(&key, 5, 0x02, b"\x04chunk"),
            "unknown flag bit 0x02, validly sealed",
        ),
        (
            5,
            seal_flags(&key, 5, 0x81, b"\x04chunk"),
            "unknown flag bit 0x80, validly sealed",
        ),
        (5, good[..good.len() - 6].to_vec(), "truncated"),
        (
            5,
            good[..16].to_vec(),
            "16 bytes: shorter than flags and tag",
        ),
        (
            5,
            gcm_raw(&key, 5, &[]),
            "16 bytes: empty plaintext (no flags byte), validly sealed",
        ),
        (5, Vec::new(), "empty"),
        (
            5,
            vec![0; MAX_RECORD_BYTES + 1],
            "262145 bytes: larger than MAX_RECORD_BYTES",
        ),
    ];
    let rejected: Vec<Value> = rejected
        .into_iter()
        .map(|(seq, record, why)| {
            let err = RecordOpener::new(RecordKey::from_bytes(key))
                .with_seq(seq)
                .open(&record)
                .expect_err(why);
            assert_eq!(err.code(), ErrorCode::RecordRejected);
            json!({"key": hex::encode(key), "seq": seq, "record": hex::encode(&record), "why": why})
        })
        .collect();
    check_or_write(
        "records.json",
        &json!({"valid": valid, "rejected": rejected}),
    );
}
