//! Shared test vectors for remembered devices (`docs/protocol.md` §10):
//! `testdata/vectors/remembered.json` — day numbers, daily rooms, roles, a full reconnection
//! handshake, the `forgotten` notice and device names. `web/test` checks the same file.
//!
//! Like `vectors.rs`: `PAIRWISE_WRITE_VECTORS=1` writes the file, otherwise it must match.

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use pairwise_proto::device::DeviceName;
use pairwise_proto::handshake::{
    Forgotten, HandshakeError, PeerSignal, ReconnectAwaitHello, RememberedPeer, Role,
    TranscriptHash, reconnect_role, sdp_fingerprint, utc_day,
};
use pairwise_proto::identity::{HandshakeNonce, Ikm};
use pairwise_proto::keys::{KeySchedule, PairingKey, SessionSalt, label};
use serde_json::{Value, json};

use crate::common::{Party, check_or_write, party, seed};

fn fp(label: &str) -> pairwise_proto::handshake::DtlsFingerprint {
    let hex: Vec<String> = seed(label).iter().map(|b| format!("{b:02X}")).collect();
    sdp_fingerprint(&format!("a=fingerprint:sha-256 {}\r\n", hex.join(":"))).unwrap()
}

/// Two parties of a remembered pair, ordered so that `.0` is the initiator.
fn ordered(case: &str) -> (Party, Party) {
    let a = party(case, "a");
    let b = party(case, "b");
    if reconnect_role(&a.identity.public(), &b.identity.public()).unwrap() == Role::Initiator {
        (a, b)
    } else {
        (b, a)
    }
}

fn session_case(case: &str) -> Value {
    let pk = PairingKey::from_bytes(seed(&format!("{case} pairing key")));
    let (init, resp) = ordered(case);
    let (init_json, resp_json) = (init.json.clone(), resp.json.clone());
    let (fp_offer, fp_answer) = (fp(&format!("{case} offer")), fp(&format!("{case} answer")));
    let ikm = Ikm::compute(
        &init.ephemeral,
        &resp.ephemeral.public(),
        &init.identity,
        &resp.identity.public(),
    );
    let remembered_by_init = RememberedPeer::new(resp.identity.public(), pk.clone());
    let remembered_by_resp = RememberedPeer::new(init.identity.public(), pk.clone());
    let (i_state, hello_i) = ReconnectAwaitHello::start(
        remembered_by_init,
        init.identity,
        init.ephemeral,
        HandshakeNonce::from_bytes(init.nonce),
    )
    .unwrap();
    let (r_state, hello_r) = ReconnectAwaitHello::start(
        remembered_by_resp,
        resp.identity,
        resp.ephemeral,
        HandshakeNonce::from_bytes(resp.nonce),
    )
    .unwrap();
    assert_eq!(
        (i_state.role(), r_state.role()),
        (Role::Initiator, Role::Responder)
    );
    let i_sdps = i_state.handle_hello(hello_r.clone()).unwrap();
    let r_sdps = r_state.handle_hello(hello_i.clone()).unwrap();
    let th = TranscriptHash::compute_labelled(
        label::RECONNECT_TRANSCRIPT,
        &hello_i,
        &hello_r,
        &fp_offer,
        &fp_answer,
    );
    let keys = KeySchedule::derive(&ikm, &SessionSalt::Reconnect(pk.clone()), &th);
    let (i_confirm, confirm_i) = i_sdps.handle_sdps(&fp_offer, &fp_answer);
    let (r_confirm, confirm_r) = r_sdps.handle_sdps(&fp_offer, &fp_answer);
    assert_eq!(i_confirm.transcript_hash(), &th);
    assert_eq!(r_confirm.transcript_hash(), &th);
    i_confirm.handle_confirm(&confirm_r).unwrap();
    r_confirm.handle_confirm(&confirm_i).unwrap();
    json!({
        "name": case,
        "pairing_key": hex::encode(pk.as_bytes()),
        "initiator": init_json,
        "responder": resp_json,
        "fp_offer": fp_offer.as_str(),
        "fp_answer": fp_answer.as_str(),
        "hello_initiator": PeerSignal::Hello(hello_i).to_value(),
        "hello_responder": PeerSignal::Hello(hello_r).to_value(),
        "ikm": hex::encode(ikm.as_bytes()),
        "transcript_hash": hex::encode(th.as_bytes()),
        "keys": {
            "confirm_initiator": hex::encode(keys.confirm_initiator.as_bytes()),
            "confirm_responder": hex::encode(keys.confirm_responder.as_bytes()),
            "record_initiator": hex::encode(keys.record_initiator.as_bytes()),
            "record_responder": hex::encode(keys.record_responder.as_bytes()),
        },
        "confirm_initiator": PeerSignal::Confirm(confirm_i).to_value(),
        "confirm_responder": PeerSignal::Confirm(confirm_r).to_value(),
    })
}

