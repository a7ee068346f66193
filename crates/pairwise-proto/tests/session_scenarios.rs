//! Scenario vectors `testdata/vectors/scenarios/session-*.json`: the session engine
//! (`pairwise_proto::session`) driven step by step through pairings and reconnections, with
//! what each step makes it do. The engine under test is side A; its peer, B, is a second engine
//! run here, whose relayed bodies become A's inputs, so every `hello`, `confirm` and `forgotten`
//! in the files is real and verifies. Keys, nonces and secrets come from labels (`party`).
//!
//! With `PAIRWISE_WRITE_VECTORS=1` it writes one file per scenario; otherwise it checks each
//! file is exactly what the engine does. The format is in `testdata/vectors/README.md`
//! ("Scenarios"); the page's twin of the engine (`web/lib/proto/session.js`) replays them in
//! `web/test/scenarios.test.js`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use pairwise_proto::handshake::{
    Forgotten, Hello, InitiatorAwaitHello, PeerSignal, ReconnectAwaitHello, RememberedPeer,
    ResponderAwaitHello,
};
use pairwise_proto::identity::{HandshakeNonce, PublicKey};
use pairwise_proto::keys::{PairingKey, PairingSecret};
use pairwise_proto::limits::{HANDSHAKE_TIMEOUT_MS, NOT_PAIRED_GRACE_MS};
use pairwise_proto::link::PairingLink;
use pairwise_proto::session::{Action, Config, Outcome, PeerInput, ServerInput, Session, Start};
use pairwise_proto::signal::ServerToClient;
use serde_json::{Value, json};

use crate::common::{Party, check_or_write, party, seed};

fn sdp(who: &str) -> String {
    let fp = seed(&format!("{who} dtls"))
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    format!(
        "v=0\r\ns=-\r\na=fingerprint:sha-256 {fp}\r\na=candidate:1 1 udp 1 198.51.100.7 9 typ host\r\n"
    )
}

fn candidate(text: &str) -> Value {
    json!({"candidate": text, "sdpMid": "0", "sdpMLineIndex": 0})
}

/// A's engine (recorded) and B's (run here), with the steps so far.
struct Duo {
    a: Session,
    b: Session,
    steps: Vec<Value>,
    /// B's bodies not yet given to A.
    to_a: Vec<Value>,
}

impl Duo {
    fn new(a: Session, b: Session) -> Self {
        Self {
            a,
            b,
            steps: Vec::new(),
            to_a: Vec::new(),
        }
    }

    /// Records one step of A: its input, then everything A does (actions, outcome, next wake);
    /// B takes what A relayed.
    fn step(&mut self, at: u64, input: Value, feed: impl FnOnce(&mut Session)) {
        feed(&mut self.a);
        let mut out = Vec::new();
        let mut relayed = Vec::new();
        while let Some(action) = self.a.poll_action() {
            out.push(match action {
                Action::Relay(signal) => {
                    relayed.push(signal.to_value());
                    json!({"relay": signal.to_value()})
                }
                Action::CreateOffer => json!({"create_offer": true}),
                Action::AnswerOffer { sdp } => json!({"answer_offer": sdp}),
                Action::AcceptAnswer { sdp } => json!({"accept_answer": sdp}),
                Action::AddCandidate(c) => json!({"add_candidate": c}),
            });
        }
        match self.a.poll_outcome() {
            Some(Outcome::Established(s)) => out.push(json!({"outcome": {
                "established": {"sas": s.sas().digits(), "peer_identity": hex::encode(s.peer_identity().to_sec1())}
            }})),
            Some(Outcome::Failed { code, .. }) => out.push(json!({"outcome": {"failed": code}})),
            Some(Outcome::Stranger) => out.push(json!({"outcome": "stranger"})),
            None => {}
        }
        out.push(json!({"wake": self.a.poll_timeout()}));
        self.steps
            .push(json!({"at_ms": at, "in": input, "out": out}));
        // B hears what A relays (in order); what B answers waits in `to_a`.
        self.give_b(relayed);
    }

