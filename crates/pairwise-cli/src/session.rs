//! Pairing from the terminal: drives `pairwise-proto`'s handshake over [`Signaling`] with a
//! [`NativePeer`], exactly as the web app does (`docs/protocol.md` §5):
//!
//! - responder (`pairwise receive LINK`): join, `hello`, take the offer, answer, confirm;
//! - initiator (`pairwise send`, shows the QR code): join, wait, `hello`, offer, confirm;
//! - ICE candidates are held back both ways until the peer's confirm verified (§5 step 7);
//! - the result, [`Established`], holds the confirmed keys and an open data channel.
//!
//! The initiator joins its room ([`Invitation::open`]) before its link is shown, so a device
//! that opens the link at once finds it waiting. Remembered devices meet again through
//! [`reconnect`] (§10), which runs the same driver from a [`ReconnectAwaitHello`].

use std::net::SocketAddr;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    AwaitConfirm, AwaitSdps, ConfirmedSession, InitiatorAwaitHello, PeerSignal,
    ReconnectAwaitHello, RememberedPeer, ResponderAwaitHello, Role, sdp_fingerprint,
};
use pairwise_proto::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
use pairwise_proto::ids::RoomId;
use pairwise_proto::keys::PairingSecret;
use pairwise_proto::link::PairingLink;
use pairwise_proto::signal::ServerToClient;
use rand_core::{OsRng, RngCore as _};
use tokio::sync::mpsc;

use crate::peer::{NativePeer, PeerEvent, Role as PeerRole};
use crate::signaling::{Server, Signaling};

mod reconnect;

pub use self::reconnect::{reconnect, tell_forgotten, unix_now};

/// A confirmed session with an open data channel.
#[derive(Debug)]
pub struct Established {
    /// The peer connection; its channel is open.
    pub peer: NativePeer,
    /// Its events (messages, close).
    pub events: mpsc::Receiver<PeerEvent>,
    /// The confirmed keys.
    pub session: ConfirmedSession,
}

/// Why pairing failed: a catalogue code (the sentence people see) and what exactly happened.
#[derive(Debug, thiserror::Error)]
#[error("{} ({detail})", .code.sentence())]
pub struct SessionError {
    /// The catalogue code.
    pub code: ErrorCode,
    /// Details for `-v` and bug reports.
    pub detail: String,
}

impl SessionError {
    fn new(code: ErrorCode, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            detail: detail.to_string(),
        }
    }
}

/// A fresh initiator: its link (for the QR code) and the state that pairs with whoever opens it.
#[derive(Debug)]
pub struct Invitation {
    link: PairingLink,
    start: InitiatorAwaitHello,
}

impl Invitation {
    /// Draws a new secret, identity, ephemeral key and nonce (a device that remembers no one).
    pub fn new() -> Self {
        Self::with_identity(IdentitySecret::new(p256::SecretKey::random(&mut OsRng)))
    }

    /// Draws a new secret, ephemeral key and nonce for this device's `identity`.
    pub fn with_identity(identity: IdentitySecret) -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let link = PairingLink::new(PairingSecret::from_bytes(secret), identity.public());
        let start = InitiatorAwaitHello::start(
            PairingSecret::from_bytes(secret),
            identity,
            EphemeralSecret::new(p256::SecretKey::random(&mut OsRng)),
            nonce(),
        );
        Self { link, start }
    }

    /// The link to show, for a web app at `origin` (e.g. `http://127.0.0.1:8080`).
    pub fn url(&self, origin: &str) -> String {
        format!("{}/#{}", origin.trim_end_matches('/'), self.link.fragment())
    }

    /// Connects to `server` and joins the room, so the link works from this moment on: show it
    /// only after this returned.
    ///
    /// # Errors
    /// A [`SessionError`] if the server cannot be reached.
    pub async fn open(self, server: &Server) -> Result<Waiting, SessionError> {
        let mut sig = connect(server).await?;
        join(&mut sig, &self.link.room()).await?;
        Ok(Waiting {
            sig,
            start: self.start,
        })
    }
}

/// An initiator waiting in its room for the device that opens the link.
#[derive(Debug)]
pub struct Waiting {
    sig: Signaling,
    start: InitiatorAwaitHello,
}

impl Waiting {
    /// Waits until a device opens the link, then pairs with it.
    ///
    /// # Errors
    /// A [`SessionError`] with the reason (signaling lost, verification failed, ...).
    pub async fn pair(mut self, bind: SocketAddr) -> Result<Established, SessionError> {
        let est = drive(&mut self.sig, Stage::Initiator(self.start), bind).await;
        self.sig.close().await;
        Ok(est?)
    }
}

