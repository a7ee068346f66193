//! The peer driver and the tampering relay the scenarios run on.

pub(crate) use std::collections::VecDeque;

pub(crate) use pairwise_proto::error::ErrorCode;
pub(crate) use pairwise_proto::handshake::{
    AwaitConfirm, AwaitSdps, ConfirmedSession, HandshakeError, InitiatorAwaitHello, PeerSignal,
    ResponderAwaitHello, Role, sdp_fingerprint,
};
pub(crate) use pairwise_proto::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
pub(crate) use pairwise_proto::keys::PairingSecret;
pub(crate) use pairwise_proto::limits::MAX_RECORD_BYTES;
pub(crate) use pairwise_proto::link::PairingLink;
pub(crate) use pairwise_proto::name::SafeName;
pub(crate) use pairwise_proto::record::{RecordError, RecordOpener, RecordSealer};
pub(crate) use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, Receiver, ReceiverEvent, Route, Sender, SenderEvent,
    TransferError, max_chunk,
};
pub(crate) use serde_json::{Value, json};
pub(crate) use sha2::{Digest as _, Sha256};

fn bytes(label: &str) -> [u8; 32] {
    Sha256::digest(label).into()
}

pub(crate) fn scalar(label: &str) -> p256::SecretKey {
    p256::SecretKey::from_slice(&bytes(label)).unwrap()
}

pub(crate) fn sdp(label: &str) -> String {
    let hex: Vec<String> = bytes(label).iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "v=0\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
         a=fingerprint:sha-256 {}\r\na=setup:actpass\r\n",
        hex.join(":")
    )
}

pub(crate) enum State {
    InitHello(InitiatorAwaitHello),
    RespHello(ResponderAwaitHello),
    Sdps(AwaitSdps),
    Confirm(AwaitConfirm),
    Confirmed(ConfirmedSession),
    Failed(HandshakeError),
    Gone,
}

/// One device: a handshake state, its local SDP and the remote one once received.
pub(crate) struct Peer {
    pub(crate) role: Role,
    pub(crate) state: State,
    pub(crate) local_sdp: String,
    pub(crate) remote_sdp: Option<String>,
    pub(crate) own_hello: Option<Value>,
}

/// Seeds for one session; the pairing secret and identities are fixed, the rest per session.
pub(crate) fn peers(session: &str) -> (Peer, Peer, Value) {
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
pub(crate) enum Dir {
    ToInitiator,
    ToResponder,
}

/// Runs the relay until both sides are quiet; `tamper` sees (and may rewrite) every body.
pub(crate) fn drive(
    init: &mut Peer,
    resp: &mut Peer,
    first: Value,
    mut tamper: impl FnMut(Dir, &mut Value),
) {
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

pub(crate) fn handshake(session: &str, tamper: impl FnMut(Dir, &mut Value)) -> (Peer, Peer) {
    let (mut init, mut resp, first) = peers(session);
    drive(&mut init, &mut resp, first, tamper);
    (init, resp)
}

pub(crate) fn confirmed(peer: Peer) -> ConfirmedSession {
    match peer.state {
        State::Confirmed(s) => s,
        State::Failed(e) => panic!("{:?} failed: {e}", peer.role),
        _ => panic!("{:?} did not finish", peer.role),
    }
}

pub(crate) fn failure(peer: &Peer) -> ErrorCode {
    match &peer.state {
        State::Failed(e) => e.code(),
        State::Confirmed(_) => panic!("{:?} confirmed a tampered session", peer.role),
        _ => panic!("{:?} did not finish", peer.role),
    }
}

pub(crate) fn records(
    max_record: usize,
) -> ((RecordSealer, RecordOpener), (RecordSealer, RecordOpener)) {
    let (init, resp) = handshake("records", |_, _| {});
    (
        confirmed(init).into_records(max_record),
        confirmed(resp).into_records(max_record),
    )
}
