//! The session engine (`pairwise_proto::session`), fed what a hostile server can send: any
//! sequence of server frames, closes and the caller's own inputs, as newline-separated JSON in
//! the `in` form of `testdata/vectors/scenarios/session-*.json`. The engine starts as the
//! responder of `session-pairing-responder.json` (its keys), so the seeds (that scenario's own
//! inputs, `fuzz/seeds.py`) carry a real `hello`, offer and `confirm` and reach every stage.
//!
//! Checks: no panic; nothing after the outcome; no timeout once over; and the rule of §5 step 7:
//! no candidate is relayed or added before the peer's confirm verified.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pairwise_proto::handshake::{PeerSignal, ResponderAwaitHello};
use pairwise_proto::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret, PublicKey};
use pairwise_proto::keys::PairingSecret;
use pairwise_proto::link::PairingLink;
use pairwise_proto::session::{Action, Config, Outcome, PeerInput, ServerInput, Session, Start};
use pairwise_proto::signal::ServerToClient;
use serde_json::Value;

static SCENARIO: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!(
        "../../testdata/vectors/scenarios/session-pairing-responder.json"
    ))
    .expect("the scenario file is JSON")
});

fn bytes<const N: usize>(v: &Value) -> [u8; N] {
    let text = v.as_str().expect("hex");
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

fn start() -> Session {
    let s = &SCENARIO["start"];
    let me = &s["responder"];
    let secret = |v: &Value| p256::SecretKey::from_slice(&bytes::<32>(v)).expect("a scalar");
    let initiator = hex_vec(&s["initiator"]["identity_pub"]);
    let link = PairingLink::new(
        PairingSecret::from_bytes(bytes::<32>(&s["secret"])),
        PublicKey::from_sec1(&initiator).expect("a point"),
    );
    let (state, _) = ResponderAwaitHello::start(
        link,
        IdentitySecret::new(secret(&me["identity_priv"])),
        EphemeralSecret::new(secret(&me["ephemeral_priv"])),
        HandshakeNonce::from_bytes(bytes::<32>(&me["nonce"])),
    );
    Session::new(
        Start::Responder(state),
        Config {
            relayed_delay_ms: 1000,
            has_turn: false,
        },
        0,
    )
}

fn hex_vec(v: &Value) -> Vec<u8> {
    let text = v.as_str().expect("hex");
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut s = start();
    let mut over = false;
    for (i, line) in text.split('\n').enumerate() {
        let at = 10 * i as u64;
        let Ok(input) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let confirmed_before = s.is_confirmed();
        if let Some(frame) = input.get("server") {
            if let Ok(frame) = serde_json::from_value::<ServerToClient>(frame.clone()) {
                s.handle_server(at, ServerInput::Frame(frame));
            }
        } else if let Some(why) = input.get("server_closed") {
            s.handle_server(at, ServerInput::Closed(why.to_string()));
        } else if let Some(p) = input.get("peer") {
            let peer = match p {
                Value::String(k) if k == "channel_open" => PeerInput::ChannelOpen,
                Value::String(k) if k == "closed" => PeerInput::Closed,
                Value::String(k) if k == "data" => PeerInput::Data,
                Value::Object(o) if o.contains_key("failed") => PeerInput::Failed("x".into()),
                Value::Object(o) => match o.get("local_candidate") {
                    Some(c) => PeerInput::LocalCandidate(c.clone()),
                    None => continue,
                },
                _ => continue,
            };
            s.handle_peer(peer);
        } else if let Some(made) = input.get("answer_created") {
            let sdp = made["sdp"].as_str().unwrap_or_default();
            s.answer_created(sdp, made["sent"].as_str().unwrap_or_default());
        } else if let Some(made) = input.get("offer_created") {
            let sdp = made["sdp"].as_str().unwrap_or_default().to_owned();
            s.offer_created(sdp, made["sent"].as_str().unwrap_or_default());
        } else if input.get("timeout").is_some() {
            s.handle_timeout(at);
        }
        while let Some(action) = s.poll_action() {
            assert!(!over, "an action after the outcome: {action:?}");
            if matches!(action, Action::AddCandidate(Value::Null)) {
                panic!("a null candidate added");
            }
            match action {
                Action::Relay(PeerSignal::Candidate { .. }) | Action::AddCandidate(_) => {
                    // Released in the step that verified the confirm, or later.
                    assert!(
                        s.is_confirmed() || confirmed_before || s.is_over(),
                        "a candidate before the confirm: {action:?}"
                    );
                }
                _ => {}
            }
        }
        if let Some(outcome) = s.poll_outcome() {
            assert!(!over, "a second outcome");
            over = true;
            if let Outcome::Established(_) = outcome {
                assert!(s.is_over());
            }
        }
        if over {
            assert!(s.poll_timeout().is_none(), "a timer once over");
        }
    }
});