impl Default for Invitation {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens a pairing link as the responder and pairs with the device that showed it, with a
/// fresh identity (a device that remembers no one).
///
/// # Errors
/// A [`SessionError`]: `link-expired` when nobody waits in the room, and the other reasons of
/// [`Waiting::pair`].
pub async fn respond(
    server: &Server,
    link: PairingLink,
    bind: SocketAddr,
) -> Result<Established, SessionError> {
    let identity = IdentitySecret::new(p256::SecretKey::random(&mut OsRng));
    respond_as(server, link, identity, bind).await
}

/// Opens a pairing link as the responder with this device's `identity`.
///
/// # Errors
/// As [`respond`].
pub async fn respond_as(
    server: &Server,
    link: PairingLink,
    identity: IdentitySecret,
    bind: SocketAddr,
) -> Result<Established, SessionError> {
    let mut sig = connect(server).await?;
    let peers = join(&mut sig, &link.room()).await?;
    if peers < 2 {
        return Err(SessionError::new(
            ErrorCode::LinkExpired,
            "nobody is waiting in the room",
        ));
    }
    let ephemeral = EphemeralSecret::new(p256::SecretKey::random(&mut OsRng));
    let (state, hello) = ResponderAwaitHello::start(link, identity, ephemeral, nonce());
    relay(&mut sig, &PeerSignal::Hello(hello)).await?;
    let est = drive(&mut sig, Stage::Responder(state), bind).await;
    sig.close().await;
    Ok(est?)
}

/// Where the handshake stands.
enum Stage {
    Initiator(InitiatorAwaitHello),
    Responder(ResponderAwaitHello),
    /// A remembered device (§10.3); its own `hello` is sent.
    Reconnect(ReconnectAwaitHello, RememberedPeer),
    /// Hellos exchanged; the initiator has sent its offer.
    Sdps(AwaitSdps),
    Confirm(AwaitConfirm),
    Confirmed(ConfirmedSession),
    Gone,
}

/// Why [`drive`] stopped without a session.
#[derive(Debug)]
enum Stop {
    /// The session failed for this reason.
    Failed(SessionError),
    /// A remembered device's room held a device with another identity; it was answered with
    /// `not-paired` (§10.6) and the room may be waited in again.
    Stranger,
}

impl From<SessionError> for Stop {
    fn from(e: SessionError) -> Self {
        Self::Failed(e)
    }
}

impl From<Stop> for SessionError {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Failed(e) => e,
            Stop::Stranger => Self::new(ErrorCode::PeerMisbehaved, "a stranger's hello"),
        }
    }
}

