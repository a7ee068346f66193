//! Two in-memory peers run the whole protocol through a fake relay that may tamper: the
//! handshake (hellos, SDP offer and answer with fingerprints, confirms), then records and a
//! transfer of several files.
//!
//! Over 400 lines on purpose: the harness (peer driver and tampering relay) and the scenarios it
//! exists for read best together.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::collections::VecDeque;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    AwaitConfirm, AwaitSdps, ConfirmedSession, HandshakeError, InitiatorAwaitHello, PeerSignal,
    ResponderAwaitHello, Role, sdp_fingerprint,
};
use pairwise_proto::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
use pairwise_proto::keys::PairingSecret;
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::link::PairingLink;
use pairwise_proto::name::SafeName;
use pairwise_proto::record::{RecordError, RecordOpener, RecordSealer};
use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, Receiver, ReceiverEvent, Route, Sender, SenderEvent,
    TransferError, max_chunk,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

fn bytes(label: &str) -> [u8; 32] {
    Sha256::digest(label).into()
}

fn scalar(label: &str) -> p256::SecretKey {
    p256::SecretKey::from_slice(&bytes(label)).unwrap()
}

fn sdp(label: &str) -> String {
    let hex: Vec<String> = bytes(label).iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "v=0\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
         a=fingerprint:sha-256 {}\r\na=setup:actpass\r\n",
        hex.join(":")
    )
}

enum State {
    InitHello(InitiatorAwaitHello),
    RespHello(ResponderAwaitHello),
    Sdps(AwaitSdps),
    Confirm(AwaitConfirm),
    Confirmed(ConfirmedSession),
    Failed(HandshakeError),
    Gone,
}

/// One device: a handshake state, its local SDP and the remote one once received.
struct Peer {
    role: Role,
    state: State,
    local_sdp: String,
    remote_sdp: Option<String>,
    own_hello: Option<Value>,
}

/// Seeds for one session; the pairing secret and identities are fixed, the rest per session.
fn peers(session: &str) -> (Peer, Peer, Value) {
    let secret = bytes("secret");
    let init_id = IdentitySecret::new(scalar("initiator identity"));
    let link = PairingLink::new(PairingSecret::from_bytes(secret), init_id.public());
    let link = PairingLink::parse_fragment(&link.fragment()).unwrap();
    let initiator = InitiatorAwaitHello::start(
        PairingSecret::from_bytes(secret),
        init_id,
        EphemeralSecret::new(scalar(&format!("{session} initiator ephemeral"))),
        HandshakeNonce::from_bytes(bytes(&format!("{session} initiator nonce"))),
    );
    let (responder, hello) = ResponderAwaitHello::start(
        link,
        IdentitySecret::new(scalar("responder identity")),
        EphemeralSecret::new(scalar(&format!("{session} responder ephemeral"))),
        HandshakeNonce::from_bytes(bytes(&format!("{session} responder nonce"))),
    );
    let hello = PeerSignal::Hello(hello).to_value();
    let init = Peer {
        role: Role::Initiator,
        state: State::InitHello(initiator),
        local_sdp: sdp(&format!("{session} offer")),
        remote_sdp: None,
        own_hello: None,
    };
    let resp = Peer {
        role: Role::Responder,
        state: State::RespHello(responder),
        local_sdp: sdp(&format!("{session} answer")),
        remote_sdp: None,
        own_hello: Some(hello.clone()),
    };
    (init, resp, hello)
}

impl Peer {
    /// Handles one relayed body; returns the bodies to relay back.
    fn handle(&mut self, body: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        let state = std::mem::replace(&mut self.state, State::Gone);
        let signal = match PeerSignal::parse(body) {
            Ok(s) => s,
            Err(e) => {
                self.state = State::Failed(e);
                return out;
            }
        };
        self.state = match (state, signal) {
            (State::InitHello(s), PeerSignal::Hello(h)) => match s.handle_hello(h) {
                Ok((next, own)) => {
                    let own = PeerSignal::Hello(own).to_value();
                    self.own_hello = Some(own.clone());
                    out.push(own);
                    out.push(json!({"kind": "offer", "sdp": self.local_sdp}));
                    State::Sdps(next)
                }
                Err(e) => State::Failed(e),
            },
            (State::RespHello(s), PeerSignal::Hello(h)) => match s.handle_hello(h) {
                Ok(next) => State::Sdps(next),
                Err(e) => State::Failed(e),
            },
            (State::Sdps(s), PeerSignal::Offer { sdp }) if self.role == Role::Responder => {
                self.remote_sdp = Some(sdp);
                out.push(json!({"kind": "answer", "sdp": self.local_sdp}));
                self.confirm(s, &mut out)
            }
            (State::Sdps(s), PeerSignal::Answer { sdp }) if self.role == Role::Initiator => {
                self.remote_sdp = Some(sdp);
                self.confirm(s, &mut out)
            }
            (State::Confirm(s), PeerSignal::Confirm(c)) => match s.handle_confirm(&c) {
                Ok(session) => State::Confirmed(session),
                Err(e) => State::Failed(e),
            },
            (state @ State::Failed(_), _) => state,
            (_, other) => panic!("{:?} got unexpected {other:?}", self.role),
        };
        out
    }

