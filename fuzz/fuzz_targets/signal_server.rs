//! A server's text frame as a client reads it: `ServerToClient` from JSON (the CLI's signaling
//! client does exactly this), with the lenient `ice` list of `joined` (§4.1).
//!
//! Checks: no panic; the ICE servers kept are usable and at most `MAX_ICE_SERVERS`; what
//! parses re-encodes to a frame that parses to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::limits::MAX_ICE_SERVERS;
use pairwise_proto::signal::{ServerToClient, ice_from_value};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The `ice` filter on its own, whatever the rest of the frame is.
    if let Ok(raw) = serde_json::from_str::<Value>(text) {
        let ice = ice_from_value(raw.get("ice").unwrap_or(&raw));
        assert!(ice.len() <= MAX_ICE_SERVERS);
        assert!(ice.iter().all(|s| s.is_usable()));
    }
    let Ok(msg) = serde_json::from_str::<ServerToClient>(text) else {
        return;
    };
    if let ServerToClient::Joined { ice, .. } = &msg {
        assert!(ice.len() <= MAX_ICE_SERVERS);
        assert!(ice.iter().all(|s| s.is_usable()));
    }
    let again = serde_json::to_string(&msg).expect("a parsed message serialises");
    assert_eq!(
        serde_json::from_str::<ServerToClient>(&again).ok(),
        Some(msg)
    );
});