    /// B's next body of `kind` goes to A.
    fn pass(&mut self, at: u64, kind: &str) {
        let body = self.take_from_b(kind);
        self.body(at, body);
    }

    /// A takes a relayed body from the server.
    fn body(&mut self, at: u64, body: Value) {
        let frame = ServerToClient::Relay { body };
        let input = json!({"server": frame});
        self.step(at, input, |a| {
            a.handle_server(at, ServerInput::Frame(frame))
        })
    }

    fn server(&mut self, at: u64, frame: ServerToClient) {
        let input = json!({"server": frame});
        self.step(at, input, |a| {
            a.handle_server(at, ServerInput::Frame(frame))
        })
    }

    fn peer(&mut self, at: u64, input: Value, peer: PeerInput) {
        self.step(at, json!({"peer": input}), |a| a.handle_peer(peer))
    }

    fn timeout(&mut self, at: u64) {
        self.step(at, json!({"timeout": true}), |a| a.handle_timeout(at))
    }

    fn offer_created(&mut self, at: u64) {
        let sdp = sdp("A");
        let input = json!({"offer_created": {"sdp": sdp, "sent": sdp}});
        self.step(at, input, |a| a.offer_created(sdp.clone(), &sdp))
    }

    fn answer_created(&mut self, at: u64) {
        let sdp = sdp("A");
        let input = json!({"answer_created": {"sdp": sdp, "sent": sdp}});
        self.step(at, input, |a| a.answer_created(&sdp, &sdp))
    }

    /// B takes A's bodies and does what it must (it makes offers and answers at once); its own
    /// bodies wait in `to_a`.
    fn give_b(&mut self, bodies: Vec<Value>) {
        for body in bodies {
            self.b
                .handle_server(0, ServerInput::Frame(ServerToClient::Relay { body }));
            self.run_b();
        }
    }

    fn run_b(&mut self) {
        while let Some(action) = self.b.poll_action() {
            match action {
                Action::Relay(signal) => self.to_a.push(signal.to_value()),
                Action::CreateOffer => self.b.offer_created(sdp("B"), &sdp("B")),
                Action::AnswerOffer { .. } => self.b.answer_created(&sdp("B"), &sdp("B")),
                Action::AcceptAnswer { .. } | Action::AddCandidate(_) => {}
            }
        }
    }

    /// B's next body for A, of `kind`.
    fn take_from_b(&mut self, kind: &str) -> Value {
        let i = self
            .to_a
            .iter()
            .position(|b| b["kind"] == kind)
            .unwrap_or_else(|| panic!("B has no {kind} for A: {:?}", self.to_a));
        self.to_a.remove(i)
    }
}

fn pairing_secret(case: &str) -> [u8; 32] {
    seed(&format!("{case} pairing secret"))
}

/// A pairing with A as `a_role`; the start JSON tells a replayer how to build A.
fn pairing(case: &str, a_initiator: bool, config: Config) -> (Duo, Value, Vec<Value>) {
    let secret = pairing_secret(case);
    let (init, resp) = (party(case, "initiator"), party(case, "responder"));
    let link = PairingLink::new(PairingSecret::from_bytes(secret), init.identity.public());
    let initiator = |p: Party| {
        Start::Initiator(InitiatorAwaitHello::start(
            PairingSecret::from_bytes(secret),
            p.identity,
            p.ephemeral,
            HandshakeNonce::from_bytes(p.nonce),
        ))
    };
    let responder = |p: Party| {
        ResponderAwaitHello::start(
            link.clone(),
            p.identity,
            p.ephemeral,
            HandshakeNonce::from_bytes(p.nonce),
        )
    };
    let start = json!({
        "role": if a_initiator { "initiator" } else { "responder" },
        "secret": hex::encode(secret),
        "initiator": init.json,
        "responder": resp.json,
        "config": {"relayed_delay_ms": config.relayed_delay_ms, "has_turn": config.has_turn},
    });
    if a_initiator {
        let (b_state, b_hello) = responder(resp);
        let a = Session::new(initiator(init), config, 0);
        let b = Session::new(Start::Responder(b_state), Config::default(), 0);
        (
            Duo::new(a, b),
            start,
            vec![PeerSignal::Hello(b_hello).to_value()],
        )
    } else {
        let (a_state, a_hello) = responder(resp);
        let a = Session::new(Start::Responder(a_state), config, 0);
        let mut b = Session::new(initiator(init), Config::default(), 0);
        // B takes A's hello (sent before the engine starts) at once.
        b.handle_server(
            0,
            ServerInput::Frame(ServerToClient::Relay {
                body: PeerSignal::Hello(a_hello).to_value(),
            }),
        );
        let mut duo = Duo::new(a, b);
        duo.run_b();
        (duo, start, Vec::new())
    }
}

