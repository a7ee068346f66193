//! What goes into the session engine and what comes out of it: where it starts, what the
//! server and the WebRTC stack report, what the caller is to do, how it ended.

use crate::error::ErrorCode;
use crate::handshake::{
    ConfirmedSession, InitiatorAwaitHello, PeerSignal, ReconnectAwaitHello, RememberedPeer,
    ResponderAwaitHello,
};
use crate::signal::ServerToClient;

/// Where a session starts: the first handshake state, this side's `hello` already sent when it
/// has one to send first (the responder and a remembered device).
#[derive(Debug)]
pub enum Start {
    /// Shows the link and waits for the device that opens it.
    Initiator(InitiatorAwaitHello),
    /// Opened the link; its `hello` is sent.
    Responder(ResponderAwaitHello),
    /// A remembered device (§10.3); its `hello` is sent.
    Reconnect(ReconnectAwaitHello, RememberedPeer),
}

/// What the signaling connection delivered.
#[derive(Debug)]
pub enum ServerInput {
    /// A frame from the server.
    Frame(ServerToClient),
    /// The connection closed or failed (with what the caller knows about why).
    Closed(String),
}

/// What the WebRTC stack reported.
#[derive(Debug)]
pub enum PeerInput {
    /// One of our candidates (an `RTCIceCandidateInit`), or `null` when gathering completed.
    LocalCandidate(serde_json::Value),
    /// The data channel opened.
    ChannelOpen,
    /// The connection failed (ICE found no path, DTLS failed, …).
    Failed(String),
    /// The connection closed.
    Closed,
    /// Data arrived on the channel (nothing may, before the session is confirmed).
    Data,
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Relay this body to the peer through the server.
    Relay(PeerSignal),
    /// Create the peer connection as the offerer and make an offer; hand it to
    /// [`Session::offer_created`](super::Session::offer_created).
    CreateOffer,
    /// Create the peer connection as the answerer for this offer and answer it; hand the answer
    /// to [`Session::answer_created`](super::Session::answer_created).
    AnswerOffer {
        /// The peer's offer, as received.
        sdp: String,
    },
    /// Apply the peer's answer to the connection.
    AcceptAnswer {
        /// The peer's answer, as received.
        sdp: String,
    },
    /// Add the peer's candidate to the connection (never `null`).
    AddCandidate(serde_json::Value),
}

/// How the session ended.
#[derive(Debug)]
pub enum Outcome {
    /// Confirmed, with the data channel open.
    Established(ConfirmedSession),
    /// Failed: the catalogue code people see, and what exactly happened.
    Failed {
        /// The catalogue code.
        code: ErrorCode,
        /// For `-v` and bug reports.
        detail: String,
    },
    /// A remembered device's room held a device with another identity; it was answered
    /// `not-paired` (§10.6) and the room may be waited in again.
    Stranger,
}

/// Settings the caller's WebRTC stack calls for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    /// How long the peer's relayed (`typ relay`) candidates wait before they are added, so a
    /// direct pair can win where the stack keeps the first pair nominated; 0: at once.
    pub relayed_delay_ms: u64,
    /// Whether the signaling server handed out a TURN server (a failed connection is then
    /// `connect-failed`, not `no-route`).
    pub has_turn: bool,
}

/// An SDP without its candidate lines: candidates travel only as trickled `candidate` bodies,
/// held until the peer is verified (§5 step 7).
pub fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && l.trim_end() != "a=end-of-candidates")
        .collect()
}
