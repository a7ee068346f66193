//! The handshake driver shared by pairing and reconnecting: takes the first handshake state and
//! runs it over [`Signaling`] with a [`NativePeer`] until the session is confirmed and its data
//! channel open (`docs/protocol.md` §5 steps 3-7, §10.3).
//!
//! - the initiator answers the peer's `hello` (pairing) and makes the offer; the responder
//!   answers it; a remembered device's role comes from the key order;
//! - ICE candidates are held back both ways until the peer's `confirm` verified;
//! - remembered devices: a `hello` from another identity is answered `not-paired`
//!   ([`Stop::Stranger`]), `not-paired` ends with `unknown-device`, a `forgotten` notice is
//!   verified against our own `hello`; a `hello` with the paired identity but the wrong role
//!   waits briefly for the `not-paired` that usually follows it (a peer holding our record
//!   with another key computes its role against a key that is not ours).
//! - what the server says is a hint, never a verdict on a verified peer (as in the web app's
//!   driver): once the peer's confirm verified only candidates are taken (anything else is
//!   ignored: the peer never sends it), a body identical to one handled already is ignored
//!   (the server repeated it), and the handshake has [`HANDSHAKE_TIMEOUT`] from the first
//!   `hello` to an open channel, after which it fails with `connect-failed`.

use std::net::SocketAddr;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    AwaitConfirm, AwaitSdps, ConfirmedSession, HandshakeError, InitiatorAwaitHello, PeerSignal,
    ReconnectAwaitHello, RememberedPeer, ResponderAwaitHello, Role, sdp_fingerprint,
};
use pairwise_proto::limits::HANDSHAKE_TIMEOUT_MS;
use pairwise_proto::signal::{IceServer, ServerToClient};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::candidates::{
    add_candidate, apply_or_later, relay_candidate, sleep_until, without_candidates,
};
use super::{Established, SessionError, connect_err, hs_err, misbehaved, relay};

/// How long a wrong-role `hello` from the paired identity waits for the `not-paired` that
/// explains it (the same grace as the web app's driver).
const NOT_PAIRED_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// [`HANDSHAKE_TIMEOUT_MS`]: a server that drops a `confirm` would otherwise leave both sides
/// waiting for ever.
const HANDSHAKE_TIMEOUT: std::time::Duration =
    std::time::Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
use crate::peer::{NativePeer, NativePeerOptions, PeerEvent, Role as PeerRole, mark_cli};
use crate::signaling::Signaling;