/// A pairing initiator from B's hello to an open channel.
fn pairing_initiator() -> (Value, Vec<Value>) {
    let (mut d, start, first) = pairing("session-pairing-initiator", true, Config::default());
    d.peer(
        0,
        json!({"local_candidate": candidate("early")}),
        PeerInput::LocalCandidate(candidate("early")),
    );
    d.body(100, first[0].clone());
    d.offer_created(110);
    d.peer(
        120,
        json!({"local_candidate": null}),
        PeerInput::LocalCandidate(Value::Null),
    );
    d.pass(200, "answer");
    d.body(
        210,
        json!({"kind": "candidate", "candidate": candidate("b held")}),
    );
    let confirm = d.take_from_b("confirm");
    d.body(220, confirm.clone());
    d.body(
        230,
        json!({"kind": "candidate", "candidate": candidate("b after")}),
    );
    d.body(240, confirm);
    d.peer(300, json!("channel_open"), PeerInput::ChannelOpen);
    (start, d.steps)
}

/// A pairing responder, with the server repeating a body and talking after the confirm.
fn pairing_responder() -> (Value, Vec<Value>) {
    let (mut d, start, _) = pairing("session-pairing-responder", false, Config::default());
    let hello = d.take_from_b("hello");
    d.body(100, hello.clone());
    d.body(105, hello);
    d.pass(110, "offer");
    d.answer_created(120);
    d.pass(200, "confirm");
    d.server(210, ServerToClient::PeerLeft);
    d.body(220, json!({"kind": "offer", "sdp": "v=0\r\n"}));
    d.step(230, json!({"server_closed": "gone"}), |a| {
        a.handle_server(230, ServerInput::Closed("gone".into()))
    });
    d.peer(300, json!("channel_open"), PeerInput::ChannelOpen);
    (start, d.steps)
}

fn deadline() -> (Value, Vec<Value>) {
    let (mut d, start, _) = pairing("session-deadline", false, Config::default());
    d.pass(100, "hello");
    d.timeout(HANDSHAKE_TIMEOUT_MS - 1);
    d.timeout(HANDSHAKE_TIMEOUT_MS);
    (start, d.steps)
}

fn relayed_delay() -> (Value, Vec<Value>) {
    let config = Config {
        relayed_delay_ms: 1000,
        has_turn: true,
    };
    let (mut d, start, first) = pairing("session-relayed-delay", true, config);
    d.body(0, first[0].clone());
    d.offer_created(10);
    d.pass(20, "answer");
    d.pass(30, "confirm");
    let relay = candidate("candidate:9 1 udp 1 203.0.113.9 9 typ relay raddr 0.0.0.0 rport 0");
    d.body(40, json!({"kind": "candidate", "candidate": relay}));
    d.timeout(1039);
    d.timeout(1040);
    d.peer(
        1050,
        json!({"failed": "ice failed"}),
        PeerInput::Failed("ice failed".into()),
    );
    (start, d.steps)
}

