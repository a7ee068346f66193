//! The IO around `pairwise-proto`'s session engine ([`Session`]): runs one handshake, pairing
//! or reconnecting, over [`Signaling`] with a [`NativePeer`] until the session is confirmed and
//! its data channel open (`docs/protocol.md` §5 steps 3-7, §10.3). Every decision (the steps,
//! candidates held until the confirm, what the server may still say after it, the deadline,
//! the not-paired grace) is the engine's; this file only carries its inputs and actions.

use std::net::SocketAddr;
use std::time::Duration;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::session::{Action, Config, Outcome, PeerInput, ServerInput, Session, Start};
use pairwise_proto::signal::{IceServer, ServerToClient};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::candidates::{RELAYED_REMOTE_DELAY, add_candidate, sleep_until};
use super::{Established, SessionError, connect_err, misbehaved, relay};
use crate::peer::{NativePeer, NativePeerOptions, PeerEvent, Role as PeerRole, mark_cli};
use crate::signaling::Signaling;

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

/// Runs the handshake from `start` until the session is confirmed and the channel is open. The
/// caller sent this side's `hello` where it goes first, and closes `sig`. A relayed body for
/// which `skip` holds is dropped unseen: a code body the server repeats after the code exchange
/// (§2.1), which the engine would take for a body out of turn.
pub(super) async fn drive(
    sig: &mut Signaling,
    start: Start,
    bind: SocketAddr,
    skip: &(dyn Fn(&serde_json::Value) -> bool + Sync),
) -> Result<Established, Stop> {
    let clock = Instant::now();
    let now = move || u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let config = Config {
        // Where only relayed candidates are used there is no direct pair to prefer.
        relayed_delay_ms: if crate::peer::settings::relay_only() {
            0
        } else {
            u64::try_from(RELAYED_REMOTE_DELAY.as_millis()).unwrap_or(0)
        },
        has_turn: sig.ice_servers().iter().any(IceServer::is_turn),
    };
    let mut session = Session::new(start, config, now());
    let mut peer: Option<(NativePeer, mpsc::Receiver<PeerEvent>)> = None;
    let mut server_open = true;
    loop {
        while let Some(action) = session.poll_action() {
            if let Err(e) = act(action, &mut session, sig, &mut peer, bind).await {
                session.action_failed(e.detail);
            }
        }
        match session.poll_outcome() {
            Some(Outcome::Established(confirmed)) => {
                let Some((peer, events)) = peer else {
                    return Err(misbehaved("channel open without a connection").into());
                };
                return Ok(Established {
                    peer,
                    events,
                    session: confirmed,
                    bind,
                    ice_servers: sig.ice_servers().to_vec(),
                });
            }
            Some(Outcome::Failed { code, detail }) => {
                return Err(SessionError::new(code, detail).into());
            }
            Some(Outcome::Stranger) => return Err(Stop::Stranger),
            None => {}
        }
        let due = session
            .poll_timeout()
            .map(|ms| clock + Duration::from_millis(ms));
        // Once the server is gone only the connection and the timers speak.
        let input = match peer.as_mut() {
            Some((_, events)) if !server_open => tokio::select! {
                ev = events.recv() => Input::Peer(ev),
                () = sleep_until(due) => Input::Due,
            },
            Some((_, events)) => tokio::select! {
                msg = sig.recv() => Input::Signal(msg),
                ev = events.recv() => Input::Peer(ev),
                () = sleep_until(due) => Input::Due,
            },
            None if !server_open => tokio::select! {
                () = sleep_until(due) => Input::Due,
            },
            None => tokio::select! {
                msg = sig.recv() => Input::Signal(msg),
                () = sleep_until(due) => Input::Due,
            },
        };
        match input {
            Input::Due => session.handle_timeout(now()),
            Input::Signal(msg) => {
                let input = match msg {
                    Ok(Some(ServerToClient::Relay { body })) if skip(&body) => continue,
                    Ok(Some(frame)) => ServerInput::Frame(frame),
                    Ok(None) => {
                        server_open = false;
                        ServerInput::Closed("server closed".to_owned())
                    }
                    Err(e) => {
                        server_open = false;
                        ServerInput::Closed(e.to_string())
                    }
                };
                session.handle_server(now(), input);
            }
            Input::Peer(ev) => session.handle_peer(match ev {
                None | Some(PeerEvent::Closed) => PeerInput::Closed,
                Some(PeerEvent::Failed(why)) => PeerInput::Failed(why),
                Some(PeerEvent::ChannelOpen) => PeerInput::ChannelOpen,
                Some(PeerEvent::Message(_)) => PeerInput::Data,
                Some(PeerEvent::LocalCandidate(json)) => match serde_json::from_str(&json) {
                    Ok(candidate) => PeerInput::LocalCandidate(candidate),
                    Err(e) => return Err(misbehaved(format!("our own candidate: {e}")).into()),
                },
            }),
        }
    }
}

enum Input {
    Signal(Result<Option<ServerToClient>, crate::signaling::SignalingError>),
    Peer(Option<PeerEvent>),
    /// The engine's timeout is due.
    Due,
}

/// Does what the engine asked; a failure of the connection is `connect-failed` (the engine's
/// `action_failed`), a relay that cannot go out before the confirm is `signaling-lost`.
async fn act(
    action: Action,
    session: &mut Session,
    sig: &mut Signaling,
    peer: &mut Option<(NativePeer, mpsc::Receiver<PeerEvent>)>,
    bind: SocketAddr,
) -> Result<(), SessionError> {
    match action {
        Action::Relay(signal) => {
            if let Err(e) = relay(sig, &signal).await {
                // After the confirm the server no longer matters (a late candidate only).
                if !session.is_confirmed() {
                    return Err(e);
                }
                tracing::debug!(
                    "a {} could not be relayed after the confirm: {e}",
                    signal.kind()
                );
            }
        }
        Action::CreateOffer => {
            let (p, events) = new_peer(PeerRole::Offerer, bind, sig.ice_servers(), None).await?;
            let offer = p.create_offer().await.map_err(connect_err)?;
            *peer = Some((p, events));
            session.offer_created(offer.clone(), &mark_cli(&offer));
        }
        Action::AnswerOffer { sdp } => {
            let (p, events) =
                new_peer(PeerRole::Answerer, bind, sig.ice_servers(), Some(&sdp)).await?;
            let answer = p.accept_offer(&sdp).await.map_err(connect_err)?;
            *peer = Some((p, events));
            session.answer_created(&answer, &mark_cli(&answer));
        }
        Action::AcceptAnswer { sdp } => {
            let Some((p, _)) = peer.as_ref() else {
                return Err(misbehaved("answer before offer"));
            };
            p.accept_answer(&sdp).await.map_err(connect_err)?;
        }
        Action::AddCandidate(candidate) => {
            if let Some((p, _)) = peer.as_ref() {
                add_candidate(p, &candidate).await?;
            }
        }
    }
    Ok(())
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