/// Where the handshake stands.
pub(super) enum Stage {
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
pub(super) enum Stop {
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
pub(super) async fn drive(
    sig: &mut Signaling,
    mut stage: Stage,
    bind: SocketAddr,
) -> Result<Established, Stop> {
    let mut peer: Option<(NativePeer, mpsc::Receiver<PeerEvent>)> = None;
    let mut held_local: Vec<String> = Vec::new();
    let mut held_remote: Vec<serde_json::Value> = Vec::new();
    // The peer's relayed candidates, applied only at their time (see `RELAYED_REMOTE_DELAY`).
    let mut later: Vec<(Instant, serde_json::Value)> = Vec::new();
    let mut open = false;
    let mut sig_open = true;
    // The offer we created (initiator only): its fingerprint goes into the transcript.
    let mut own_offer: Option<String> = None;
    let reconnecting = matches!(stage, Stage::Reconnect(..));
    // The responder and a remembered device sent their hello before this; a pairing initiator
    // starts the clock when the peer's hello arrives.
    let mut deadline =
        (!matches!(stage, Stage::Initiator(_))).then(|| Instant::now() + HANDSHAKE_TIMEOUT);
    // The bodies handled before the confirm, as JSON text: a repeat is ignored.
    let mut handled = std::collections::HashSet::new();
    loop {
        if open && let Stage::Confirmed(_) = stage {
            break;
        }
        let confirmed = matches!(stage, Stage::Confirmed(_));
        let due = later.iter().map(|(at, _)| *at).min();
        let event = match peer.as_mut() {
            // Once confirmed, the channel is the judge: the server (or the peer leaving the
            // room after its own channel opened) no longer matters.
            Some((_, events)) if confirmed && !sig_open => tokio::select! {
                ev = events.recv() => Input::Peer(ev),
                () = sleep_until(due) => Input::Due,
                () = sleep_until(deadline) => Input::Deadline,
            },
            Some((_, events)) => tokio::select! {
                msg = sig.recv() => Input::Signal(msg),
                ev = events.recv() => Input::Peer(ev),
                () = sleep_until(due) => Input::Due,
                () = sleep_until(deadline) => Input::Deadline,
            },
            None => tokio::select! {
                msg = sig.recv() => Input::Signal(msg),
                () = sleep_until(deadline) => Input::Deadline,
            },
        };
        match event {
            Input::Deadline => {
                return Err(SessionError::new(
                    ErrorCode::ConnectFailed,
                    format!(
                        "the handshake did not finish in {} s",
                        HANDSHAKE_TIMEOUT.as_secs()
                    ),
                )
                .into());
            }
            Input::Due => {
                let now = Instant::now();
                let (ready, wait): (Vec<_>, Vec<_>) =
                    later.drain(..).partition(|(at, _)| *at <= now);
                later = wait;
                if let Some((p, _)) = peer.as_ref() {
                    for (_, c) in ready {
                        add_candidate(p, &c).await?;
                    }
                }
            }
            Input::Peer(None | Some(PeerEvent::Closed)) => {
                return Err(
                    SessionError::new(ErrorCode::ConnectFailed, "peer connection closed").into(),
                );
            }
            Input::Peer(Some(PeerEvent::Failed(why))) => {
                // Without a relay, a failed connection means the two networks allow no direct
                // path: say so, rather than "check that both are online". Only once confirmed:
                // before, the candidates were held back and the path was never tried.
                let code = if !confirmed || sig.ice_servers().iter().any(IceServer::is_turn) {
                    ErrorCode::ConnectFailed
                } else {
                    ErrorCode::NoRoute
                };
                return Err(SessionError::new(code, why).into());
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
                let signal = match PeerSignal::parse(&body) {
                    Ok(signal) => signal,
                    // Once the peer is verified only the server can relay a body that does not
                    // parse; it must not end a working session (§4.2, §5).
                    Err(e) if confirmed => {
                        tracing::info!("ignored a relayed body after the peer was verified: {e}");
                        continue;
                    }
                    Err(e) => return Err(SessionError::new(e.code(), e).into()),
                };
                let candidate = matches!(signal, PeerSignal::Candidate { .. });
                if confirmed && !candidate {
                    tracing::info!(
                        "ignored a relayed {} after the peer was verified",
                        signal.kind()
                    );
                    continue;
                }
                if !candidate && !handled.insert(body.to_string()) {
                    tracing::info!("ignored a repeated {}", signal.kind());
                    continue;
                }
                stage = match (std::mem::replace(&mut stage, Stage::Gone), signal) {
                    (Stage::Initiator(s), PeerSignal::Hello(h)) => {
                        let (next, own) = s.handle_hello(h).map_err(hs_err)?;
                        deadline = Some(Instant::now() + HANDSHAKE_TIMEOUT);
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
                            Err(HandshakeError::KeyChanged) => {
                                let _ = relay(sig, &PeerSignal::NotPaired {}).await;
                                tracing::warn!(
                                    peer = %remembered.identity().fmt_short(),
                                    "a device with another identity is in the room: not paired"
                                );
                                return Err(Stop::Stranger);
                            }
                            // The right identity with the wrong role: most likely the peer
                            // does not know this device's key and is about to say so.
                            Err(e @ HandshakeError::UnexpectedRole { .. }) => {
                                if not_paired_within(sig, NOT_PAIRED_GRACE).await {
                                    return Err(SessionError::new(
                                        ErrorCode::UnknownDevice,
                                        "the other device answered not-paired",
                                    )
                                    .into());
                                }
                                return Err(hs_err(e).into());
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
                        let (p, events) =
                            new_peer(PeerRole::Answerer, bind, sig.ice_servers(), Some(&sdp))
                                .await?;
                        let answer = p.accept_offer(&sdp).await.map_err(connect_err)?;
                        relay(
                            sig,
                            &PeerSignal::Answer {
                                sdp: mark_cli(&without_candidates(&answer)),
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
                                apply_or_later(p, candidate, &mut later).await?
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
                                apply_or_later(p, c, &mut later).await?;
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
        bind,
        ice_servers: sig.ice_servers().to_vec(),
    })
}

pub(super) enum Input {
    Signal(Result<Option<ServerToClient>, crate::signaling::SignalingError>),
    Peer(Option<PeerEvent>),
    /// A held-back relayed candidate of the peer is due.
    Due,
    /// The handshake took longer than [`HANDSHAKE_TIMEOUT`].
    Deadline,
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

/// Creates the offering peer and relays its offer (without candidates); returns the full offer
/// for the transcript.
async fn make_offer(
    sig: &mut Signaling,
    bind: SocketAddr,
) -> Result<(NativePeer, mpsc::Receiver<PeerEvent>, String), SessionError> {
    let (p, events) = new_peer(PeerRole::Offerer, bind, sig.ice_servers(), None).await?;
    let offer = p.create_offer().await.map_err(connect_err)?;
    relay(
        sig,
        &PeerSignal::Offer {
            sdp: mark_cli(&without_candidates(&offer)),
        },
    )
    .await?;
    Ok((p, events, offer))
}

/// A peer for this session; `offer` is the peer's offer when this side answers (its SDP says
/// whether the peer is a CLI, which gets a larger receive window).
async fn new_peer(
    role: PeerRole,
    bind: SocketAddr,
    ice: &[IceServer],
    offer: Option<&str>,
) -> Result<(NativePeer, mpsc::Receiver<PeerEvent>), SessionError> {
    let options = NativePeerOptions {
        ice_servers: ice.to_vec(),
        ..NativePeerOptions::default()
    };
    let options = match offer {
        Some(sdp) => options.for_remote_sdp(sdp),
        None => options,
    };
    NativePeer::with_options(role, bind, options)
        .await
        .map_err(connect_err)
}

/// Whether a `not-paired` body arrives within `grace` (other messages are skipped).
async fn not_paired_within(sig: &mut Signaling, grace: std::time::Duration) -> bool {
    let wait = async {
        loop {
            match sig.recv().await {
                Ok(Some(ServerToClient::Relay { body })) => {
                    if let Ok(PeerSignal::NotPaired {}) = PeerSignal::parse(&body) {
                        return true;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return false,
            }
        }
    };
    tokio::time::timeout(grace, wait).await.unwrap_or(false)
}