fn bad_confirm() -> (Value, Vec<Value>) {
    let (mut d, start, first) = pairing("session-bad-confirm", true, Config::default());
    d.body(0, first[0].clone());
    d.offer_created(10);
    d.pass(20, "answer");
    let mut confirm = d.take_from_b("confirm");
    // A server that changed one byte of the MAC.
    let mac = confirm["mac"].as_str().unwrap().to_owned();
    let flipped = if mac.starts_with('A') { "B" } else { "A" };
    confirm["mac"] = json!(format!("{flipped}{}", &mac[1..]));
    d.body(30, confirm);
    (start, d.steps)
}

/// A remembered device (A) and its peer B in their room; B's hello sent or not.
fn remembered(case: &str) -> (Duo, Value, PeerSignal) {
    let (pa, pb) = (party(case, "a"), party(case, "b"));
    let key = seed(&format!("{case} pairing key"));
    let b_peer = RememberedPeer::new(pa.identity.public(), PairingKey::from_bytes(key));
    let a_peer = RememberedPeer::new(pb.identity.public(), PairingKey::from_bytes(key));
    let start = json!({
        "role": "reconnect",
        "self": pa.json,
        "peer_identity_pub": hex::encode(pb.identity.public().to_sec1()),
        "pairing_key": hex::encode(key),
        "config": {"relayed_delay_ms": 0, "has_turn": false},
    });
    let (a_state, a_hello) = ReconnectAwaitHello::start(
        a_peer.clone(),
        pa.identity,
        pa.ephemeral,
        HandshakeNonce::from_bytes(pa.nonce),
    )
    .unwrap();
    let (b_state, b_hello) = ReconnectAwaitHello::start(
        b_peer.clone(),
        pb.identity,
        pb.ephemeral,
        HandshakeNonce::from_bytes(pb.nonce),
    )
    .unwrap();
    let a = Session::new(Start::Reconnect(a_state, a_peer), Config::default(), 0);
    let b = Session::new(Start::Reconnect(b_state, b_peer), Config::default(), 0);
    let mut duo = Duo::new(a, b);
    duo.give_b(vec![PeerSignal::Hello(a_hello.clone()).to_value()]);
    duo.to_a.insert(0, PeerSignal::Hello(b_hello).to_value());
    (duo, start, PeerSignal::Hello(a_hello))
}

fn reconnect() -> (Value, Vec<Value>) {
    let (mut d, start, _) = remembered("session-reconnect");
    d.pass(100, "hello");
    // Whoever offers, the other answers; A plays its part.
    if let Some(offer) = d.to_a.iter().position(|b| b["kind"] == "offer") {
        let offer = d.to_a.remove(offer);
        d.body(110, offer);
        d.answer_created(120);
    } else {
        d.offer_created(110);
        d.pass(120, "answer");
    }
    d.pass(200, "confirm");
    d.peer(300, json!("channel_open"), PeerInput::ChannelOpen);
    (start, d.steps)
}

/// B's `hello`, changed by `edit`, as A's input at time 100.
fn edited_hello(d: &mut Duo, edit: impl FnOnce(&mut Hello)) {
    let PeerSignal::Hello(mut hello) = PeerSignal::parse(&d.take_from_b("hello")).unwrap() else {
        unreachable!()
    };
    edit(&mut hello);
    d.body(100, PeerSignal::Hello(hello).to_value());
}

fn stranger() -> (Value, Vec<Value>) {
    let (mut d, start, _) = remembered("session-stranger");
    let (_, other, _) = remembered("session-stranger other");
    let other = other["self"]["identity_pub"].as_str().unwrap();
    let other = PublicKey::from_sec1(&hex::decode(other).unwrap()).unwrap();
    edited_hello(&mut d, |h| h.identity = other);
    (start, d.steps)
}

fn not_paired_grace() -> (Value, Vec<Value>) {
    let (mut d, start, _) = remembered("session-not-paired-grace");
    // B's record of A holds another key, so B took A's role.
    edited_hello(&mut d, |h| h.role = h.role.peer());
    d.server(200, ServerToClient::PeerLeft);
    d.timeout(100 + NOT_PAIRED_GRACE_MS - 1);
    d.body(100 + NOT_PAIRED_GRACE_MS - 1, json!({"kind": "not-paired"}));
    (start, d.steps)
}