/// A's `forgotten` notice to B, answering B's hello; and what B makes of it and of fakes.
fn forgotten_case(case: &str) -> Value {
    let pk = PairingKey::from_bytes(seed(&format!("{case} pairing key")));
    let a = party(case, "forgetting");
    let b = party(case, "forgotten");
    let b_json = b.json.clone();
    let a_pub = a.identity.public();
    let kept_by_b = RememberedPeer::new(a_pub.clone(), pk.clone());
    let tombstone_at_a = RememberedPeer::new(b.identity.public(), pk.clone());
    let (_, hello_b) = ReconnectAwaitHello::start(
        kept_by_b.clone(),
        b.identity,
        b.ephemeral,
        HandshakeNonce::from_bytes(b.nonce),
    )
    .unwrap();
    let notice = Forgotten::answer(&tombstone_at_a, &a_pub, &hello_b).unwrap();
    notice.verify(&kept_by_b, &hello_b).unwrap();

    // The same notice does not verify for another nonce (a replay), or from another pairing.
    let mut replayed = hello_b.clone();
    replayed.nonce = HandshakeNonce::from_bytes(seed(&format!("{case} other nonce")));
    assert_eq!(
        notice.verify(&kept_by_b, &replayed),
        Err(HandshakeError::BadForgotten)
    );
    let other = RememberedPeer::new(
        a_pub.clone(),
        PairingKey::from_bytes(seed(&format!("{case} other key"))),
    );
    assert_eq!(
        notice.verify(&other, &hello_b),
        Err(HandshakeError::BadForgotten)
    );
    json!({
        "name": case,
        "pairing_key": hex::encode(pk.as_bytes()),
        "forget_key": hex::encode(pk.forget_key().as_bytes()),
        "forgetting_identity_pub": hex::encode(a_pub.to_sec1()),
        "forgotten": b_json,
        "hello_forgotten": PeerSignal::Hello(hello_b).to_value(),
        "notice": PeerSignal::Forgotten(notice).to_value(),
        "replayed_nonce": hex::encode(replayed.nonce.as_bytes()),
    })
}

#[test]
fn remembered_vectors() {
    let days: Vec<Value> = [0_u64, 86_399, 86_400, 1_764_028_800, 1_795_651_199]
        .iter()
        .map(|&unix| json!({"unix_seconds": unix, "day": utc_day(unix)}))
        .collect();
    let rooms: Vec<Value> = [("room 1", 0_u32), ("room 1", 20_417), ("room 1", 20_418), ("room 2", 20_417)]
        .iter()
        .map(|&(case, day)| {
            let pk = PairingKey::from_bytes(seed(case));
            json!({"pairing_key": hex::encode(pk.as_bytes()), "day": day, "room": pk.room(day).as_str()})
        })
        .collect();
    let roles: Vec<Value> = ["roles 1", "roles 2", "roles 3"]
        .iter()
        .map(|case| {
            let a = party(case, "a").identity.public();
            let b = party(case, "b").identity.public();
            let role = reconnect_role(&a, &b).unwrap();
            assert_eq!(reconnect_role(&b, &a).unwrap(), role.peer());
            json!({"own": hex::encode(a.to_sec1()), "peer": hex::encode(b.to_sec1()), "role": role})
        })
        .collect();
    let names_ok = [
        "Pixel 8",
        "Work laptop",
        "Anna's 日本 laptop",
        &"x".repeat(64),
    ]
    .map(|n| {
        assert!(DeviceName::parse(n).is_ok());
        json!(n)
    });
    let long = "x".repeat(65);
    let names_bad = [
        "",
        " lead",
        "trail ",
        "tab\tname",
        "a\u{0}b",
        "rlo\u{202e}x",
        "lri\u{2066}x",
        long.as_str(),
    ]
    .map(|n| {
        assert!(DeviceName::parse(n).is_err(), "{n:?}");
        json!(n)
    });
    check_or_write(
        "remembered.json",
        &json!({
            "days": days,
            "rooms": rooms,
            "roles": roles,
            "sessions": [session_case("reconnect 1"), session_case("reconnect 2")],
            "forgotten": [forgotten_case("forgotten 1")],
            "device_names": {"valid": names_ok, "invalid": names_bad},
        }),
    );
}

