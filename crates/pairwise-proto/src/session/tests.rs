//! Two session engines against each other, in memory: what each relays and when, candidates
//! held until the confirm, the server's word after it, timers, remembered-device refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};

use super::*;
use crate::handshake::{Hello, V1};
use crate::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret, PublicKey};
use crate::keys::{PairingKey, PairingSecret};
use crate::link::PairingLink;

fn secret(b: u8) -> p256::SecretKey {
    p256::SecretKey::from_slice(&[b; 32]).unwrap()
}

fn identity(b: u8) -> IdentitySecret {
    IdentitySecret::new(secret(b))
}

fn sdp(fp: &str) -> String {
    format!(
        "v=0\r\na=fingerprint:sha-256 {fp}\r\na=candidate:1 1 udp 1 198.51.100.1 9 typ host\r\n"
    )
}

fn host(n: u8) -> Value {
    json!({"candidate": format!("candidate:{n} 1 udp 1 198.51.100.{n} 9 typ host"), "sdpMid": "0", "sdpMLineIndex": 0})
}

fn relayed(n: u8) -> Value {
    json!({"candidate": format!("candidate:{n} 1 udp 1 203.0.113.{n} 9 typ relay"), "sdpMid": "0", "sdpMLineIndex": 0})
}

fn relay(body: Value) -> ServerInput {
    ServerInput::Frame(ServerToClient::Relay { body })
}

/// A pairing: the initiator (A) and the responder (B, whose `hello` went out already).
fn pairing(config: Config) -> (Session, Session, Value) {
    let pairing_secret = [7; 32];
    let a = InitiatorAwaitHello::start(
        PairingSecret::from_bytes(pairing_secret),
        identity(1),
        EphemeralSecret::new(secret(2)),
        HandshakeNonce::from_bytes([3; 32]),
    );
    let link = PairingLink::new(
        PairingSecret::from_bytes(pairing_secret),
        identity(1).public(),
    );
    let (b, hello) = ResponderAwaitHello::start(
        link,
        identity(4),
        EphemeralSecret::new(secret(5)),
        HandshakeNonce::from_bytes([6; 32]),
    );
    (
        Session::new(Start::Initiator(a), config, 0),
        Session::new(Start::Responder(b), config, 0),
        PeerSignal::Hello(hello).to_value(),
    )
}

/// Plays the caller of `s`: makes offers and answers at once, applies SDPs and candidates; returns
/// the bodies to relay and the candidates added.
fn run(s: &mut Session, name: &str) -> (Vec<Value>, Vec<Value>) {
    let mut bodies = Vec::new();
    let mut added = Vec::new();
    while let Some(action) = s.poll_action() {
        match action {
            Action::Relay(signal) => bodies.push(signal.to_value()),
            Action::CreateOffer => {
                s.offer_created(sdp(&format!("{name}:01")), &sdp(&format!("{name}:01")))
            }
            Action::AnswerOffer { .. } => {
                s.answer_created(&sdp(&format!("{name}:02")), &sdp(&format!("{name}:02")))
            }
            Action::AcceptAnswer { .. } => {}
            Action::AddCandidate(c) => added.push(c),
        }
    }
    (bodies, added)
}

fn kinds(bodies: &[Value]) -> Vec<&str> {
    bodies.iter().map(|b| b["kind"].as_str().unwrap()).collect()
}

fn established(s: &mut Session) -> ConfirmedSession {
    match s.poll_outcome() {
        Some(Outcome::Established(c)) => c,
        other => panic!("not established: {other:?}"),
    }
}

fn failed(s: &mut Session) -> ErrorCode {
    match s.poll_outcome() {
        Some(Outcome::Failed { code, .. }) => code,
        other => panic!("not failed: {other:?}"),
    }
}

