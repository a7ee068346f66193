//! The session engine: one handshake, pairing or reconnection, from the first `hello` to a
//! confirmed session with an open data channel (`docs/protocol.md` §5 steps 3-7, §10.3).
//! Sans-IO in the style of quinn-proto: the caller feeds what the signaling server and the
//! WebRTC stack report ([`Session::handle_server`], [`Session::handle_peer`], and the results
//! of what it was asked to do), polls [`Session::poll_action`] for what to do next, and calls
//! [`Session::handle_timeout`] at [`Session::poll_timeout`]. Time is milliseconds on any
//! monotonic clock of the caller's; nothing here reads a clock, a socket or a random source.
//!
//! What it decides:
//! - the steps: the initiator answers the peer's `hello` (pairing) and makes the offer; the
//!   responder answers it; a remembered device's role comes from the key order (§10.3);
//! - ICE candidates are held back both ways until the peer's `confirm` verified (§5 step 7);
//!   then the peer's relayed candidates may wait a moment (`relayed_delay_ms`, a stack quirk
//!   the caller knows about, see the CLI's `session/candidates.rs`);
//! - remembered devices: a `hello` from another identity is answered `not-paired`
//!   ([`Outcome::Stranger`]), `not-paired` ends with `unknown-device`, a `forgotten` notice is
//!   verified against our own `hello`; a `hello` with the paired identity but the wrong role
//!   waits [`NOT_PAIRED_GRACE_MS`] for the `not-paired` that usually follows it (a peer that
//!   holds our record under another key computes its role against a key that is not ours);
//! - what the server says is a hint, never a verdict on a verified peer: once the peer's
//!   `confirm` verified only candidates are taken (anything else, and a body that does not
//!   parse, is ignored: the peer never sends it), and the server going away no longer matters;
//!   a body identical to one handled already is ignored (the server repeated it);
//! - the handshake has [`HANDSHAKE_TIMEOUT_MS`] from the first `hello` to an open channel,
//!   then fails with `connect-failed`.
//!
//! The Rust CLI's `session/drive.rs` is the IO around it; `testdata/vectors/scenarios/session-*`
//! pin its steps, which its JS twin in the page (`web/lib/proto/session.js`) replays too.

use std::collections::{HashSet, VecDeque};

use crate::error::ErrorCode;
use crate::handshake::{
    AwaitConfirm, AwaitSdps, ConfirmedSession, HandshakeError, InitiatorAwaitHello, PeerSignal,
    ReconnectAwaitHello, RememberedPeer, ResponderAwaitHello, Role, sdp_fingerprint,
};
use crate::limits::{HANDSHAKE_TIMEOUT_MS, NOT_PAIRED_GRACE_MS};
use crate::signal::ServerToClient;

mod io;

pub use self::io::{Action, Config, Outcome, PeerInput, ServerInput, Start, without_candidates};

#[derive(Debug)]
enum Stage {
    Initiator(InitiatorAwaitHello),
    Responder(ResponderAwaitHello),
    Reconnect(ReconnectAwaitHello, RememberedPeer),
    /// Hellos exchanged: the initiator waits for its offer to be made, then for the answer; the
    /// responder for the offer, then for its answer to be made.
    Sdps(AwaitSdps),
    Confirm(AwaitConfirm),
    Confirmed(ConfirmedSession),
    /// A wrong-role `hello` from the paired identity: waiting for the `not-paired` that explains
    /// it, until `until`; otherwise the error stands.
    Suspect {
        error: HandshakeError,
        until: u64,
    },
    Over,
}

/// One handshake: see the module documentation.
#[derive(Debug)]
pub struct Session {
    stage: Stage,
    config: Config,
    reconnecting: bool,
    /// Our offer, as made (initiator): its fingerprint goes into the transcript.
    own_offer: Option<String>,
    /// The peer's offer, as received (responder), until our answer is made.
    peer_offer: Option<String>,
    /// Our candidates and the peer's, held until the peer's confirm verified.
    held_local: Vec<serde_json::Value>,
    held_remote: Vec<serde_json::Value>,
    /// The peer's relayed candidates and when they are due.
    later: Vec<(u64, serde_json::Value)>,
    /// Whether a peer connection exists (candidates can be added).
    has_peer: bool,
    open: bool,
    deadline: Option<u64>,
    /// Bodies handled before the confirm, as canonical JSON text: a repeat is ignored.
    handled: HashSet<String>,
    actions: VecDeque<Action>,
    outcome: Option<Outcome>,
}