#[test]
fn a_hello_from_another_identity_is_unknown_device() {
    let pk = PairingKey::from_bytes(seed("unknown pk"));
    let a = party("unknown", "a");
    let b = party("unknown", "b");
    let c = party("unknown", "c");
    let (state, _) = ReconnectAwaitHello::start(
        RememberedPeer::new(b.identity.public(), pk.clone()),
        a.identity,
        a.ephemeral,
        HandshakeNonce::from_bytes(a.nonce),
    )
    .unwrap();
    // C (a restored or foreign key) says hello in the pair's room.
    let (_, hello_c) = ReconnectAwaitHello::start(
        RememberedPeer::new(party("unknown", "a").identity.public(), pk),
        c.identity,
        c.ephemeral,
        HandshakeNonce::from_bytes(c.nonce),
    )
    .unwrap();
    let err = state.handle_hello(hello_c).unwrap_err();
    assert_eq!(err, HandshakeError::KeyChanged);
    assert_eq!(
        serde_json::to_value(err.code()).unwrap(),
        json!("key-changed")
    );
}

#[test]
fn a_replayed_session_fails_key_confirmation() {
    // The server records a whole reconnection, then replays the responder's messages to the
    // initiator in a new session: the initiator's fresh ephemeral key and nonce change `th`
    // and the keys, so the recorded confirm cannot verify.
    let case = "replay";
    let pk = PairingKey::from_bytes(seed("replay pk"));
    let (init, resp) = ordered(case);
    let init_secret = init.identity.clone();
    let resp_pub = resp.identity.public();
    let (fp_offer, fp_answer) = (fp("replay offer"), fp("replay answer"));
    let (i_old, hello_i_old) = ReconnectAwaitHello::start(
        RememberedPeer::new(resp_pub.clone(), pk.clone()),
        init.identity,
        init.ephemeral,
        HandshakeNonce::from_bytes(init.nonce),
    )
    .unwrap();
    let (r_old, hello_r_old) = ReconnectAwaitHello::start(
        RememberedPeer::new(init_secret.public(), pk.clone()),
        resp.identity,
        resp.ephemeral,
        HandshakeNonce::from_bytes(resp.nonce),
    )
    .unwrap();
    let _ = i_old.handle_hello(hello_r_old.clone()).unwrap();
    let (_, old_confirm_r) = r_old
        .handle_hello(hello_i_old)
        .unwrap()
        .handle_sdps(&fp_offer, &fp_answer);

    let fresh = party("replay fresh", "initiator");
    let (i_new, _) = ReconnectAwaitHello::start(
        RememberedPeer::new(resp_pub, pk),
        init_secret,
        fresh.ephemeral,
        HandshakeNonce::from_bytes(fresh.nonce),
    )
    .unwrap();
    let (confirm_state, _) = i_new
        .handle_hello(hello_r_old)
        .unwrap()
        .handle_sdps(&fp_offer, &fp_answer);
    let err = confirm_state.handle_confirm(&old_confirm_r).unwrap_err();
    assert_eq!(err, HandshakeError::BadConfirm);
    assert_eq!(
        serde_json::to_value(err.code()).unwrap(),
        json!("verify-failed")
    );
}

#[test]
fn pairing_and_reconnect_transcripts_differ() {
    let (init, resp) = ordered("labels");
    let pk = PairingKey::from_bytes(seed("labels pk"));
    let (_, hello_i) = ReconnectAwaitHello::start(
        RememberedPeer::new(resp.identity.public(), pk.clone()),
        init.identity,
        init.ephemeral,
        HandshakeNonce::from_bytes(init.nonce),
    )
    .unwrap();
    let (_, hello_r) = ReconnectAwaitHello::start(
        RememberedPeer::new(hello_i.identity.clone(), pk),
        resp.identity,
        resp.ephemeral,
        HandshakeNonce::from_bytes(resp.nonce),
    )
    .unwrap();
    let (o, a) = (fp("labels offer"), fp("labels answer"));
    assert_ne!(
        TranscriptHash::compute(&hello_i, &hello_r, &o, &a),
        TranscriptHash::compute_labelled(label::RECONNECT_TRANSCRIPT, &hello_i, &hello_r, &o, &a)
    );
}