#[test]
fn a_pairing_confirms_both_sides_and_releases_candidates_only_then() {
    let (mut a, mut b, hello_b) = pairing(Config::default());
    // Candidates gathered early are held on both sides.
    b.handle_peer(PeerInput::LocalCandidate(host(2)));
    a.handle_server(0, relay(hello_b));
    let (to_b, _) = run(&mut a, "aa");
    assert_eq!(kinds(&to_b), ["hello", "offer"]);
    assert!(
        !to_b[1]["sdp"].as_str().unwrap().contains("a=candidate"),
        "candidates go only as candidate bodies"
    );
    a.handle_peer(PeerInput::LocalCandidate(host(1)));
    for body in to_b {
        b.handle_server(10, relay(body));
    }
    let (to_a, added_b) = run(&mut b, "bb");
    assert_eq!(
        kinds(&to_a),
        ["answer", "confirm"],
        "nothing else before A's confirm"
    );
    assert!(added_b.is_empty());
    for body in to_a {
        a.handle_server(20, relay(body));
    }
    let (to_b, _) = run(&mut a, "aa");
    assert_eq!(
        kinds(&to_b),
        ["confirm", "candidate"],
        "A's candidate once B's confirm verified"
    );
    for body in to_b {
        b.handle_server(30, relay(body));
    }
    let (to_a, added_b) = run(&mut b, "bb");
    assert_eq!(kinds(&to_a), ["candidate"]);
    assert_eq!(added_b, [host(1)]);
    a.handle_server(40, relay(to_a[0].clone()));
    assert_eq!(run(&mut a, "aa").1, [host(2)]);
    a.handle_peer(PeerInput::ChannelOpen);
    b.handle_peer(PeerInput::ChannelOpen);
    let (ka, kb) = (established(&mut a), established(&mut b));
    assert_eq!(ka.pairing_key(), kb.pairing_key());
}

#[test]
fn the_server_repeating_a_body_or_speaking_after_the_confirm_changes_nothing() {
    let (mut a, mut b, hello_b) = pairing(Config::default());
    a.handle_server(0, relay(hello_b.clone()));
    a.handle_server(1, relay(hello_b.clone()));
    let (to_b, _) = run(&mut a, "aa");
    assert_eq!(
        kinds(&to_b),
        ["hello", "offer"],
        "a repeated hello is ignored"
    );
    for body in to_b {
        b.handle_server(10, relay(body));
    }
    let (to_a, _) = run(&mut b, "bb");
    for body in to_a {
        a.handle_server(20, relay(body));
    }
    assert!(a.is_confirmed());
    // After the confirm: another hello, garbage, the peer leaving, the server closing.
    a.handle_server(30, relay(hello_b));
    a.handle_server(31, relay(json!({"kind": "nonsense"})));
    a.handle_server(32, ServerInput::Frame(ServerToClient::PeerLeft));
    a.handle_server(33, ServerInput::Closed(String::new()));
    assert!(!a.is_over());
    a.handle_peer(PeerInput::ChannelOpen);
    established(&mut a);
}

#[test]
fn before_the_confirm_the_server_ends_the_session() {
    let (_, mut b, _) = pairing(Config::default());
    b.handle_server(0, ServerInput::Frame(ServerToClient::PeerLeft));
    assert_eq!(failed(&mut b), ErrorCode::PeerLeft);
    let (_, mut b, _) = pairing(Config::default());
    b.handle_server(0, ServerInput::Closed(String::new()));
    assert_eq!(failed(&mut b), ErrorCode::SignalingLost);
    let (_, mut b, _) = pairing(Config::default());
    b.handle_server(0, relay(json!({"kind": "hello", "v": 2})));
    assert_eq!(failed(&mut b), ErrorCode::PeerMisbehaved);
    let (_, mut b, _) = pairing(Config::default());
    b.handle_peer(PeerInput::Data);
    assert_eq!(failed(&mut b), ErrorCode::PeerMisbehaved);
}

#[test]
fn the_handshake_has_its_deadline_from_the_first_hello() {
    let (mut a, mut b, hello_b) = pairing(Config::default());
    assert_eq!(
        a.poll_timeout(),
        None,
        "a pairing initiator waits for its peer as long as it likes"
    );
    assert_eq!(b.poll_timeout(), Some(HANDSHAKE_TIMEOUT_MS));
    a.handle_server(500, relay(hello_b));
    assert_eq!(a.poll_timeout(), Some(500 + HANDSHAKE_TIMEOUT_MS));
    a.handle_timeout(500 + HANDSHAKE_TIMEOUT_MS - 1);
    assert!(!a.is_over());
    a.handle_timeout(500 + HANDSHAKE_TIMEOUT_MS);
    assert_eq!(failed(&mut a), ErrorCode::ConnectFailed);
    b.handle_timeout(HANDSHAKE_TIMEOUT_MS);
    assert_eq!(failed(&mut b), ErrorCode::ConnectFailed);
}

