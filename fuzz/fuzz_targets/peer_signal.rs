//! A relayed body as a peer reads it: JSON, then [`PeerSignal::parse`] (hello, offer, answer,
//! candidate, confirm, forgotten, not-paired), and the SDP fingerprint of an offer or answer,
//! which the handshake takes from the SDP text received; and [`CodeBody::parse`], the bodies of
//! pairing by code (§2.1), which come through the same relay before the handshake.
//!
//! Checks: no panic; what parses re-encodes (`to_value`) to a body that parses to the same
//! signal or code body, under the same `kind`; no body is both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::code::CodeBody;
use pairwise_proto::handshake::{PeerSignal, sdp_fingerprint};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(code) = CodeBody::parse(&body) {
        assert_eq!(body.get("kind").and_then(Value::as_str), Some(code.kind()));
        assert_eq!(CodeBody::parse(&code.to_value()).ok(), Some(code));
        assert!(PeerSignal::parse(&body).is_err());
        return;
    }
    let Ok(signal) = PeerSignal::parse(&body) else {
        return;
    };
    assert_eq!(
        body.get("kind").and_then(Value::as_str),
        Some(signal.kind())
    );
    if let PeerSignal::Offer { sdp } | PeerSignal::Answer { sdp } = &signal {
        let _ = sdp_fingerprint(sdp);
    }
    let again = signal.to_value();
    assert_eq!(PeerSignal::parse(&again).ok(), Some(signal));
});
