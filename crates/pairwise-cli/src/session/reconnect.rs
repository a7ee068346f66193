//! Remembered devices meeting again (`docs/protocol.md` §10), on the pairing driver:
//!
//! - [`reconnect`]: join the pair's room of the UTC day, wait until the other device is there,
//!   send a fresh `hello`, and run the handshake of §10.3 (initiator by key order; candidates
//!   held until confirmed). A stranger in the room is answered `not-paired` and waited out; a
//!   device that leaves before the session is confirmed is waited for again; at 00:00 UTC the
//!   wait moves to the next day's room. `not-paired` from the other device fails with
//!   `unknown-device`, a verified `forgotten` notice with `forgotten`.
//! - [`tell_forgotten`]: for a tombstone (§10.5): wait in the pair's room for the forgotten
//!   device's `hello` and answer it with a `forgotten` notice instead of a handshake.
//!
//! Both wait as long as they are let; callers bound them with a timeout.

use std::net::SocketAddr;
use std::time::Duration;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    Forgotten, PeerSignal, ReconnectAwaitHello, RememberedPeer, utc_day,
};
use pairwise_proto::identity::{EphemeralSecret, IdentitySecret, PublicKey};
use pairwise_proto::session::Start;
use pairwise_proto::signal::ServerToClient;
use rand_core::OsRng;
use tokio::time::Instant;

use super::drive::{Stop, drive};
use super::{Established, SessionError, connect, hs_err, join, nonce, relay};
use crate::clock::unix_now;
use crate::signaling::{Server, Signaling};

/// Seconds in a UTC day.
const DAY: u64 = 86_400;

/// Waits for the remembered device `peer` in today's room and runs the reconnection
/// handshake with this device's `identity`; returns the confirmed session with an open
/// channel.
///
/// # Errors
/// A [`SessionError`]: `unknown-device` (the other device does not know this identity),
/// `forgotten` (it forgot this device; the notice verified, so the record may be deleted),
/// `verify-failed`, `signaling-lost`, `connect-failed`, ...
pub async fn reconnect(
    server: &Server,
    peer: &RememberedPeer,
    identity: &IdentitySecret,
    bind: SocketAddr,
) -> Result<Established, SessionError> {
    loop {
        let (mut sig, mut present, new_day) = enter_room(server, peer).await?;
        let outcome = loop {
            if !present && !wait_for_peer(&mut sig, new_day).await? {
                break None;
            }
            let ephemeral = EphemeralSecret::new(p256::SecretKey::random(&mut OsRng));
            let (state, hello) =
                ReconnectAwaitHello::start(peer.clone(), identity.clone(), ephemeral, nonce())
                    .map_err(hs_err)?;
            relay(&mut sig, &PeerSignal::Hello(hello)).await?;
            match drive(
                &mut sig,
                Start::Reconnect(state, peer.clone()),
                bind,
                &|_| false,
            )
            .await
            {
                Ok(est) => break Some(Ok(est)),
                // The stranger was told; it leaves, and the paired device may still come.
                Err(Stop::Stranger) => present = false,
                Err(Stop::Failed(e)) if e.code == ErrorCode::PeerLeft => {
                    tracing::debug!("the other device left before the session was confirmed");
                    present = false;
                }
                Err(Stop::Failed(e)) => break Some(Err(e)),
            }
        };
        sig.close().await;
        if let Some(result) = outcome {
            return result;
        }
    }
}

/// Holds a tombstone's room open until the forgotten device says `hello`, and answers it with
/// a `forgotten` notice (§10.5); a `hello` from any other identity gets `not-paired`.
/// `own` is this device's identity. Returns once the notice is sent.
///
/// # Errors
/// A [`SessionError`] if the server cannot be reached.
pub async fn tell_forgotten(
    server: &Server,
    forgotten: &RememberedPeer,
    own: &PublicKey,
) -> Result<(), SessionError> {
    loop {
        let (mut sig, _, new_day) = enter_room(server, forgotten).await?;
        let told = loop {
            let msg = tokio::select! {
                msg = sig.recv() => msg,
                () = tokio::time::sleep_until(new_day) => break false,
            };
            let body = match msg.map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))? {
                Some(ServerToClient::Relay { body }) => body,
                Some(ServerToClient::Error { code, message }) => {
                    return Err(SessionError::new(code, message));
                }
                Some(_) => continue,
                None => return Err(SessionError::new(ErrorCode::SignalingLost, "server closed")),
            };
            let Ok(PeerSignal::Hello(hello)) = PeerSignal::parse(&body) else {
                continue;
            };
            match Forgotten::answer(forgotten, own, &hello) {
                Ok(notice) => {
                    relay(&mut sig, &PeerSignal::Forgotten(notice)).await?;
                    break true;
                }
                Err(_) => relay(&mut sig, &PeerSignal::NotPaired {}).await?,
            }
        };
        sig.close().await;
        if told {
            return Ok(());
        }
    }
}

/// Connects and joins the pair's room of today. Returns the connection, whether the other
/// device is there already, and when the day (and so the room) ends.
async fn enter_room(
    server: &Server,
    peer: &RememberedPeer,
) -> Result<(Signaling, bool, Instant), SessionError> {
    let now = unix_now();
    let new_day = Instant::now() + Duration::from_secs(DAY - now % DAY);
    let room = peer.room(utc_day(now));
    tracing::debug!(room = %room.fmt_short(), "joining the pair's room of the day");
    let mut sig = connect(server).await?;
    let peers = join(&mut sig, &room).await.map_err(|e| {
        if e.code == ErrorCode::RoomFull {
            SessionError::new(
                ErrorCode::ConnectFailed,
                "the pair's room is full (is pairwise already running for this device \
                 elsewhere?)",
            )
        } else {
            e
        }
    })?;
    Ok((sig, peers >= 2, new_day))
}

/// Waits until the other device joins the room: `true`, or `false` when the day ended first.
async fn wait_for_peer(sig: &mut Signaling, new_day: Instant) -> Result<bool, SessionError> {
    loop {
        let msg = tokio::select! {
            msg = sig.recv() => msg,
            () = tokio::time::sleep_until(new_day) => return Ok(false),
        };
        match msg.map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))? {
            Some(ServerToClient::PeerJoined) => return Ok(true),
            Some(ServerToClient::Joined { peers, .. }) if peers >= 2 => return Ok(true),
            Some(ServerToClient::Error { code, message }) => {
                return Err(SessionError::new(code, message));
            }
            // A peer that left, or a leftover body from a session that ended.
            Some(_) => {}
            None => return Err(SessionError::new(ErrorCode::SignalingLost, "server closed")),
        }
    }
}