/// A and B confirmed (A initiator), with `config` on A.
fn confirmed(config: Config) -> (Session, Session) {
    let (mut a, _, hello_b) = pairing(config);
    let (_, mut b, _) = pairing(Config::default());
    a.handle_server(0, relay(hello_b));
    let (to_b, _) = run(&mut a, "aa");
    for body in to_b {
        b.handle_server(0, relay(body));
    }
    let (to_a, _) = run(&mut b, "bb");
    for body in to_a {
        a.handle_server(0, relay(body));
    }
    run(&mut a, "aa");
    assert!(a.is_confirmed());
    (a, b)
}

#[test]
fn relayed_candidates_wait_where_the_stack_asks_for_it() {
    let (mut a, _) = confirmed(Config {
        relayed_delay_ms: 1000,
        has_turn: true,
    });
    a.handle_server(
        100,
        relay(json!({"kind": "candidate", "candidate": relayed(9)})),
    );
    a.handle_server(
        100,
        relay(json!({"kind": "candidate", "candidate": host(8)})),
    );
    a.handle_server(100, relay(json!({"kind": "candidate", "candidate": null})));
    assert_eq!(
        run(&mut a, "aa").1,
        [host(8)],
        "the host one at once, the null one never"
    );
    assert_eq!(a.poll_timeout(), Some(1100).min(Some(HANDSHAKE_TIMEOUT_MS)));
    a.handle_timeout(1100);
    assert_eq!(run(&mut a, "aa").1, [relayed(9)]);
}

#[test]
fn a_failed_connection_after_the_confirm_without_turn_is_no_route() {
    let (mut a, _) = confirmed(Config::default());
    a.handle_peer(PeerInput::Failed("ice failed".into()));
    assert_eq!(failed(&mut a), ErrorCode::NoRoute);
    let (mut a, _) = confirmed(Config {
        has_turn: true,
        ..Config::default()
    });
    a.handle_peer(PeerInput::Failed("ice failed".into()));
    assert_eq!(failed(&mut a), ErrorCode::ConnectFailed);
    let (_, mut b, _) = pairing(Config::default());
    b.handle_peer(PeerInput::Failed("ice failed".into()));
    assert_eq!(
        failed(&mut b),
        ErrorCode::ConnectFailed,
        "before the confirm no path was tried"
    );
}

/// A remembered device (identity 1) waiting for identity 4 in their room.
fn remembered() -> (Session, Role) {
    let peer = RememberedPeer::new(identity(4).public(), PairingKey::from_bytes([9; 32]));
    let (state, _) = ReconnectAwaitHello::start(
        peer.clone(),
        identity(1),
        EphemeralSecret::new(secret(2)),
        HandshakeNonce::from_bytes([3; 32]),
    )
    .unwrap();
    let role = state.role();
    (
        Session::new(Start::Reconnect(state, peer), Config::default(), 0),
        role,
    )
}

fn hello_from(id: PublicKey, role: Role) -> Value {
    PeerSignal::Hello(Hello {
        v: V1,
        role,
        identity: id,
        ephemeral: identity(5).public(),
        nonce: HandshakeNonce::from_bytes([6; 32]),
    })
    .to_value()
}

#[test]
fn a_stranger_in_the_room_is_told_not_paired() {
    let (mut a, role) = remembered();
    a.handle_server(0, relay(hello_from(identity(8).public(), role.peer())));
    assert_eq!(kinds(&run(&mut a, "aa").0), ["not-paired"]);
    assert!(matches!(a.poll_outcome(), Some(Outcome::Stranger)));
}

#[test]
fn a_wrong_role_hello_waits_for_the_not_paired_that_explains_it() {
    let (mut a, role) = remembered();
    a.handle_server(0, relay(hello_from(identity(4).public(), role)));
    assert!(!a.is_over());
    assert_eq!(a.poll_timeout(), Some(NOT_PAIRED_GRACE_MS));
    a.handle_server(10, ServerInput::Frame(ServerToClient::PeerLeft));
    a.handle_server(20, relay(json!({"kind": "not-paired"})));
    assert_eq!(failed(&mut a), ErrorCode::UnknownDevice);

    let (mut a, role) = remembered();
    a.handle_server(0, relay(hello_from(identity(4).public(), role)));
    a.handle_timeout(NOT_PAIRED_GRACE_MS);
    assert_eq!(
        failed(&mut a),
        ErrorCode::PeerMisbehaved,
        "no explanation came: the role is wrong"
    );
}

#[test]
fn not_paired_during_a_reconnection_is_unknown_device() {
    let (mut a, _) = remembered();
    a.handle_server(0, relay(json!({"kind": "not-paired"})));
    assert_eq!(failed(&mut a), ErrorCode::UnknownDevice);
}
