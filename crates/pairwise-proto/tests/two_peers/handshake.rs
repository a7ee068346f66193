//! Honest and tampered handshakes, replays, and tampered records.

use crate::harness::*;

#[test]
fn honest_peers_agree_on_sas_and_keys() {
    let (init, resp) = handshake("honest", |_, _| {});
    let (init, resp) = (confirmed(init), confirmed(resp));
    assert_eq!(init.sas(), resp.sas());
    assert_eq!(init.sas().digits().len(), 6);
    assert_eq!(init.pairing_key(), resp.pairing_key());
    let init_identity = IdentitySecret::new(scalar("initiator identity")).public();
    assert_eq!(resp.peer_identity(), &init_identity);
    let ((mut i_seal, mut i_open), (mut r_seal, mut r_open)) = (
        init.into_records(MAX_RECORD_BYTES),
        resp.into_records(MAX_RECORD_BYTES),
    );
    let record = i_seal.seal(b"\x02", false).unwrap();
    assert_eq!(r_open.open(&record).unwrap().inner, b"\x02");
    let record = r_seal.seal(b"\x04x", true).unwrap();
    assert!(i_open.open(&record).unwrap().is_final);
}

#[test]
fn sessions_with_fresh_ephemerals_have_different_keys() {
    let (a, _) = handshake("one", |_, _| {});
    let (b, _) = handshake("two", |_, _| {});
    assert_ne!(confirmed(a).pairing_key(), confirmed(b).pairing_key());
}

fn rewrite_hello(dir: Dir, field: &str, value: Value) -> impl FnMut(Dir, &mut Value) {
    move |d, body| {
        if d == dir && body["kind"] == "hello" {
            body[field] = value.clone();
        }
    }
}

fn attacker_key(label: &str) -> Value {
    let key = IdentitySecret::new(scalar(label)).public();
    json!(String::from(key))
}

#[test]
fn substituted_responder_identity_fails_verification_on_both_sides() {
    let (init, resp) = handshake(
        "subst-identity",
        rewrite_hello(Dir::ToInitiator, "identity", attacker_key("mallory")),
    );
    assert_eq!(failure(&init), ErrorCode::VerifyFailed);
    assert_eq!(failure(&resp), ErrorCode::VerifyFailed);
}

#[test]
fn substituted_ephemeral_fails_verification_on_both_sides() {
    for dir in [Dir::ToInitiator, Dir::ToResponder] {
        let (init, resp) = handshake(
            "subst-ephemeral",
            rewrite_hello(dir, "ephemeral", attacker_key("mallory eph")),
        );
        assert_eq!(failure(&init), ErrorCode::VerifyFailed, "{dir:?}");
        assert_eq!(failure(&resp), ErrorCode::VerifyFailed, "{dir:?}");
    }
}

#[test]
fn substituted_nonce_fails_verification_on_both_sides() {
    let nonce = json!(pairwise_proto::b64::encode(&[0x55; 32]));
    let (init, resp) = handshake(
        "subst-nonce",
        rewrite_hello(Dir::ToResponder, "nonce", nonce),
    );
    assert_eq!(failure(&init), ErrorCode::VerifyFailed);
    assert_eq!(failure(&resp), ErrorCode::VerifyFailed);
}

#[test]
fn substituted_initiator_identity_is_caught_against_the_link() {
    let (_, resp) = handshake(
        "subst-init-identity",
        rewrite_hello(Dir::ToResponder, "identity", attacker_key("mallory")),
    );
    let State::Failed(err) = &resp.state else {
        panic!("responder accepted a foreign initiator");
    };
    assert_eq!(err, &HandshakeError::IdentityMismatch);
    assert_eq!(err.code(), ErrorCode::VerifyFailed);
}

#[test]
fn rewritten_sdp_fingerprint_fails_verification_on_both_sides() {
    for kind in ["offer", "answer"] {
        let (init, resp) = handshake("fingerprint", |_, body| {
            if body["kind"] == kind {
                let sdp = body["sdp"].as_str().unwrap().to_owned();
                let line = sdp
                    .lines()
                    .find(|l| l.starts_with("a=fingerprint:"))
                    .unwrap();
                body["sdp"] = json!(sdp.replace(line, "a=fingerprint:sha-256 00:11:22:33"));
            }
        });
        assert_eq!(failure(&init), ErrorCode::VerifyFailed, "{kind}");
        assert_eq!(failure(&resp), ErrorCode::VerifyFailed, "{kind}");
    }
}

#[test]
fn replayed_hello_from_an_older_session_fails_verification_on_both_sides() {
    let (old_init, _) = handshake("old", |_, _| {});
    let old_hello = old_init.own_hello.clone().unwrap();
    let (init, resp) = handshake("new", move |dir, body| {
        if dir == Dir::ToResponder && body["kind"] == "hello" {
            *body = old_hello.clone();
        }
    });
    assert_eq!(failure(&init), ErrorCode::VerifyFailed);
    assert_eq!(failure(&resp), ErrorCode::VerifyFailed);
}

#[test]
fn replayed_confirm_from_an_older_session_is_refused() {
    let mut old_confirm = None;
    let _ = handshake("old-confirm", |dir, body| {
        if dir == Dir::ToInitiator && body["kind"] == "confirm" {
            old_confirm = Some(body.clone());
        }
    });
    let old_confirm = old_confirm.unwrap();
    let (init, _) = handshake("new-confirm", |dir, body| {
        if dir == Dir::ToInitiator && body["kind"] == "confirm" {
            *body = old_confirm.clone();
        }
    });
    assert_eq!(failure(&init), ErrorCode::VerifyFailed);
}

#[test]
fn replayed_duplicated_reordered_truncated_and_tampered_records_are_rejected() {
    type Attack = fn(&[Vec<u8>]) -> Vec<Vec<u8>>;
    let attacks: [(&str, Attack); 5] = [
        ("replayed", |r| {
            vec![r[0].clone(), r[1].clone(), r[0].clone()]
        }),
        ("duplicated", |r| vec![r[0].clone(), r[0].clone()]),
        ("reordered", |r| vec![r[1].clone(), r[0].clone()]),
        ("truncated", |r| vec![r[0][..r[0].len() - 1].to_vec()]),
        ("tampered", |r| {
            let mut t = r[0].clone();
            t[2] ^= 0x40;
            vec![t]
        }),
    ];
    for (name, attack) in attacks {
        let ((mut seal, _), (_, mut open)) = records(MAX_RECORD_BYTES);
        let sent: Vec<Vec<u8>> = (0u8..3)
            .map(|i| seal.seal(&[0x04, i], false).unwrap())
            .collect();
        let delivered = attack(&sent);
        let results: Vec<Result<_, RecordError>> = delivered.iter().map(|r| open.open(r)).collect();
        let err = results
            .iter()
            .find_map(|r| r.as_ref().err())
            .unwrap_or_else(|| panic!("{name} record was accepted"));
        assert_eq!(err.code(), ErrorCode::RecordRejected, "{name}");
        // After a rejection, the session is over even for a genuine next record.
        assert_eq!(
            open.open(&sent[2]),
            Err(RecordError::SessionFailed),
            "{name}"
        );
    }
}