/// Runs the handshake until the session is confirmed and the channel is open. The caller
/// closes `sig`.
async fn drive(
    sig: &mut Signaling,
    mut stage: Stage,
    bind: SocketAddr,
) -> Result<Established, Stop> {
    let mut peer: Option<(NativePeer, mpsc::Receiver<PeerEvent>)> = None;
    let mut held_local: Vec<String> = Vec::new();
    let mut held_remote: Vec<serde_json::Value> = Vec::new();
    let mut open = false;
    let mut sig_open = true;
    // The offer we created (initiator only): its fingerprint goes into the transcript.
    let mut own_offer: Option<String> = None;
    let reconnecting = matches!(stage, Stage::Reconnect(..));
    loop {
        if open && let Stage::Confirmed(_) = stage {
            break;
        }
        let confirmed = matches!(stage, Stage::Confirmed(_));
        let event = match peer.as_mut() {
            // Once confirmed, the channel is the judge: the server (or the peer leaving the
            // room after its own channel opened) no longer matters.
            Some((_, events)) if confirmed && !sig_open => Input::Peer(events.recv().await),
            Some((_, events)) => tokio::select! {
                msg = sig.recv() => Input::Signal(msg),
                ev = events.recv() => Input::Peer(ev),
            },
            None => Input::Signal(sig.recv().await),
        };
        match event {
            Input::Peer(None | Some(PeerEvent::Closed)) => {
                return Err(
                    SessionError::new(ErrorCode::ConnectFailed, "peer connection closed").into(),
                );
            }
            Input::Peer(Some(PeerEvent::Failed(why))) => {
                return Err(SessionError::new(ErrorCode::ConnectFailed, why).into());
            }
            Input::Peer(Some(PeerEvent::ChannelOpen)) => open = true,
            Input::Peer(Some(PeerEvent::Message(_))) => {
                return Err(
                    SessionError::new(ErrorCode::PeerMisbehaved, "data before confirm").into(),
                );
            }
            Input::Peer(Some(PeerEvent::LocalCandidate(json))) => {
                if matches!(stage, Stage::Confirmed(_)) {
                    relay_candidate(sig, &json).await?;
                } else {
                    held_local.push(json);
                }
            }
            Input::Signal(msg) => {
                if confirmed && !matches!(msg, Ok(Some(ServerToClient::Relay { .. }))) {
                    sig_open = false;
                    continue;
                }
                let body = match msg.map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))? {
                    Some(ServerToClient::Relay { body }) => body,
                    Some(ServerToClient::PeerLeft) => {
                        return Err(
                            SessionError::new(ErrorCode::PeerLeft, "peer left the room").into()
                        );
                    }
                    Some(ServerToClient::Error { code, message }) => {
                        return Err(SessionError::new(code, message).into());
                    }
                    Some(_) => continue,
                    None => {
                        return Err(
                            SessionError::new(ErrorCode::SignalingLost, "server closed").into()
                        );
                    }
                };
                let signal =
                    PeerSignal::parse(&body).map_err(|e| SessionError::new(e.code(), e))?;
                stage = match (std::mem::replace(&mut stage, Stage::Gone), signal) {
                    (Stage::Initiator(s), PeerSignal::Hello(h)) => {
                        let (next, own) = s.handle_hello(h).map_err(hs_err)?;
                        relay(sig, &PeerSignal::Hello(own)).await?;
                        let (p, events, offer) = make_offer(sig, bind).await?;
                        own_offer = Some(offer);
                        peer = Some((p, events));
                        Stage::Sdps(next)
                    }
                    (Stage::Reconnect(s, remembered), PeerSignal::Hello(h)) => {
                        let role = s.role();
                        let next = match s.handle_hello(h) {
                            Ok(next) => next,
                            Err(e) if e.code() == ErrorCode::UnknownDevice => {
                                let _ = relay(sig, &PeerSignal::NotPaired {}).await;
                                tracing::warn!(
                                    peer = %remembered.identity().fmt_short(),
                                    "a device with another identity is in the room: not paired"
                                );
                                return Err(Stop::Stranger);
                            }
                            Err(e) => return Err(hs_err(e).into()),
                        };
                        if role == Role::Initiator {
                            let (p, events, offer) = make_offer(sig, bind).await?;
                            own_offer = Some(offer);
                            peer = Some((p, events));
                        }
                        Stage::Sdps(next)
                    }
                    (Stage::Reconnect(s, remembered), PeerSignal::Forgotten(notice)) => {
                        return Err(match notice.verify(&remembered, s.own_hello()) {
                            Ok(()) => SessionError::new(
                                ErrorCode::Forgotten,
                                "the other device sent a verified forgotten notice",
                            ),
                            Err(e) => hs_err(e),
                        }
                        .into());
                    }
                    // The peer may have taken our `hello` before it checked ours.
                    (
                        Stage::Reconnect(..) | Stage::Sdps(_) | Stage::Confirm(_),
                        PeerSignal::NotPaired {},
                    ) if reconnecting => {
                        return Err(SessionError::new(
                            ErrorCode::UnknownDevice,
                            "the other device answered not-paired",
                        )
                        .into());
                    }
                    (Stage::Responder(s), PeerSignal::Hello(h)) => {
                        Stage::Sdps(s.handle_hello(h).map_err(hs_err)?)
                    }
                    (Stage::Sdps(s), PeerSignal::Offer { sdp }) if peer.is_none() => {
                        let (p, events) = new_peer(PeerRole::Answerer, bind).await?;
                        let answer = p.accept_offer(&sdp).await.map_err(connect_err)?;
                        relay(
                            sig,
                            &PeerSignal::Answer {
                                sdp: without_candidates(&answer),
                            },
                        )
                        .await?;
                        peer = Some((p, events));
                        let next = confirm(sig, s, &sdp, &answer).await?;
                        Stage::Confirm(next)
                    }
                    (Stage::Sdps(s), PeerSignal::Answer { sdp }) if own_offer.is_some() => {
                        let (Some((p, _)), Some(offer)) = (peer.as_ref(), own_offer.take()) else {
                            return Err(misbehaved("answer before offer").into());
                        };
                        p.accept_answer(&sdp).await.map_err(connect_err)?;
                        Stage::Confirm(confirm(sig, s, &offer, &sdp).await?)
                    }
                    (s, PeerSignal::Candidate { candidate }) => {
                        match (&s, peer.as_ref()) {
                            (Stage::Confirmed(_), Some((p, _))) => {
                                add_candidate(p, &candidate).await?
                            }
                            _ => held_remote.push(candidate),
                        }
                        s
                    }
                    (Stage::Confirm(s), PeerSignal::Confirm(c)) => {
                        let session = s.handle_confirm(&c).map_err(hs_err)?;
                        // Only now may the devices reach each other (§5 step 7).
                        for json in held_local.drain(..) {
                            relay_candidate(sig, &json).await?;
                        }
                        if let Some((p, _)) = peer.as_ref() {
                            for c in held_remote.drain(..) {
                                add_candidate(p, &c).await?;
                            }
                        }
                        Stage::Confirmed(session)
                    }
                    (_, other) => {
                        return Err(misbehaved(format!("unexpected {}", other.kind())).into());
                    }
                };
            }
        }
    }
    let (Stage::Confirmed(session), Some((peer, events))) = (stage, peer) else {
        return Err(misbehaved("channel open without a confirmed session").into());
    };
    Ok(Established {
        peer,
        events,
        session,
    })
}

