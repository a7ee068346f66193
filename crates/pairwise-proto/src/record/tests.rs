use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead as _, KeyInit as _};

use super::*;

/// The record nonce for RustCrypto's AES-GCM, the independent implementation these tests
/// check *ring*'s records against.
fn gcm_nonce(seq: u64) -> aes_gcm::Nonce<aes_gcm::aead::consts::U12> {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n.into()
}

fn pair() -> (RecordSealer, RecordOpener) {
    let key = RecordKey::from_bytes([0x42; 32]);
    (
        RecordSealer::new(key.clone(), MAX_RECORD_BYTES),
        RecordOpener::new(key),
    )
}

/// AES-256-GCM test case 14 of McGrew and Viega, "The Galois/Counter Mode of Operation",
/// typed in from the paper: zero key, zero 96-bit IV, one zero block, no AAD.
#[test]
fn aes_256_gcm_matches_published_test_case_14() {
    // Flags 0 then 15 zero bytes: one zero block, sealed with sequence 0 (the zero nonce).
    let mut sealer = RecordSealer::new(RecordKey::from_bytes([0; 32]), MAX_RECORD_BYTES);
    let mut buf = vec![0xff; 16];
    buf[INNER_OFFSET..].fill(0);
    sealer.seal_in_place(&mut buf, false).unwrap();
    assert_eq!(
        hex::encode(buf),
        "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
    );
}

#[test]
fn record_is_ciphertext_and_tag_of_flags_then_inner() {
    let (mut sealer, mut opener) = pair();
    let record = sealer.seal(b"\x04hello", true).unwrap();
    assert_eq!(record.len(), 6 + RECORD_OVERHEAD);
    let cipher = Aes256Gcm::new(&[0x42; 32].into());
    let plaintext = cipher.decrypt(&gcm_nonce(0), record.as_slice()).unwrap();
    assert_eq!(plaintext, b"\x01\x04hello");
    assert_eq!(
        cipher
            .encrypt(&gcm_nonce(0), &b"\x01\x04hello"[..])
            .unwrap(),
        record
    );
    let opened = opener.open(&record).unwrap();
    assert_eq!(opened.inner, b"\x04hello");
    assert!(opened.is_final);
}

#[test]
fn tampered_record_is_rejected_and_the_session_fails() {
    let (mut sealer, mut opener) = pair();
    let mut record = sealer.seal(b"\x02", false).unwrap();
    record[1] ^= 0x80;
    assert_eq!(opener.open(&record), Err(RecordError::Rejected { seq: 0 }));
    record[1] ^= 0x80;
    assert_eq!(opener.open(&record), Err(RecordError::SessionFailed));
}

#[test]
fn flipped_final_flag_fails_authentication() {
    let (mut sealer, mut opener) = pair();
    let mut record = sealer.seal(b"\x04", false).unwrap();
    record[0] ^= FLAG_FINAL;
    assert_eq!(opener.open(&record), Err(RecordError::Rejected { seq: 0 }));
}

#[test]
fn validly_sealed_unknown_flag_bits_are_rejected_and_the_session_fails() {
    for flags in [0x02, 0x80, 0x81, 0xff] {
        let (mut sealer, mut opener) = pair();
        let record = sealer.danger_seal_with_flags(b"\x04", flags).unwrap();
        assert_eq!(record.len(), 1 + RECORD_OVERHEAD);
        assert_eq!(
            opener.open(&record),
            Err(RecordError::UnknownFlags { flags })
        );
        let next = sealer.seal(b"\x04", false).unwrap();
        assert_eq!(opener.open(&next), Err(RecordError::SessionFailed));
    }
}

#[test]
fn danger_seal_with_known_flags_matches_seal() {
    let (mut a, _) = pair();
    let (mut b, _) = pair();
    assert_eq!(
        a.danger_seal_with_flags(b"\x04x", FLAG_FINAL).unwrap(),
        b.seal(b"\x04x", true).unwrap()
    );
}

#[test]
fn validly_sealed_empty_plaintext_is_too_short() {
    let cipher = Aes256Gcm::new(&[0x42; 32].into());
    let record = cipher.encrypt(&gcm_nonce(0), &[][..]).unwrap();
    assert_eq!(record.len(), 16);
    let (_, mut opener) = pair();
    assert_eq!(opener.open(&record), Err(RecordError::TooShort { len: 16 }));
}

