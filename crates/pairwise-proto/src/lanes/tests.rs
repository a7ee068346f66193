use super::*;

#[test]
fn delivers_in_sequence_order_whatever_the_arrival_order() {
    let mut r = Reorder::new(5);
    r.insert(7, "c", 10).unwrap();
    assert_eq!(r.pop(), None, "5 has not arrived");
    r.insert(5, "a", 10).unwrap();
    r.insert(6, "b", 10).unwrap();
    assert_eq!(r.held_bytes(), 30);
    assert_eq!(
        [r.pop(), r.pop(), r.pop(), r.pop()],
        [Some("a"), Some("b"), Some("c"), None]
    );
    assert_eq!(r.next(), 8);
    assert_eq!(r.held_bytes(), 0);
}

#[test]
fn what_is_held_beyond_a_gap_is_listed_in_order() {
    let mut r = Reorder::new(0);
    r.insert(9, "cancel", 1).unwrap();
    r.insert(3, "chunk", 1).unwrap();
    assert_eq!(r.pop(), None, "0 has not arrived");
    assert_eq!(r.held().copied().collect::<Vec<_>>(), ["chunk", "cancel"]);
}

#[test]
fn a_sequence_number_is_taken_once_and_copies_are_dropped() {
    let mut r = Reorder::new(0);
    r.insert(1, "first", 1).unwrap();
    assert_eq!(r.check(1, 1), Ok(false), "held: a copy");
    r.insert(1, "copy", 1).unwrap();
    r.insert(0, "zero", 1).unwrap();
    assert_eq!(
        [r.pop(), r.pop(), r.pop()],
        [Some("zero"), Some("first"), None]
    );
    assert_eq!(r.check(0, 1), Ok(false), "delivered: a copy");
    r.insert(0, "late copy", 1).unwrap();
    assert_eq!(r.pop(), None);
    assert_eq!(r.held_bytes(), 0);
}

#[test]
fn far_ahead_and_overfull_are_refused() {
    let mut r = Reorder::new(10);
    assert!(matches!(
        r.check(10 + MAX_AHEAD + 1, 1),
        Err(ReorderError::TooFarAhead { .. })
    ));
    assert_eq!(r.check(10 + MAX_AHEAD, 1), Ok(true));
    r.insert(11, (), REORDER_BYTES).unwrap();
    assert_eq!(r.check(12, 1), Err(ReorderError::Overfull));
    // The next in order is always taken: it is delivered at once.
    r.insert(10, (), MAX_RECORD_BYTES).unwrap();
    assert_eq!(ReorderError::Overfull.code(), ErrorCode::PeerMisbehaved);
}

#[test]
fn lanes_declared_in_sdp() {
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n";
    assert_eq!(declared_lanes(sdp), 0);
    let marked = declare_lanes(sdp, 8);
    assert!(marked.contains("t=0 0\r\na=pairwise-lanes:8\r\nm=application"));
    assert_eq!(declared_lanes(&marked), 8);
    // Declaring again replaces; more than MAX_LANES is capped either way.
    let again = declare_lanes(&marked, 200);
    assert_eq!(again.matches("pairwise-lanes").count(), 1);
    assert_eq!(declared_lanes(&again), MAX_LANES);
    assert_eq!(declared_lanes("a=pairwise-lanes:99\n"), MAX_LANES);
    assert_eq!(declared_lanes("a=pairwise-lanes:x\n"), 0);
    assert_eq!(declare_lanes("v=0", 2), "v=0\na=pairwise-lanes:2\n");
}

#[test]
fn lane_payloads_are_checked() {
    let ok = LaneSdp {
        lane: 1,
        sdp: "v=0".into(),
    };
    ok.check().unwrap();
    for bad in [
        LaneSdp {
            lane: 0,
            sdp: "v=0".into(),
        },
        LaneSdp {
            lane: MAX_LANES + 1,
            sdp: "v=0".into(),
        },
        LaneSdp {
            lane: 1,
            sdp: String::new(),
        },
        LaneSdp {
            lane: 1,
            sdp: "x".repeat(MAX_LANE_SDP_BYTES + 1),
        },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
    let c: LaneCandidate = serde_json::from_str(
        r#"{"lane":2,"side":"answer","candidate":{"candidate":"candidate:1 1 udp 1 198.51.100.1 5000 typ host","sdpMid":null,"sdpMLineIndex":0}}"#,
    )
    .unwrap();
    assert_eq!(c.side, LaneSide::Answer);
    assert_eq!(c.candidate.unwrap().sdp_m_line_index, Some(0));
    assert!(
        serde_json::from_str::<LaneCandidate>(r#"{"lane":2,"side":"both","candidate":null}"#)
            .is_err()
    );
    assert!(
        serde_json::from_str::<LaneCandidate>(
            r#"{"lane":2,"side":"offer","candidate":null,"x":1}"#
        )
        .is_err()
    );
}

#[test]
fn frame_seq_reads_the_header() {
    assert_eq!(frame_seq(&[0, 0, 0, 0, 0, 0, 1, 2, 9]), Some(258));
    assert_eq!(frame_seq(&[0; 7]), None);
}
