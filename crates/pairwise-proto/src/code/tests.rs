use crate::limits::CODE_COMPARE_TIMEOUT_MS;
use serde_json::json;

use super::*;
use crate::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret, PublicKey};
use crate::link::PairingLink;
use crate::signal::ServerToClient;

fn key(byte: u8) -> p256::SecretKey {
    p256::SecretKey::from_slice(&[byte; 32]).unwrap()
}

fn initiator() -> (CodeExchange, PublicKey) {
    let identity = IdentitySecret::new(key(1)).public();
    let ex = CodeExchange::initiator(
        identity.clone(),
        EphemeralSecret::new(key(2)),
        HandshakeNonce::from_bytes([3; 32]),
    );
    (ex, identity)
}

fn responder() -> CodeExchange {
    CodeExchange::responder(
        EphemeralSecret::new(key(4)),
        HandshakeNonce::from_bytes([5; 32]),
    )
}

fn joined(peers: usize) -> ServerToClient {
    ServerToClient::Joined {
        peers,
        ice: Vec::new(),
    }
}

/// Hands every body `from` wants to send to `to`, as the server would.
fn pass(from: &mut CodeExchange, to: &mut CodeExchange) {
    while let Some(body) = from.poll_send() {
        to.handle_body(0, &body.to_value());
    }
}

/// Runs both sides up to the numbers; returns them.
fn to_numbers() -> (CodeExchange, CodeExchange, PublicKey) {
    let (mut i, identity) = initiator();
    let mut r = responder();
    i.handle_server(0, &joined(1));
    r.handle_server(0, &joined(2));
    i.handle_server(0, &ServerToClient::PeerJoined);
    pass(&mut i, &mut r); // commit
    pass(&mut r, &mut i); // key
    pass(&mut i, &mut r); // open
    (i, r, identity)
}

fn done(ex: &mut CodeExchange) -> PairingLink {
    ex.poll_outcome().expect("an outcome").expect("a link")
}

fn failed(ex: &mut CodeExchange) -> ErrorCode {
    ex.poll_outcome()
        .expect("an outcome")
        .expect_err("an error")
        .code()
}

#[test]
fn random_bytes_give_a_uniform_code_by_rejection() {
    // 4 199 999 999 is the last value taken; 4 200 000 000 and above are skipped.
    let last = 4_199_999_999u32.to_be_bytes();
    assert_eq!(
        PairingCode::from_random(&last).unwrap().digits(),
        "99999999"
    );
    let first_skipped = 4_200_000_000u32.to_be_bytes();
    assert_eq!(PairingCode::from_random(&first_skipped), None);
    let both = [first_skipped, 48_219_377u32.to_be_bytes()].concat();
    let code = PairingCode::from_random(&both).unwrap();
    assert_eq!(code.to_string(), "4821 9377");
    assert_eq!(PairingCode::from_random(&[0, 0, 0]), None);
    assert_eq!(
        PairingCode::from_random(&[0; 4]).unwrap().to_string(),
        "0000 0000"
    );
    assert_eq!(format!("{code:?}"), "PairingCode(..)");
}

#[test]
fn typed_codes_lose_spaces_and_dashes_and_need_eight_digits() {
    for ok in [
        "48219377",
        "4821 9377",
        "4821-9377",
        " 4-8-2-1 93 77 ",
        "4821--9377",
    ] {
        assert_eq!(PairingCode::parse(ok).unwrap().digits(), "48219377", "{ok}");
    }
    for bad in [
        "",
        "4821937",
        "482193770",
        "4821 937a",
        "4821_9377",
        "４８２１９３７７",
        "+4821937",
        "4821\t9377",
    ] {
        assert_eq!(PairingCode::parse(bad), Err(BadCode), "{bad}");
    }
    assert_eq!(BadCode.code(), ErrorCode::BadCode);
}

#[test]
fn the_room_depends_on_the_code_only() {
    let a = PairingCode::parse("4821 9377").unwrap();
    assert_eq!(a.room(), PairingCode::parse("48219377").unwrap().room());
    assert_ne!(a.room(), PairingCode::parse("48219378").unwrap().room());
    assert_eq!(a.room().as_str().len(), 22);
}

#[test]
fn numbers_are_six_digits_in_two_groups() {
    let n = CodeNumber::from_bytes(0x0000_a3e5u32.to_be_bytes());
    assert_eq!(n.digits(), "041957");
    assert_eq!(n.to_string(), "041 957");
}

#[test]
fn both_sides_agree_on_number_secret_and_identity() {
    let (mut i, mut r, identity) = to_numbers();
    assert!(i.number().is_some());
    assert_eq!(i.number(), r.number());
    i.handle_answer(true);
    let link_i = done(&mut i);
    r.handle_answer(true);
    assert!(
        r.poll_outcome().is_none(),
        "the responder also waits for code-match"
    );
    pass(&mut i, &mut r); // match
    let link_r = done(&mut r);
    assert_eq!(link_i, link_r);
    assert_eq!(link_r.initiator(), &identity);
}

#[test]
fn code_match_may_come_before_the_responders_yes() {
    let (mut i, mut r, _) = to_numbers();
    i.handle_answer(true);
    pass(&mut i, &mut r);
    assert!(r.poll_outcome().is_none());
    assert!(r.awaits_answer());
    r.handle_answer(true);
    assert_eq!(done(&mut r), done(&mut i));
}

