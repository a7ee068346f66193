//! An opened record's inner message ([`Message::decode`]): manifest, accept (with resume
//! claims), decline, chunk, received, cancel, device, text, resume-ack, progress and the lane
//! messages.
//!
//! Checks: no panic; the in-place decoder agrees with the copying one; what decodes keeps its
//! type byte, re-encodes to bytes that decode to the same message, and that encoding is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::transfer::Message;

fuzz_target!(|data: &[u8]| {
    let decoded = Message::decode(data);

    // `decode_in` on the same bytes inside a larger buffer, as a record opened in place.
    let mut buf = vec![0xAA; 3];
    buf.extend_from_slice(data);
    buf.push(0xBB);
    assert_eq!(Message::decode_in(buf, 3..3 + data.len()), decoded);

    let Ok(msg) = decoded else {
        return;
    };
    assert_eq!(Some(&msg.type_byte()), data.first());
    let _ = msg.route();
    let encoded = msg.encode();
    let again = Message::decode(&encoded);
    assert_eq!(again.as_ref(), Ok(&msg));
    assert_eq!(again.map(|m| m.encode()).as_ref(), Ok(&encoded));
});
