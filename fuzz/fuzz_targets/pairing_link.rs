//! The pairing link's URL fragment ([`PairingLink::parse_fragment`]): what a responder reads
//! from a QR code or a pasted link.
//!
//! Checks: no panic; a parsed link's own fragment parses to the same link and has the fixed
//! shape `pair=` and 88 base64url characters (version 2, whichever version was read); its room
//! derives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::link::PairingLink;

fuzz_target!(|data: &[u8]| {
    let Ok(fragment) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(link) = PairingLink::parse_fragment(fragment) else {
        return;
    };
    let again = link.fragment();
    assert_eq!(again.len(), "pair=".len() + 88);
    assert_eq!(PairingLink::parse_fragment(&again).as_ref(), Ok(&link));
    let _ = link.room();
});