impl Session {
    /// A session from `start` at `now`. The responder and a remembered device sent their
    /// `hello` before, so their clock starts now; a pairing initiator's when the peer's `hello`
    /// arrives.
    pub fn new(start: Start, config: Config, now: u64) -> Self {
        let reconnecting = matches!(start, Start::Reconnect(..));
        let deadline = (!matches!(start, Start::Initiator(_))).then(|| now + HANDSHAKE_TIMEOUT_MS);
        let stage = match start {
            Start::Initiator(s) => Stage::Initiator(s),
            Start::Responder(s) => Stage::Responder(s),
            Start::Reconnect(s, peer) => Stage::Reconnect(s, peer),
        };
        Self {
            stage,
            config,
            reconnecting,
            own_offer: None,
            peer_offer: None,
            held_local: Vec::new(),
            held_remote: Vec::new(),
            later: Vec::new(),
            has_peer: false,
            open: false,
            deadline,
            handled: HashSet::new(),
            actions: VecDeque::new(),
            outcome: None,
        }
    }

    /// Whether the peer's `confirm` verified (the server's word no longer matters).
    pub fn is_confirmed(&self) -> bool {
        matches!(self.stage, Stage::Confirmed(_))
    }

    /// The next thing to do, if any. Drain after every `handle_*` call.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// How the session ended, once it did (taken once).
    pub fn poll_outcome(&mut self) -> Option<Outcome> {
        self.outcome.take()
    }

    /// Whether the session ended (its outcome may have been taken).
    pub fn is_over(&self) -> bool {
        // Every end (fail, stranger, established) leaves the stage `Over`.
        matches!(self.stage, Stage::Over)
    }

