//! Shared test vectors in `testdata/vectors/lanes.json`: lanes (`docs/protocol.md` §12): the
//! lane messages, frames, the order a receiver delivers them in, the frames it refuses, and
//! the SDP line that declares lanes.
//!
//! Built from the implementation (deterministic keys from SHA-256 of fixed strings), asserting
//! on the way that every invalid case fails with the listed code. With
//! `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it checks the file is exactly that.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::keys::RecordKey;
use pairwise_proto::lanes::{
    CandidateInit, LaneCandidate, LaneSdp, LaneSide, MAX_AHEAD, Reorder, declared_lanes, frame_seq,
};
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::record::{FRAME_HEADER, INNER_OFFSET, RecordOpener, RecordSealer};
use pairwise_proto::transfer::Message;
use serde_json::{Value, json};

use crate::common::{check_or_write, seed};

const OFFER_SDP: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=pairwise-cli\r\nt=0 0\r\na=pairwise-lanes:16\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n";

/// A frame sealed at `seq` (§12).
fn frame(key: &[u8; 32], seq: u64, is_final: bool, inner: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; FRAME_HEADER + INNER_OFFSET];
    buf.extend_from_slice(inner);
    RecordSealer::new(RecordKey::from_bytes(*key), MAX_RECORD_BYTES)
        .danger_with_seq(seq)
        .seal_frame_in_place(&mut buf, is_final)
        .unwrap();
    buf
}

/// Opens `frames` in the given order into a [`Reorder`] starting at `next`; returns the
/// sequence numbers delivered, in order, or the code of the first refusal.
fn deliver(key: &[u8; 32], next: u64, frames: &[Vec<u8>]) -> Result<Vec<u64>, ErrorCode> {
    let mut opener = RecordOpener::new(RecordKey::from_bytes(*key));
    let mut reorder = Reorder::new(next);
    let mut out = Vec::new();
    for f in frames {
        let seq = frame_seq(f).ok_or(ErrorCode::PeerMisbehaved)?;
        if !reorder.check(seq, f.len()).map_err(|e| e.code())? {
            continue;
        }
        let mut buf = f.clone();
        opener
            .open_at(seq, &mut buf[FRAME_HEADER..])
            .map_err(|e| e.code())?;
        reorder.insert(seq, seq, f.len()).map_err(|e| e.code())?;
        while let Some(s) = reorder.pop() {
            out.push(s);
        }
    }
    Ok(out)
}