enum Input {
    Signal(Result<Option<ServerToClient>, crate::signaling::SignalingError>),
    Peer(Option<PeerEvent>),
}

/// Sends our confirm for the two SDPs (offer first) and moves to awaiting the peer's.
async fn confirm(
    sig: &mut Signaling,
    state: AwaitSdps,
    offer: &str,
    answer: &str,
) -> Result<AwaitConfirm, SessionError> {
    let fp_offer = sdp_fingerprint(offer).map_err(|e| misbehaved(e.to_string()))?;
    let fp_answer = sdp_fingerprint(answer).map_err(|e| misbehaved(e.to_string()))?;
    let (next, confirm) = state.handle_sdps(&fp_offer, &fp_answer);
    relay(sig, &PeerSignal::Confirm(confirm)).await?;
    Ok(next)
}

async fn connect(server: &Server) -> Result<Signaling, SessionError> {
    Signaling::connect(server)
        .await
        .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))
}

/// Joins `room` and returns how many peers are in it.
async fn join(sig: &mut Signaling, room: &RoomId) -> Result<usize, SessionError> {
    sig.join(room)
        .await
        .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))?;
    match sig.recv().await {
        Ok(Some(ServerToClient::Joined { peers })) => Ok(peers),
        Ok(Some(ServerToClient::Error { code, message })) => Err(SessionError::new(code, message)),
        Ok(_) => Err(SessionError::new(
            ErrorCode::SignalingLost,
            "no reply to join",
        )),
        Err(e) => Err(SessionError::new(ErrorCode::SignalingLost, e)),
    }
}

async fn relay(sig: &mut Signaling, signal: &PeerSignal) -> Result<(), SessionError> {
    sig.relay(signal.to_value())
        .await
        .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))
}

async fn relay_candidate(sig: &mut Signaling, json: &str) -> Result<(), SessionError> {
    let candidate = serde_json::from_str(json).map_err(|e| misbehaved(e.to_string()))?;
    relay(sig, &PeerSignal::Candidate { candidate }).await
}

async fn add_candidate(
    peer: &NativePeer,
    candidate: &serde_json::Value,
) -> Result<(), SessionError> {
    if candidate.is_null() {
        return Ok(());
    }
    peer.add_remote_candidate(&candidate.to_string())
        .await
        .map_err(connect_err)
}

/// Creates the offering peer and relays its offer (without candidates); returns the full offer
/// for the transcript.
async fn make_offer(
    sig: &mut Signaling,
    bind: SocketAddr,
) -> Result<(NativePeer, mpsc::Receiver<PeerEvent>, String), SessionError> {
    let (p, events) = new_peer(PeerRole::Offerer, bind).await?;
    let offer = p.create_offer().await.map_err(connect_err)?;
    relay(
        sig,
        &PeerSignal::Offer {
            sdp: without_candidates(&offer),
        },
    )
    .await?;
    Ok((p, events, offer))
}

async fn new_peer(
    role: PeerRole,
    bind: SocketAddr,
) -> Result<(NativePeer, mpsc::Receiver<PeerEvent>), SessionError> {
    NativePeer::new(role, bind).await.map_err(connect_err)
}

/// Candidates travel only as trickled `candidate` bodies, held until the peer is verified.
fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && l.trim_end() != "a=end-of-candidates")
        .collect()
}

fn nonce() -> HandshakeNonce {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    HandshakeNonce::from_bytes(bytes)
}

fn hs_err(e: pairwise_proto::handshake::HandshakeError) -> SessionError {
    SessionError::new(e.code(), e)
}

fn connect_err(e: anyhow::Error) -> SessionError {
    SessionError::new(ErrorCode::ConnectFailed, format!("{e:#}"))
}

fn misbehaved(detail: impl std::fmt::Display) -> SessionError {
    SessionError::new(ErrorCode::PeerMisbehaved, detail)
}