#[test]
fn a_server_relaying_its_own_keys_both_ways_gets_different_numbers() {
    // The server plays responder to the initiator and initiator to the responder.
    let (mut i, _) = initiator();
    let mut r = responder();
    let mallory_identity = IdentitySecret::new(key(9)).public();
    let mut m_as_r = CodeExchange::responder(
        EphemeralSecret::new(key(7)),
        HandshakeNonce::from_bytes([7; 32]),
    );
    let mut m_as_i = CodeExchange::initiator(
        mallory_identity,
        EphemeralSecret::new(key(8)),
        HandshakeNonce::from_bytes([8; 32]),
    );
    i.handle_server(0, &ServerToClient::PeerJoined);
    m_as_r.handle_server(0, &joined(2));
    m_as_i.handle_server(0, &ServerToClient::PeerJoined);
    r.handle_server(0, &joined(2));
    pass(&mut i, &mut m_as_r);
    pass(&mut m_as_i, &mut r);
    pass(&mut m_as_r, &mut i);
    pass(&mut r, &mut m_as_i);
    pass(&mut i, &mut m_as_r);
    pass(&mut m_as_i, &mut r);
    let (ni, nr) = (i.number().unwrap(), r.number().unwrap());
    assert_ne!(
        ni, nr,
        "each side shares its number with the server, not with the other"
    );
}

#[test]
fn a_code_open_that_does_not_match_the_commitment_is_verify_failed() {
    let (mut i, _) = initiator();
    let mut r = responder();
    r.handle_server(0, &joined(2));
    i.handle_server(0, &ServerToClient::PeerJoined);
    pass(&mut i, &mut r);
    pass(&mut r, &mut i);
    let Some(CodeBody::CodeOpen {
        ephemeral, nonce, ..
    }) = i.poll_send()
    else {
        panic!("code-open expected");
    };
    let swapped = CodeBody::CodeOpen {
        ephemeral,
        nonce,
        identity: IdentitySecret::new(key(9)).public(),
    };
    r.handle_body(0, &swapped.to_value());
    assert_eq!(failed(&mut r), ErrorCode::VerifyFailed);
}

#[test]
fn repeats_are_ignored_and_other_bodies_out_of_turn_are_refused() {
    let (mut i, mut r, _) = to_numbers();
    // The server repeats the commit and the open: ignored.
    let commit = r.seen[0].clone();
    let open = r.seen[1].clone();
    r.handle_body(0, &commit);
    r.handle_body(0, &open);
    assert!(!r.is_over());
    assert!(r.is_repeat(&open));
    // A second, different code-open.
    let mut other = open.clone();
    other["nonce"] = json!(crate::b64::encode(&[6; 32]));
    r.handle_body(0, &other);
    assert_eq!(failed(&mut r), ErrorCode::PeerMisbehaved);
    // A hello before the code-match is out of order for the initiator too.
    i.handle_body(0, &json!({"kind": "code-match"}));
    assert_eq!(failed(&mut i), ErrorCode::PeerMisbehaved);
}

#[test]
fn malformed_bodies_are_refused() {
    let b64 = crate::b64::encode;
    let eph = b64(&EphemeralSecret::new(key(4)).public().to_sec1());
    for bad in [
        json!(["code-key", eph, b64(&[5; 32])]),
        json!({"kind": "code-key", "ephemeral": eph}),
        json!({"kind": "code-key", "ephemeral": eph, "nonce": b64(&[5; 31])}),
        json!({"kind": "code-key", "ephemeral": eph, "nonce": b64(&[5; 32]), "x": 1}),
        json!({"kind": "code-key", "ephemeral": b64(&[4; 65]), "nonce": b64(&[5; 32])}),
        json!({"kind": "hello"}),
        json!({"kind": "code-commit", "commit": b64(&[1; 32])}),
    ] {
        let (mut i, _) = initiator();
        i.handle_server(0, &ServerToClient::PeerJoined);
        let _ = i.poll_send();
        i.handle_body(0, &bad);
        assert_eq!(failed(&mut i), ErrorCode::PeerMisbehaved, "{bad}");
    }
}

#[test]
fn no_ends_with_numbers_differ_and_silence_with_connect_failed() {
    let (mut i, mut r, _) = to_numbers();
    i.handle_answer(false);
    assert_eq!(failed(&mut i), ErrorCode::NumbersDiffer);
    assert_eq!(r.poll_timeout(), Some(CODE_COMPARE_TIMEOUT_MS));
    r.handle_timeout(CODE_COMPARE_TIMEOUT_MS - 1);
    assert!(!r.is_over());
    r.handle_timeout(CODE_COMPARE_TIMEOUT_MS);
    assert_eq!(failed(&mut r), ErrorCode::ConnectFailed);
}

#[test]
fn an_empty_room_is_code_unknown_and_a_full_one_code_used() {
    let mut r = responder();
    r.handle_server(0, &joined(1));
    assert_eq!(failed(&mut r), ErrorCode::CodeUnknown);
    let mut r = responder();
    r.handle_server(
        0,
        &ServerToClient::Error {
            code: ErrorCode::RoomFull,
            message: String::new(),
        },
    );
    assert_eq!(failed(&mut r), ErrorCode::CodeUsed);
    let (mut i, _) = initiator();
    i.handle_server(0, &joined(1));
    assert!(
        i.poll_send().is_none(),
        "the commit waits for the responder"
    );
    i.handle_server(0, &ServerToClient::PeerLeft);
    assert_eq!(failed(&mut i), ErrorCode::PeerLeft);
}