fn grace_ends() -> (Value, Vec<Value>) {
    let (mut d, start, _) = remembered("session-grace-ends");
    edited_hello(&mut d, |h| h.role = h.role.peer());
    d.timeout(100 + NOT_PAIRED_GRACE_MS);
    (start, d.steps)
}

fn forgotten() -> (Value, Vec<Value>) {
    let case = "session-forgotten";
    let (mut d, start, a_hello) = remembered(case);
    let (pa, pb) = (party(case, "a"), party(case, "b"));
    let key = seed(&format!("{case} pairing key"));
    let tombstone = RememberedPeer::new(pa.identity.public(), PairingKey::from_bytes(key));
    let PeerSignal::Hello(a_hello) = a_hello else {
        unreachable!()
    };
    let notice = Forgotten::answer(&tombstone, &pb.identity.public(), &a_hello).unwrap();
    d.body(100, PeerSignal::Forgotten(notice).to_value());
    (start, d.steps)
}

/// Builds one scenario: its start and its steps.
type MakeScenario = fn() -> (Value, Vec<Value>);

#[test]
fn session_scenarios() {
    let scenarios: Vec<(&str, &str, MakeScenario)> = vec![
        (
            "session-pairing-initiator",
            "A pairing initiator (§5): answers the responder's hello with its own and an offer, holds every candidate (its own, and the peer's) until the peer's confirm verified, releases them then (the null one included), ignores the repeated confirm, and is established once the channel opens.",
            pairing_initiator,
        ),
        (
            "session-pairing-responder",
            "A pairing responder (§5): a repeated hello is ignored; the offer is answered, the confirm sent with the answer; after the peer's confirm the server's peer-left, a body that is not a candidate and the server closing change nothing (§4.2).",
            pairing_responder,
        ),
        (
            "session-deadline",
            "The handshake has HANDSHAKE_TIMEOUT_MS from the first hello to an open channel, then fails with connect-failed (§5).",
            deadline,
        ),
        (
            "session-relayed-delay",
            "With relayed_delay_ms (a stack that keeps the first pair nominated), the peer's relayed candidates wait; a failure after the confirm with a TURN server is connect-failed.",
            relayed_delay,
        ),
        (
            "session-bad-confirm",
            "A confirm whose MAC the server changed fails verify-failed (§5 step 6).",
            bad_confirm,
        ),
        (
            "session-reconnect",
            "Two remembered devices (§10.3): the role comes from the key order; established with the remembered identity.",
            reconnect,
        ),
        (
            "session-stranger",
            "A hello from another identity in a remembered device's room is answered not-paired and ends as stranger (§10.6).",
            stranger,
        ),
        (
            "session-not-paired-grace",
            "A hello from the paired identity with the wrong role waits NOT_PAIRED_GRACE_MS for the not-paired that explains it, ignoring the server's peer-left; not-paired is unknown-device (§10.6).",
            not_paired_grace,
        ),
        (
            "session-grace-ends",
            "Without the not-paired, the wrong-role hello's error stands at the end of the grace: peer-misbehaved.",
            grace_ends,
        ),
        (
            "session-forgotten",
            "A forgotten notice that verifies against our own hello ends with forgotten (§10.5).",
            forgotten,
        ),
    ];
    let mut names = BTreeSet::new();
    for (name, why, make) in scenarios {
        let (start, steps) = make();
        names.insert(format!("{name}.json"));
        check_or_write(
            &format!("scenarios/{name}.json"),
            &json!({"why": why, "engine": "session", "start": start, "steps": steps}),
        );
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/scenarios");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("session-"))
        .collect();
    let stale: Vec<&String> = on_disk.difference(&names).collect();
    assert!(
        stale.is_empty(),
        "session scenario files without a scenario: {stale:?}"
    );
}
