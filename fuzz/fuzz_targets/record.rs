//! AEAD records (§6) and lane frames (§12) with a fixed key and sequence number: the key and
//! `seq` 0 of `testdata/vectors/records.json`, so its records seed the corpus.
//!
//! Random bytes almost never authenticate, so the target does two things with each input:
//! - opens it as a record: no panic, and one that opens re-seals to exactly the same bytes;
//! - seals it (first byte as the flags, the rest as the inner message), as a record and as a
//!   frame, and opens both: they open if and only if the flags are known, to the same inner
//!   message, and the in-place decode agrees with the copying one. This reaches what comes
//!   after decryption (flags, ranges, `Message::decode_in`), which a peer controls too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::keys::RecordKey;
use pairwise_proto::lanes::frame_seq;
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::record::{FLAG_FINAL, FRAME_HEADER, RecordError, RecordOpener, RecordSealer};
use pairwise_proto::transfer::Message;

const KEY: [u8; 32] = [
    0x8f, 0x36, 0x4b, 0xc1, 0x90, 0xb5, 0x49, 0x6f, 0x7d, 0x9c, 0x27, 0x69, 0x94, 0x8b, 0x4f, 0xf2,
    0x48, 0xa7, 0x7a, 0xe0, 0xde, 0xee, 0x4b, 0x97, 0x36, 0x12, 0x05, 0xec, 0x86, 0xa6, 0xb1, 0xcf,
];
const SEQ: u64 = 0;

fn opener() -> RecordOpener {
    RecordOpener::new(RecordKey::from_bytes(KEY)).with_seq(SEQ)
}

fn sealer() -> RecordSealer {
    RecordSealer::new(RecordKey::from_bytes(KEY), MAX_RECORD_BYTES).danger_with_seq(SEQ)
}

fuzz_target!(|data: &[u8]| {
    // The input as a record from the peer.
    let mut session = opener();
    if let Ok(opened) = session.open(data) {
        let resealed = sealer().seal(&opened.inner, opened.is_final);
        assert_eq!(resealed.as_deref(), Ok(data));
    } else {
        // A session whose record was refused stays refused.
        assert_eq!(session.open(data), Err(RecordError::SessionFailed));
    }

    // The input as what a (possibly hostile) peer sealed.
    let Some((&flags, inner)) = data.split_first() else {
        return;
    };
    let Ok(record) = sealer().danger_seal_with_flags(inner, flags) else {
        assert!(inner.len() > sealer().max_inner());
        return;
    };
    let known = flags & !FLAG_FINAL == 0;
    let mut buf = record.clone();
    match opener().open_in_place(&mut buf) {
        Ok(opened) => {
            assert!(known);
            assert_eq!(opened.is_final, flags == FLAG_FINAL);
            assert_eq!(&buf[opened.inner.clone()], inner);
            let copied = Message::decode(inner);
            assert_eq!(Message::decode_in(buf, opened.inner), copied);
        }
        Err(e) => {
            assert!(!known);
            assert_eq!(e, RecordError::UnknownFlags { flags });
        }
    }
    // The same message as a lane frame: `u64be(seq) || record`, opened at its explicit seq.
    if !known {
        return;
    }
    let mut frame = vec![0u8; FRAME_HEADER + 1];
    frame.extend_from_slice(inner);
    sealer()
        .seal_frame_in_place(&mut frame, flags == FLAG_FINAL)
        .expect("it sealed as a record");
    assert_eq!(frame_seq(&frame), Some(SEQ));
    assert_eq!(&frame[FRAME_HEADER..], &record[..]);
    let opened = RecordOpener::new(RecordKey::from_bytes(KEY))
        .open_at(SEQ, &mut frame[FRAME_HEADER..])
        .expect("a frame opens at its seq");
    assert_eq!(&frame[FRAME_HEADER..][opened.inner], inner);
});
