//! SDP text from the peer: the DTLS fingerprint the transcript binds ([`sdp_fingerprint`]) and
//! the lanes a side declares ([`declared_lanes`], §12), with the line the CLI adds to its own
//! SDP ([`declare_lanes`]).
//!
//! Checks: no panic; a fingerprint is canonical (it parses back to itself); declaring `n`
//! lanes in any SDP is read back as `min(n, MAX_LANES)` and leaves the fingerprint alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::handshake::sdp_fingerprint;
use pairwise_proto::lanes::{MAX_LANES, declare_lanes, declared_lanes};

fuzz_target!(|data: &[u8]| {
    // The first byte is the lane count to declare; the rest is the SDP.
    let Some((&n, sdp)) = data.split_first() else {
        return;
    };
    let Ok(sdp) = std::str::from_utf8(sdp) else {
        return;
    };
    let fingerprint = sdp_fingerprint(sdp);
    if let Ok(fp) = &fingerprint {
        let line = format!("a=fingerprint:{}\r\n", fp.as_str());
        assert_eq!(sdp_fingerprint(&line).as_ref(), Ok(fp));
    }
    assert!(declared_lanes(sdp) <= MAX_LANES);
    let declared = declare_lanes(sdp, n);
    assert_eq!(declared_lanes(&declared), n.min(MAX_LANES));
    assert_eq!(sdp_fingerprint(&declared), fingerprint);
});
