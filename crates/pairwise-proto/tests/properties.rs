//! Property tests: hostile bytes never panic a parser, and sealing round-trips.

use pairwise_proto::handshake::{PeerSignal, sdp_fingerprint};
use pairwise_proto::keys::RecordKey;
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::link::PairingLink;
use pairwise_proto::name::SafeName;
use pairwise_proto::record::{RECORD_OVERHEAD, RecordOpener, RecordSealer};
use pairwise_proto::transfer::{Manifest, Message};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_records_never_panic_the_opener(key: [u8; 32], record: Vec<u8>) {
        let mut opener = RecordOpener::new(RecordKey::from_bytes(key));
        prop_assert!(opener.open(&record).is_err());
    }

    #[test]
    fn arbitrary_inner_messages_never_panic(inner: Vec<u8>) {
        // Everything but a manifest (JSON, whose spelling is free) has one encoding.
        if let Ok(msg) = Message::decode(&inner)
            && !matches!(msg, Message::Manifest(_))
        {
            prop_assert_eq!(msg.encode(), inner);
        }
    }

    #[test]
    fn arbitrary_manifest_text_never_panics(json in ".*") {
        if let Ok(m) = Manifest::parse(json.as_bytes()) {
            prop_assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
        }
    }

    #[test]
    fn arbitrary_names_never_panic_and_accepted_ones_are_unchanged(name in ".*") {
        if let Ok(safe) = SafeName::parse(&name) {
            prop_assert_eq!(safe.as_str(), name.as_str());
            prop_assert!(!safe.as_str().contains(['/', '\\', ':']));
        }
    }

    #[test]
    fn arbitrary_link_fragments_never_panic(fragment in ".*") {
        let _ = PairingLink::parse_fragment(&fragment);
        let _ = PairingLink::parse_fragment(&format!("pair={fragment}"));
    }

    #[test]
    fn arbitrary_sdp_and_signal_bodies_never_panic(text in ".*") {
        let _ = sdp_fingerprint(&text);
        let _ = sdp_fingerprint(&format!("a=fingerprint:{text}"));
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            let _ = PeerSignal::parse(&value);
        }
    }

    #[test]
    fn seal_then_open_round_trips(
        key: [u8; 32],
        messages in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..2000), any::<bool>()), 1..8),
    ) {
        let mut sealer = RecordSealer::new(RecordKey::from_bytes(key), MAX_RECORD_BYTES);
        let mut opener = RecordOpener::new(RecordKey::from_bytes(key));
        for (inner, is_final) in messages {
            let record = sealer.seal(&inner, is_final).unwrap();
            prop_assert_eq!(record.len(), inner.len() + RECORD_OVERHEAD);
            let opened = opener.open(&record).unwrap();
            prop_assert_eq!(opened.inner, inner);
            prop_assert_eq!(opened.is_final, is_final);
        }
    }
}