    fn confirm(&self, s: AwaitSdps, out: &mut Vec<Value>) -> State {
        let remote = self.remote_sdp.as_deref().unwrap();
        let (offer, answer) = match self.role {
            Role::Initiator => (self.local_sdp.as_str(), remote),
            Role::Responder => (remote, self.local_sdp.as_str()),
        };
        let (fp_offer, fp_answer) = match (sdp_fingerprint(offer), sdp_fingerprint(answer)) {
            (Ok(o), Ok(a)) => (o, a),
            (Err(e), _) | (_, Err(e)) => return State::Failed(e.into()),
        };
        let (next, confirm) = s.handle_sdps(&fp_offer, &fp_answer);
        out.push(PeerSignal::Confirm(confirm).to_value());
        State::Confirm(next)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    ToInitiator,
    ToResponder,
}

/// Runs the relay until both sides are quiet; `tamper` sees (and may rewrite) every body.
fn drive(init: &mut Peer, resp: &mut Peer, first: Value, mut tamper: impl FnMut(Dir, &mut Value)) {
    let mut queue = VecDeque::from([(Dir::ToInitiator, first)]);
    while let Some((dir, mut body)) = queue.pop_front() {
        tamper(dir, &mut body);
        let (peer, back) = match dir {
            Dir::ToInitiator => (&mut *init, Dir::ToResponder),
            Dir::ToResponder => (&mut *resp, Dir::ToInitiator),
        };
        queue.extend(peer.handle(&body).into_iter().map(|b| (back, b)));
    }
}

fn handshake(session: &str, tamper: impl FnMut(Dir, &mut Value)) -> (Peer, Peer) {
    let (mut init, mut resp, first) = peers(session);
    drive(&mut init, &mut resp, first, tamper);
    (init, resp)
}

fn confirmed(peer: Peer) -> ConfirmedSession {
    match peer.state {
        State::Confirmed(s) => s,
        State::Failed(e) => panic!("{:?} failed: {e}", peer.role),
        _ => panic!("{:?} did not finish", peer.role),
    }
}

fn failure(peer: &Peer) -> ErrorCode {
    match &peer.state {
        State::Failed(e) => e.code(),
        State::Confirmed(_) => panic!("{:?} confirmed a tampered session", peer.role),
        _ => panic!("{:?} did not finish", peer.role),
    }
}

fn records(max_record: usize) -> ((RecordSealer, RecordOpener), (RecordSealer, RecordOpener)) {
    let (init, resp) = handshake("records", |_, _| {});
    (
        confirmed(init).into_records(max_record),
        confirmed(resp).into_records(max_record),
    )
}

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

/// Sends every file of `files` from `init` to `resp` through records; returns what arrived.
fn transfer(files: &[Vec<u8>], max_record: usize) -> Vec<Vec<u8>> {
    let (init, resp) = handshake("transfer", |_, _| {});
    let (init, resp) = (confirmed(init), confirmed(resp));
    let mut receiver = Receiver::new(resp.proof());
    let entries = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = SafeName::parse(&format!("file {i}.bin")).unwrap();
            FileEntry::new(name, f.len() as u64, "application/octet-stream").unwrap()
        })
        .collect();
    let (mut sender, manifest) =
        Sender::new(init.proof(), Manifest::new(entries).unwrap(), max_record);
    let ((mut i_seal, mut i_open), (mut r_seal, mut r_open)) =
        (init.into_records(max_record), resp.into_records(max_record));

    // initiator -> responder
    let mut to_resp = |msg: &Message, is_final: bool, receiver: &mut Receiver| {
        let record = i_seal.seal(&msg.encode(), is_final).unwrap();
        assert!(record.len() <= max_record);
        let opened = r_open.open(&record).unwrap();
        let msg = Message::decode(&opened.inner).unwrap();
        assert_eq!(msg.route(), Route::Receiver);
        receiver.handle_message(msg, opened.is_final).unwrap();
    };
    for part in &manifest {
        to_resp(part, false, &mut receiver);
    }
    assert!(matches!(
        receiver.poll_event(),
        Some(ReceiverEvent::Offered(_))
    ));
    let accept = receiver.accept().unwrap();

    // responder -> initiator
    let mut to_init = |msg: &Message, sender: &mut Sender| {
        let record = r_seal.seal(&msg.encode(), false).unwrap();
        let msg = Message::decode(&i_open.open(&record).unwrap().inner).unwrap();
        assert_eq!(msg.route(), Route::Sender);
        sender.handle_message(msg).unwrap();
    };
    to_init(&accept, &mut sender);
    assert_eq!(sender.poll_event(), Some(SenderEvent::Accepted));

    let mut arrived = vec![Vec::new(); files.len()];
    let mut complete = false;
    while let Some(chunk) = sender.poll_chunk() {
        let file = &files[chunk.index as usize];
        let start = usize::try_from(chunk.offset).unwrap();
        let data = file[start..start + chunk.len].to_vec();
        to_resp(&Message::Chunk(data), chunk.is_final, &mut receiver);
        while let Some(event) = receiver.poll_event() {
            match event {
                ReceiverEvent::Data { index, bytes } => arrived[index as usize].extend(bytes),
                ReceiverEvent::FileComplete { index } => {
                    to_init(&Message::Received(index), &mut sender);
                }
                ReceiverEvent::TransferComplete => complete = true,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(complete);
    let events: Vec<SenderEvent> = std::iter::from_fn(|| sender.poll_event()).collect();
    assert_eq!(events.last(), Some(&SenderEvent::TransferComplete));
    assert!(sender.is_done());
    arrived
}

#[test]
fn several_files_arrive_byte_identical() {
    let max_record = 1024;
    let big: Vec<u8> = (0..3 * max_chunk(max_record) + 5)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let exact: Vec<u8> = vec![0xee; max_chunk(max_record)];
    let files = vec![Vec::new(), vec![0x42], big, exact];
    assert_eq!(transfer(&files, max_record), files);
}

#[test]
fn full_size_records_carry_a_multi_chunk_file() {
    let file: Vec<u8> = (0..MAX_RECORD_BYTES * 2).map(|i| (i % 256) as u8).collect();
    assert_eq!(
        transfer(std::slice::from_ref(&file), MAX_RECORD_BYTES),
        vec![file]
    );
}

fn receiving(size: u64) -> (RecordSealer, RecordOpener, Receiver) {
    let (init, resp) = handshake("final", |_, _| {});
    let (init, resp) = (confirmed(init), confirmed(resp));
    let mut receiver = Receiver::new(resp.proof());
    let (seal, _) = init.into_records(MAX_RECORD_BYTES);
    let (_, open) = resp.into_records(MAX_RECORD_BYTES);
    let entry = FileEntry::new(SafeName::parse("f").unwrap(), size, "").unwrap();
    receiver
        .handle_message(
            Message::Manifest(Manifest::new(vec![entry]).unwrap()),
            false,
        )
        .unwrap();
    let _ = receiver.accept().unwrap();
    (seal, open, receiver)
}

fn deliver(
    seal: &mut RecordSealer,
    open: &mut RecordOpener,
    receiver: &mut Receiver,
    data: &[u8],
    is_final: bool,
) -> Result<(), TransferError> {
    let record = seal
        .seal(&Message::Chunk(data.to_vec()).encode(), is_final)
        .unwrap();
    let opened = open.open(&record).unwrap();
    receiver.handle_message(Message::decode(&opened.inner).unwrap(), opened.is_final)
}

#[test]
fn early_final_is_peer_misbehaviour() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 4], false).unwrap();
    let err = deliver(&mut seal, &mut open, &mut rx, &[1; 5], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
}

#[test]
fn late_final_is_peer_misbehaviour() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 10], false).unwrap();
    let err = deliver(&mut seal, &mut open, &mut rx, &[1], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
    let (mut seal, mut open, mut rx) = receiving(0);
    let err = deliver(&mut seal, &mut open, &mut rx, &[1], false).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
}

#[test]
fn channel_closing_mid_file_leaves_the_transfer_incomplete() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 4], false).unwrap();
    assert_eq!(rx.handle_close().unwrap_err().code(), ErrorCode::Incomplete);
}
