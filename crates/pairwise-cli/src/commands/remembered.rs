//! Meeting a remembered device again (`docs/protocol.md` §10), with no QR code: what
//! `send --to`, `receive --from` and `receive --paired` share. [`with_reconnects`] waits for the
//! device in the pair's room, runs one transfer session, and after a drop meets it again as
//! `--reconnect` allows, so the next session resumes from what the receiver kept.
//!
//! Outcomes that change the store: a verified `forgotten` notice deletes the device's record;
//! every confirmed session updates last seen and the device's own name.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use serde_json::json;

use super::common::{announce_path, bind_for, report};
use crate::cli::PeerArgs;
use crate::clock::unix_now;
use crate::keystore::{Keystore, PairedDevice};
use crate::progress::Progress;
use crate::session::{SessionError, reconnect};
use crate::signaling::Server;
use crate::transfer::{Channel, TransferFailure};

/// How this device meets a remembered one: where, as whom, for how long.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meeting<'a> {
    /// The signaling server.
    pub(super) server: &'a Server,
    /// Connection options.
    pub(super) peer: &'a PeerArgs,
    /// This device's name for the `device` record.
    pub(super) own_name: &'a DeviceName,
    /// How long to wait for the device (`None`: until interrupted).
    pub(super) timeout: Option<Duration>,
    /// How long to wait for the device to come back after a transfer dropped (zero: not at
    /// all; `send --to` and `receive --from` only).
    pub(super) reconnect: Duration,
}

impl<'a> Meeting<'a> {
    /// A meeting as `send --to` and `receive --from` set it up: `--timeout` seconds, and the
    /// `--reconnect` wait of the connection options.
    pub(super) fn new(
        server: &'a Server,
        peer: &'a PeerArgs,
        own_name: &'a DeviceName,
        timeout_secs: Option<u64>,
    ) -> Self {
        Self {
            server,
            peer,
            own_name,
            timeout: timeout_secs.map(Duration::from_secs),
            reconnect: Duration::from_secs(peer.reconnect),
        }
    }
}

/// Reconnections after a drop in one run: each continues from what the receiver kept, so a
/// link that keeps dropping still ends.
const MAX_RECONNECTS: u32 = 10;

/// After a drop: whether to meet `device` again (and says so), as `--reconnect` allows.
fn reconnect_after(
    meeting: &mut Meeting<'_>,
    attempt: u32,
    device: &PairedDevice,
    progress: &mut Progress,
) -> bool {
    if meeting.reconnect.is_zero() || attempt > MAX_RECONNECTS {
        return false;
    }
    meeting.timeout = Some(meeting.reconnect);
    progress.event(
        "reconnecting",
        &format!(
            "The connection to {} dropped; waiting up to {} s for it to come back, to continue \
             from what it kept (Ctrl-C to stop)…",
            device.name,
            meeting.reconnect.as_secs()
        ),
        json!({"device": device.id, "attempt": attempt, "wait": meeting.reconnect.as_secs(),
               "bytes": progress.done()}),
    );
    true
}

/// Meets `device` and runs one transfer session with `run`; after a drop meets it again and
/// runs again (the next session resumes), as `--reconnect` allows. Returns the last session's
/// progress and result, or the exit code of a meeting that failed (already reported).
pub(super) async fn with_reconnects<T>(
    mut meeting: Meeting<'_>,
    store: &mut Keystore,
    device: &PairedDevice,
    total: u64,
    mut run: impl AsyncFnMut(&mut Channel, &mut Progress) -> Result<T, TransferFailure>,
) -> Result<(Progress, Result<T, TransferFailure>), ExitCode> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut progress = Progress::new(meeting.peer.json, 0);
        let mut channel = meet(meeting, store, device, &mut progress).await?;
        let mut progress = Progress::new(meeting.peer.json, total);
        let result = run(&mut channel, &mut progress).await;
        finish(store, &device.id, channel).await;
        let again = result.as_ref().is_err_and(TransferFailure::is_drop)
            && reconnect_after(&mut meeting, attempt, device, &mut progress);
        if !again {
            return Ok((progress, result));
        }
    }
}

/// Waits for `device` and reconnects; on failure reports it (and forgets a device that
/// verifiably forgot this one) and returns the exit code.
async fn meet(
    meeting: Meeting<'_>,
    store: &mut Keystore,
    device: &PairedDevice,
    progress: &mut Progress,
) -> Result<Channel, ExitCode> {
    let bind =
        bind(meeting).map_err(|e| report(progress, TransferFailure::Local(format!("{e:#}"))))?;
    progress.event(
        "waiting",
        &format!("Waiting for {} to come online…", device.name),
        json!({"device": device.id, "name": device.name.as_str()}),
    );
    let identity = store.identity().clone();
    let remembered = device.remembered();
    let attempt = reconnect(meeting.server, &remembered, &identity, bind);
    let est = match within(meeting.timeout, attempt).await {
        None => {
            let what = format!("{} did not come online", device.name);
            return Err(timed_out(progress, &what));
        }
        Some(Ok(est)) => est,
        Some(Err(e)) => {
            forget_if_told(store, &device.id, &e);
            return Err(report(progress, e.into()));
        }
    };
    online(progress, device);
    announce_path(progress, &est).await;
    let mut channel = Channel::open(est, Some(meeting.own_name))
        .await
        .map_err(|e| report(progress, e.into()))?;
    channel.known_as(device.name.clone(), device.name_set_by_user);
    Ok(channel)
}

/// After a session: closes it, and stores when the device was seen and the name it gave.
pub(super) async fn finish(store: &mut Keystore, id: &str, channel: Channel) {
    let name = channel.peer_name().cloned();
    channel.close().await;
    let now = unix_now();
    if let Err(e) = store.update(now, |s| s.seen(id, name.as_ref(), now)) {
        tracing::warn!("could not note the session in the store: {e}");
    }
}

/// A verified `forgotten` notice: this device's record of the other one goes too (§10.5).
pub(super) fn forget_if_told(store: &mut Keystore, id: &str, e: &SessionError) {
    if e.code == ErrorCode::Forgotten {
        let now = unix_now();
        if let Err(err) = store.update(now, |s| s.remove(id)) {
            tracing::warn!("could not delete the forgotten device's record: {err}");
        }
    }
}

pub(super) fn online(progress: &mut Progress, device: &PairedDevice) {
    progress.event(
        "online",
        &format!("{} is online (verified).", device.name),
        json!({"device": device.id, "name": device.name.as_str()}),
    );
}

/// Says that nobody came within `--timeout` (`what` is the sentence's start) and picks exit 6.
pub(super) fn timed_out(progress: &mut Progress, what: &str) -> ExitCode {
    let text = format!("pairwise: {what} within --timeout; try again later.");
    progress.event("timeout", &text, json!({"code": "timeout"}));
    ExitCode::from(6)
}

/// `fut`, or `None` once `limit` passed.
pub(super) async fn within<T>(limit: Option<Duration>, fut: impl Future<Output = T>) -> Option<T> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
        None => Some(fut.await),
    }
}

pub(super) fn bind(meeting: Meeting<'_>) -> anyhow::Result<std::net::SocketAddr> {
    bind_for(meeting.server.url(), meeting.peer.bind)
}