    /// When [`Session::handle_timeout`] is due, if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.is_over() {
            return None;
        }
        let later = self.later.iter().map(|(at, _)| *at).min();
        let grace = match &self.stage {
            Stage::Suspect { until, .. } => Some(*until),
            _ => None,
        };
        [self.deadline, later, grace].into_iter().flatten().min()
    }

    /// Time passed: the handshake's deadline, a relayed candidate due, the end of a grace.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.is_over() {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            let secs = HANDSHAKE_TIMEOUT_MS / 1000;
            return self.fail(
                ErrorCode::ConnectFailed,
                format!("the handshake did not finish in {secs} s"),
            );
        }
        if let Stage::Suspect { until, .. } = &self.stage
            && now >= *until
        {
            return self.end_suspect();
        }
        let (due, wait): (Vec<_>, Vec<_>) = self.later.drain(..).partition(|(at, _)| *at <= now);
        self.later = wait;
        for (_, c) in due {
            self.actions.push_back(Action::AddCandidate(c));
        }
    }

    /// What the signaling server delivered.
    pub fn handle_server(&mut self, now: u64, input: ServerInput) {
        if self.is_over() {
            return;
        }
        let confirmed = self.is_confirmed();
        let suspect = matches!(self.stage, Stage::Suspect { .. });
        let body = match input {
            ServerInput::Frame(ServerToClient::Relay { body }) => body,
            // Once confirmed, the channel is the judge.
            _ if confirmed => return,
            // A grace waits for one body; only the connection's end cuts it short.
            ServerInput::Frame(_) if suspect => return,
            ServerInput::Frame(ServerToClient::PeerLeft) => {
                return self.fail(ErrorCode::PeerLeft, "peer left the room");
            }
            ServerInput::Frame(ServerToClient::Error { code, message }) => {
                return self.fail(code, message);
            }
            ServerInput::Frame(_) => return,
            ServerInput::Closed(why) => {
                let why = if why.is_empty() {
                    "server closed".to_owned()
                } else {
                    why
                };
                if suspect {
                    return self.end_suspect();
                }
                return self.fail(ErrorCode::SignalingLost, why);
            }
        };
        self.handle_body(now, &body);
    }

    fn handle_body(&mut self, now: u64, body: &serde_json::Value) {
        let confirmed = self.is_confirmed();
        let signal = match PeerSignal::parse(body) {
            Ok(signal) => signal,
            // Once the peer is verified only the server can relay a body that does not parse; it
            // must not end a working session (§4.2, §5).
            Err(_) if confirmed => return,
            Err(e) => return self.fail(e.code(), e),
        };
        let candidate = matches!(signal, PeerSignal::Candidate { .. });
        if confirmed && !candidate {
            return;
        }
        if let Stage::Suspect { .. } = self.stage {
            if matches!(signal, PeerSignal::NotPaired {}) {
                return self.fail(
                    ErrorCode::UnknownDevice,
                    "the other device answered not-paired",
                );
            }
            return;
        }
        if !candidate && !self.handled.insert(body.to_string()) {
            return;
        }
        self.stage = match (std::mem::replace(&mut self.stage, Stage::Over), signal) {
            (Stage::Initiator(s), PeerSignal::Hello(h)) => match s.handle_hello(h) {
                Ok((next, own)) => {
                    self.deadline = Some(now + HANDSHAKE_TIMEOUT_MS);
                    self.actions
                        .push_back(Action::Relay(PeerSignal::Hello(own)));
                    self.actions.push_back(Action::CreateOffer);
                    self.has_peer = true;
                    Stage::Sdps(next)
                }
                Err(e) => return self.fail(e.code(), e),
            },
            (Stage::Reconnect(s, _), PeerSignal::Hello(h)) => {
                let role = s.role();
                match s.handle_hello(h) {
                    Ok(next) => {
                        if role == Role::Initiator {
                            self.actions.push_back(Action::CreateOffer);
                            self.has_peer = true;
                        }
                        Stage::Sdps(next)
                    }
                    Err(HandshakeError::KeyChanged) => {
                        self.actions
                            .push_back(Action::Relay(PeerSignal::NotPaired {}));
                        self.outcome = Some(Outcome::Stranger);
                        Stage::Over
                    }
                    // The right identity with the wrong role: most likely the peer does not
                    // know this device's key and is about to say so.
                    Err(error @ HandshakeError::UnexpectedRole { .. }) => Stage::Suspect {
                        error,
                        until: now + NOT_PAIRED_GRACE_MS,
                    },
                    Err(e) => return self.fail(e.code(), e),
                }
            }
            (Stage::Reconnect(s, remembered), PeerSignal::Forgotten(notice)) => {
                return match notice.verify(&remembered, s.own_hello()) {
                    Ok(()) => self.fail(
                        ErrorCode::Forgotten,
                        "the other device sent a verified forgotten notice",
                    ),
                    Err(e) => self.fail(e.code(), e),
                };
            }
            // The peer may have taken our `hello` before it checked ours.
            (
                Stage::Reconnect(..) | Stage::Sdps(_) | Stage::Confirm(_),
                PeerSignal::NotPaired {},
            ) if self.reconnecting => {
                return self.fail(
                    ErrorCode::UnknownDevice,
                    "the other device answered not-paired",
                );
            }
            (Stage::Responder(s), PeerSignal::Hello(h)) => match s.handle_hello(h) {
                Ok(next) => Stage::Sdps(next),
                Err(e) => return self.fail(e.code(), e),
            },
            (Stage::Sdps(s), PeerSignal::Offer { sdp })
                if !self.has_peer && self.peer_offer.is_none() =>
            {
                self.peer_offer = Some(sdp.clone());
                self.has_peer = true;
                self.actions.push_back(Action::AnswerOffer { sdp });
                Stage::Sdps(s)
            }
            (Stage::Sdps(s), PeerSignal::Answer { sdp }) if self.own_offer.is_some() => {
                let offer = self.own_offer.take().unwrap_or_default();
                self.actions
                    .push_back(Action::AcceptAnswer { sdp: sdp.clone() });
                match self.confirm(s, &offer, &sdp) {
                    Some(next) => next,
                    None => return,
                }
            }
            (s, PeerSignal::Candidate { candidate }) => {
                match &s {
                    Stage::Confirmed(_) => self.add_remote(now, candidate),
                    _ => self.held_remote.push(candidate),
                }
                s
            }
            (Stage::Confirm(s), PeerSignal::Confirm(c)) => match s.handle_confirm(&c) {
                Ok(session) => {
                    // Only now may the devices reach each other (§5 step 7).
                    for c in std::mem::take(&mut self.held_local) {
                        self.actions
                            .push_back(Action::Relay(PeerSignal::Candidate { candidate: c }));
                    }
                    for c in std::mem::take(&mut self.held_remote) {
                        self.add_remote(now, c);
                    }
                    Stage::Confirmed(session)
                }
                Err(e) => return self.fail(e.code(), e),
            },
            (_, other) => {
                return self.fail(
                    ErrorCode::PeerMisbehaved,
                    format!("unexpected {}", other.kind()),
                );
            }
        };
        self.check_established();
    }

    /// Our offer is made: `sdp` as made (for the transcript), `sent` as relayed (the caller
    /// may mark it; candidates are taken out here, they go only as `candidate` bodies).
    pub fn offer_created(&mut self, sdp: String, sent: &str) {
        if self.is_over() {
            return;
        }
        self.actions.push_back(Action::Relay(PeerSignal::Offer {
            sdp: without_candidates(sent),
        }));
        self.own_offer = Some(sdp);
    }

    /// Our answer to the peer's offer is made: `sdp` as made, `sent` as relayed.
    pub fn answer_created(&mut self, sdp: &str, sent: &str) {
        if self.is_over() {
            return;
        }
        let Some(offer) = self.peer_offer.take() else {
            return self.fail(
                ErrorCode::PeerMisbehaved,
                "an answer without the peer's offer",
            );
        };
        self.actions.push_back(Action::Relay(PeerSignal::Answer {
            sdp: without_candidates(sent),
        }));
        let Stage::Sdps(s) = std::mem::replace(&mut self.stage, Stage::Over) else {
            return self.fail(ErrorCode::PeerMisbehaved, "an answer out of turn");
        };
        if let Some(next) = self.confirm(s, &offer, sdp) {
            self.stage = next;
        }
    }

    /// What the WebRTC stack reported.
    pub fn handle_peer(&mut self, input: PeerInput) {
        if self.is_over() {
            return;
        }
        let confirmed = self.is_confirmed();
        match input {
            PeerInput::LocalCandidate(c) if confirmed => {
                self.actions
                    .push_back(Action::Relay(PeerSignal::Candidate { candidate: c }));
            }
            PeerInput::LocalCandidate(c) => self.held_local.push(c),
            PeerInput::ChannelOpen => {
                self.open = true;
                self.check_established();
            }
            // Without a relay, a failed connection means the two networks allow no direct
            // path: say so, rather than "check that both are online". Only once confirmed:
            // before, the candidates were held back and the path was never tried.
            PeerInput::Failed(why) => {
                let code = if !confirmed || self.config.has_turn {
                    ErrorCode::ConnectFailed
                } else {
                    ErrorCode::NoRoute
                };
                self.fail(code, why);
            }
            PeerInput::Closed => self.fail(ErrorCode::ConnectFailed, "peer connection closed"),
            PeerInput::Data => self.fail(ErrorCode::PeerMisbehaved, "data before confirm"),
        }
    }

    /// The caller could not do what it was asked (create the connection, apply an SDP, add a
    /// candidate): the session fails with `connect-failed`.
    pub fn action_failed(&mut self, why: impl std::fmt::Display) {
        self.fail(ErrorCode::ConnectFailed, why);
    }

    /// Sends our confirm for the two SDPs (offer first); the next stage, or `None` after a
    /// failure.
    fn confirm(&mut self, state: AwaitSdps, offer: &str, answer: &str) -> Option<Stage> {
        let fps = sdp_fingerprint(offer).and_then(|o| Ok((o, sdp_fingerprint(answer)?)));
        let (fp_offer, fp_answer) = match fps {
            Ok(fps) => fps,
            Err(e) => {
                self.fail(ErrorCode::PeerMisbehaved, e);
                return None;
            }
        };
        let (next, confirm) = state.handle_sdps(&fp_offer, &fp_answer);
        self.actions
            .push_back(Action::Relay(PeerSignal::Confirm(confirm)));
        Some(Stage::Confirm(next))
    }

    fn add_remote(&mut self, now: u64, candidate: serde_json::Value) {
        if candidate.is_null() {
            return;
        }
        let relayed = candidate["candidate"]
            .as_str()
            .is_some_and(|c| c.contains(" typ relay"));
        if relayed && self.config.relayed_delay_ms > 0 {
            self.later
                .push((now + self.config.relayed_delay_ms, candidate));
        } else {
            self.actions.push_back(Action::AddCandidate(candidate));
        }
    }

    fn check_established(&mut self) {
        if !self.open || !self.is_confirmed() {
            return;
        }
        if let Stage::Confirmed(session) = std::mem::replace(&mut self.stage, Stage::Over) {
            self.outcome = Some(Outcome::Established(session));
        }
    }

    /// A wrong-role hello's grace ends (its time, or the server's end) with the error it was
    /// waiting to explain.
    fn end_suspect(&mut self) {
        if let Stage::Suspect { error, .. } = std::mem::replace(&mut self.stage, Stage::Over) {
            self.fail(error.code(), error);
        }
    }

    fn fail(&mut self, code: ErrorCode, detail: impl std::fmt::Display) {
        self.stage = Stage::Over;
        self.outcome.get_or_insert(Outcome::Failed {
            code,
            detail: detail.to_string(),
        });
    }
}

#[cfg(test)]
mod tests;