fn messages() -> Value {
    let offer = Message::LaneOffer(LaneSdp {
        lane: 1,
        sdp: OFFER_SDP.into(),
    });
    let answer = Message::LaneAnswer(LaneSdp {
        lane: 16,
        sdp: OFFER_SDP.replace("s=pairwise-cli", "s=-"),
    });
    let candidate = Message::LaneCandidate(LaneCandidate {
        lane: 2,
        side: LaneSide::Answer,
        candidate: Some(CandidateInit {
            candidate: "candidate:1 1 udp 2130706431 198.51.100.7 40000 typ host".into(),
            sdp_mid: None,
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }),
    });
    let end = Message::LaneCandidate(LaneCandidate {
        lane: 2,
        side: LaneSide::Offer,
        candidate: None,
    });
    let valid: Vec<Value> = [offer, answer, candidate, end]
        .into_iter()
        .map(|m| {
            let inner = m.encode();
            assert_eq!(Message::decode(&inner).unwrap(), m);
            json!({"inner": String::from_utf8_lossy(&inner[1..]), "type": inner[0]})
        })
        .collect();
    let invalid_cases: [(u8, &str, &str); 7] = [
        (0x0b, r#"{"lane":0,"sdp":"v=0"}"#, "lane 0"),
        (0x0b, r#"{"lane":33,"sdp":"v=0"}"#, "lane above MAX_LANES"),
        (0x0b, r#"{"lane":1,"sdp":""}"#, "empty SDP"),
        (0x0c, r#"{"lane":1,"sdp":"v=0","x":1}"#, "unknown key"),
        (0x0d, r#"{"lane":1,"candidate":null}"#, "no side"),
        (
            0x0d,
            r#"{"lane":1,"side":"both","candidate":null}"#,
            "unknown side",
        ),
        (
            0x0d,
            r#"{"lane":1,"side":"offer","candidate":{"candidate":"x","foo":1}}"#,
            "unknown candidate key",
        ),
    ];
    let mut invalid: Vec<Value> = invalid_cases
        .iter()
        .map(|(ty, payload, why)| {
            let inner = [&[*ty][..], payload.as_bytes()].concat();
            let code = Message::decode(&inner).unwrap_err().code();
            assert_eq!(code, ErrorCode::PeerMisbehaved, "{why}");
            json!({"type": ty, "inner": payload, "code": code, "why": why})
        })
        .collect();
    let long = format!(r#"{{"lane":1,"sdp":"{}"}}"#, "a".repeat(16 * 1024 + 1));
    let inner = [&[0x0b][..], long.as_bytes()].concat();
    assert_eq!(
        Message::decode(&inner).unwrap_err().code(),
        ErrorCode::PeerMisbehaved
    );
    invalid.push(json!({"type": 0x0b, "inner_repeat": {"prefix": r#"{"lane":1,"sdp":""#, "char": "a", "count": 16 * 1024 + 1, "suffix": r#""}"#}, "code": "peer-misbehaved", "why": "SDP over MAX_LANE_SDP_BYTES"}));
    json!({"valid": valid, "invalid": invalid})
}

#[test]
fn lanes_vectors() {
    let key = seed("lanes record key");
    // The sender's lane-offer went at seq 6 (§6 form); frames continue at 7.
    let plan: [(u64, bool, Vec<u8>); 5] = [
        (7, false, vec![0x04, 0xaa, 0xbb]),
        (8, true, vec![0x04, 0xcc]),
        (9, false, Message::Progress(3).encode()),
        (10, false, vec![0x04]),
        (11, false, Message::Cancel.encode()),
    ];
    let frames: Vec<Vec<u8>> = plan
        .iter()
        .map(|(s, f, i)| frame(&key, *s, *f, i))
        .collect();
    let frames_json: Vec<Value> = plan
        .iter()
        .zip(&frames)
        .map(|((seq, fin, inner), f)| {
            json!({"seq": seq, "final": fin, "inner": hex::encode(inner), "frame": hex::encode(f)})
        })
        .collect();
    // Arrival order across channels, and what the receiver delivers after each.
    let arrival = [9usize, 7, 11, 8, 10];
    let arrived: Vec<Vec<u8>> = arrival.iter().map(|s| frames[*s - 7].clone()).collect();
    assert_eq!(deliver(&key, 7, &arrived), Ok(vec![7, 8, 9, 10, 11]));
    // The frames a receiver must refuse, after it took the ones listed in `before`.
    let mut flipped = frames[1].clone();
    *flipped.last_mut().unwrap() ^= 1;
    let mut relabelled = frames[1].clone();
    relabelled[..FRAME_HEADER].copy_from_slice(&12u64.to_be_bytes());
    let far = frame(&key, 7 + MAX_AHEAD + 1, false, &[0x04]);
    // Copies of a frame delivered or held already are dropped: delivery goes on as if they
    // never came (a sender may send a held-up frame again on another channel).
    let copies: [(&[u64], &[u64], &str); 2] = [
        (&[7, 7, 8], &[7, 8], "a copy of a delivered frame"),
        (&[9, 9, 7, 8], &[7, 8, 9], "a copy of a held frame"),
    ];
    let copies_json: Vec<Value> = copies
        .iter()
        .map(|(order, delivered, why)| {
            let seq: Vec<Vec<u8>> = order
                .iter()
                .map(|s| frames[usize::try_from(*s - 7).unwrap()].clone())
                .collect();
            assert_eq!(deliver(&key, 7, &seq).as_deref(), Ok(*delivered), "{why}");
            json!({"arrival": order, "delivered": delivered, "why": why})
        })
        .collect();
    let rejected: [(Vec<u64>, Vec<u8>, &str, ErrorCode); 4] = [
        (
            vec![],
            flipped,
            "tag byte flipped",
            ErrorCode::RecordRejected,
        ),
        (
            vec![],
            relabelled,
            "seq in the header changed (sealed at 8, says 12)",
            ErrorCode::RecordRejected,
        ),
        (
            vec![],
            far,
            "seq more than MAX_AHEAD past the next",
            ErrorCode::PeerMisbehaved,
        ),
        (
            vec![],
            frames[0][..7].to_vec(),
            "shorter than its header",
            ErrorCode::PeerMisbehaved,
        ),
    ];
    let rejected_json: Vec<Value> = rejected
        .iter()
        .map(|(before, f, why, code)| {
            let mut seq: Vec<Vec<u8>> = before
                .iter()
                .map(|s| frames[usize::try_from(*s - 7).unwrap()].clone())
                .collect();
            seq.push(f.clone());
            assert_eq!(deliver(&key, 7, &seq).err(), Some(*code), "{why}");
            json!({"before": before, "frame": hex::encode(f), "why": why, "code": code})
        })
        .collect();
    let sdp: Vec<Value> = [
        (OFFER_SDP.to_owned(), 16),
        (OFFER_SDP.replace("lanes:16", "lanes:4"), 4),
        (OFFER_SDP.replace("lanes:16", "lanes:99"), 32),
        (OFFER_SDP.replace("lanes:16", "lanes:x"), 0),
        (OFFER_SDP.replace("a=pairwise-lanes:16\r\n", ""), 0),
    ]
    .into_iter()
    .map(|(sdp, n)| {
        assert_eq!(declared_lanes(&sdp), n);
        json!({"sdp": sdp, "lanes": n})
    })
    .collect();
    let value = json!({
        "key": hex::encode(key),
        "next": 7,
        "frames": frames_json,
        "arrival": arrival,
        "delivered": [7, 8, 9, 10, 11],
        "copies": copies_json,
        "rejected": rejected_json,
        "messages": messages(),
        "sdp": sdp,
    });
    check_or_write("lanes.json", &value);
}