#[test]
fn out_of_order_record_is_rejected() {
    let (mut sealer, mut opener) = pair();
    let _first = sealer.seal(b"\x02", false).unwrap();
    let second = sealer.seal(b"\x03", false).unwrap();
    assert_eq!(opener.open(&second), Err(RecordError::Rejected { seq: 0 }));
}

#[test]
fn short_records_are_rejected() {
    let (_, mut opener) = pair();
    assert_eq!(opener.open(&[]), Err(RecordError::TooShort { len: 0 }));
    let (_, mut opener) = pair();
    assert_eq!(
        opener.open(&[0; 16]),
        Err(RecordError::TooShort { len: 16 })
    );
}

#[test]
fn record_at_the_cap_opens_and_one_past_is_too_large() {
    let (mut sealer, mut opener) = pair();
    let inner = vec![0x04; sealer.max_inner()];
    let record = sealer.seal(&inner, false).unwrap();
    assert_eq!(record.len(), MAX_RECORD_BYTES);
    assert_eq!(opener.open(&record).unwrap().inner, inner);
    assert_eq!(
        sealer.seal(&[0x04; MAX_RECORD_BYTES - RECORD_OVERHEAD + 1], false),
        Err(RecordError::TooLarge {
            len: MAX_RECORD_BYTES + 1,
            max: MAX_RECORD_BYTES
        })
    );
    let (_, mut opener) = pair();
    assert_eq!(
        opener.open(&vec![0; MAX_RECORD_BYTES + 1]),
        Err(RecordError::TooLarge {
            len: MAX_RECORD_BYTES + 1,
            max: MAX_RECORD_BYTES
        })
    );
}

#[test]
fn smaller_peer_limit_caps_the_inner_size() {
    let mut sealer = RecordSealer::new(RecordKey::from_bytes([1; 32]), 1000);
    assert_eq!(sealer.max_inner(), 1000 - RECORD_OVERHEAD);
    assert!(sealer.seal(&[0; 1000 - RECORD_OVERHEAD], false).is_ok());
    assert!(
        sealer
            .seal(&[0; 1000 - RECORD_OVERHEAD + 1], false)
            .is_err()
    );
}

#[test]
fn debug_prints_no_key() {
    let (sealer, _) = pair();
    assert_eq!(
        format!("{sealer:?}"),
        "RecordSealer { seq: 0, max_record: 262144, .. }"
    );
}

#[test]
fn in_place_forms_match_the_copying_ones() {
    let (mut sealer, mut opener) = pair();
    let (mut copy_sealer, mut copy_opener) = pair();
    for (i, inner) in [&b"\x04"[..], b"\x04chunk", &[7u8; 1000][..]]
        .iter()
        .enumerate()
    {
        let is_final = i == 1;
        let mut buf = vec![0xff];
        buf.extend_from_slice(inner);
        sealer.seal_in_place(&mut buf, is_final).unwrap();
        let record = copy_sealer.seal(inner, is_final).unwrap();
        assert_eq!(buf, record);
        let opened = opener.open_in_place(&mut buf).unwrap();
        assert_eq!(&buf[opened.inner.clone()], *inner);
        assert_eq!(opened.is_final, is_final);
        assert_eq!(copy_opener.open(&record).unwrap().inner, *inner);
    }
}

#[test]
fn seal_in_place_refuses_what_does_not_fit_and_keeps_the_buffer() {
    let key = RecordKey::from_bytes([1; 32]);
    let mut sealer = RecordSealer::new(key.clone(), 100);
    let mut buf = vec![0; INNER_OFFSET + sealer.max_inner() + 1];
    assert!(matches!(
        sealer.seal_in_place(&mut buf, false),
        Err(RecordError::TooLarge { len: 101, max: 100 })
    ));
    assert_eq!(buf.len(), INNER_OFFSET + sealer.max_inner() + 1);
    assert_eq!(
        sealer.seal_in_place(&mut Vec::new(), false),
        Err(RecordError::TooShort { len: 0 })
    );
    // Neither used a sequence number: the next record is record 0.
    let mut buf = vec![0, 4];
    sealer.seal_in_place(&mut buf, false).unwrap();
    assert!(RecordOpener::new(key).open_in_place(&mut buf).is_ok());
}
