//! Sessions with remembered devices (`docs/protocol.md` §10), no QR code:
//!
//! - `pairwise send --to NAME`: wait for NAME in the pair's room, reconnect, send;
//! - `pairwise receive --from NAME`: the same, then receive (its files are accepted: the person
//!   asked for them);
//! - `pairwise receive --paired`: one signaling connection per paired device (and per
//!   tombstone, to tell a forgotten device once); the first device that connects sends; files
//!   are accepted if it is set to auto-accept, else asked for on a terminal, else declined.
//!
//! Outcomes that change the store: a verified `forgotten` notice deletes the device's record;
//! a tombstone whose device was told is dropped; every confirmed session updates last seen and
//! the device's own name.

use std::future::Future;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::identity::PublicKey;
use pairwise_proto::transfer::Manifest;
use serde_json::json;
use tokio::task::JoinSet;

use crate::cli::PeerArgs;
use crate::commands::{announce_path, bind_for, received, report, sent};
use crate::files::Inbox;
use crate::keystore::{Keystore, PairedDevice, device_id};
use crate::progress::Progress;
use crate::session::{Established, SessionError, reconnect, tell_forgotten, unix_now};
use crate::signaling::Server;
use crate::transfer::{self, Channel, Outgoing, TransferFailure};

/// How this device meets a remembered one: where, as whom, for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meeting<'a> {
    /// The signaling server.
    pub(crate) server: &'a Server,
    /// Connection options.
    pub(crate) peer: &'a PeerArgs,
    /// This device's name for the `device` record.
    pub(crate) own_name: &'a DeviceName,
    /// How long to wait for the device (`None`: until interrupted).
    pub(crate) timeout: Option<Duration>,
    /// How long to wait for the device to come back after a transfer dropped (zero: not at
    /// all; `send --to` and `receive --from` only).
    pub(crate) reconnect: Duration,
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

/// `pairwise send --to NAME FILE...`.
pub(crate) async fn send(
    meeting: Meeting<'_>,
    store: &mut Keystore,
    device: &PairedDevice,
    files: &[Outgoing],
) -> anyhow::Result<ExitCode> {
    let total = files.iter().map(|f| f.size()).sum();
    let dir = store.dir().clone();
    let run = async |channel: &mut Channel, progress: &mut Progress| {
        transfer::send_on(channel, files, progress, Some(&dir)).await
    };
    Ok(
        match with_reconnects(meeting, store, device, total, run).await {
            Ok((mut progress, result)) => sent(&mut progress, result, files.len()),
            Err(code) => code,
        },
    )
}

/// `pairwise receive --from NAME`.
pub(crate) async fn receive_from(
    meeting: Meeting<'_>,
    store: &mut Keystore,
    device: &PairedDevice,
    inbox: &Inbox,
) -> anyhow::Result<ExitCode> {
    let run = async |channel: &mut Channel, progress: &mut Progress| {
        transfer::receive_on(channel, inbox, progress, &mut |_| true).await
    };
    Ok(
        match with_reconnects(meeting, store, device, 0, run).await {
            Ok((mut progress, result)) => received(&mut progress, result),
            Err(code) => code,
        },
    )
}

/// Meets `device` and runs one transfer session with `run`; after a drop meets it again and
/// runs again (the next session resumes), as `--reconnect` allows. Returns the last session's
/// progress and result, or the exit code of a meeting that failed (already reported).
async fn with_reconnects<T>(
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

/// What one of `receive --paired`'s rooms ended with.
enum Heard {
    /// A paired device connected.
    Device(String, Box<Result<Established, SessionError>>),
    /// A forgotten device was told (or could not be).
    Tombstone(PublicKey, Result<(), SessionError>),
}

/// `pairwise receive --paired`: waits for any paired device.
pub(crate) async fn receive_paired(
    meeting: Meeting<'_>,
    store: &mut Keystore,
    inbox: &Inbox,
) -> anyhow::Result<ExitCode> {
    let mut progress = Progress::new(meeting.peer.json, 0);
    if store.devices().is_empty() && store.tombstones().is_empty() {
        anyhow::bail!(
            "no paired devices to wait for: pair one first with `pairwise pair` (or send with a \
             QR code)"
        );
    }
    let bind = bind(meeting)?;
    let identity = store.identity().clone();
    let own = identity.public();
    let mut rooms = JoinSet::new();
    for d in store.devices() {
        let (server, peer, identity, id) = (
            meeting.server.clone(),
            d.remembered(),
            identity.clone(),
            d.id.clone(),
        );
        rooms.spawn(async move {
            Heard::Device(
                id,
                Box::new(reconnect(&server, &peer, &identity, bind).await),
            )
        });
    }
    for t in store.tombstones() {
        let (server, forgotten, own) = (meeting.server.clone(), t.remembered(), own.clone());
        rooms.spawn(async move {
            let told = tell_forgotten(&server, &forgotten, &own).await;
            Heard::Tombstone(forgotten.identity().clone(), told)
        });
    }
    let names: Vec<String> = store.devices().iter().map(|d| d.name.to_string()).collect();
    progress.event(
        "waiting",
        &format!(
            "Waiting for a paired device to send ({})…",
            if names.is_empty() {
                "none left; only telling forgotten ones".to_owned()
            } else {
                names.join(", ")
            }
        ),
        json!({"devices": names}),
    );
    let mut failed = false;
    let (id, est) = loop {
        let Some(next) = within(meeting.timeout, rooms.join_next()).await else {
            return Ok(timed_out(&mut progress, "No paired device came online"));
        };
        let heard = match next {
            None => {
                let text = "Nothing left to wait for.";
                progress.event("done", text, json!({}));
                return Ok(if failed {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            Some(Ok(heard)) => heard,
            Some(Err(e)) => anyhow::bail!("a waiting task failed: {e}"),
        };
        match heard {
            Heard::Device(id, result) => match *result {
                Ok(est) => break (id, est),
                Err(e) => {
                    failed = true;
                    let name = store.device(&id).map(|d| d.name.to_string());
                    forget_if_told(store, &id, &e);
                    let name = name.unwrap_or_else(|| id[..8].to_owned());
                    progress.event(
                        "device-error",
                        &format!("{name}: {e}"),
                        json!({"device": id, "code": e.code, "message": e.to_string()}),
                    );
                }
            },
            Heard::Tombstone(identity, Ok(())) => {
                let now = unix_now();
                store.update(now, |s| s.drop_tombstone(&identity))?;
                let id = device_id(&identity);
                progress.event(
                    "told-forgotten",
                    &format!(
                        "Told the forgotten device {} that it was forgotten.",
                        &id[..8]
                    ),
                    json!({"device": id}),
                );
            }
            Heard::Tombstone(identity, Err(e)) => {
                failed = true;
                let id = device_id(&identity);
                progress.event(
                    "device-error",
                    &format!("{}: {e}", &id[..8]),
                    json!({"device": id, "code": e.code, "message": e.to_string()}),
                );
            }
        }
    };
    // The first device wins; the other rooms are left.
    rooms.abort_all();
    let Some(device) = store.device(&id).cloned() else {
        anyhow::bail!("the paired device disappeared from the store while connecting");
    };
    online(&mut progress, &device);
    announce_path(&mut progress, &est).await;
    let mut channel = Channel::open(est, Some(meeting.own_name)).await?;
    let mut accept = |m: &Manifest| accept_from(&device, m);
    let result = transfer::receive_on(&mut channel, inbox, &mut progress, &mut accept).await;
    finish(store, &device.id, channel).await;
    Ok(received(&mut progress, result))
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
    Channel::open(est, Some(meeting.own_name))
        .await
        .map_err(|e| report(progress, e.into()))
}

/// After a session: closes it, and stores when the device was seen and the name it gave.
async fn finish(store: &mut Keystore, id: &str, channel: Channel) {
    let name = channel.peer_name().cloned();
    channel.close().await;
    let now = unix_now();
    if let Err(e) = store.update(now, |s| s.seen(id, name.as_ref(), now)) {
        tracing::warn!("could not note the session in the store: {e}");
    }
}

/// A verified `forgotten` notice: this device's record of the other one goes too (§10.5).
fn forget_if_told(store: &mut Keystore, id: &str, e: &SessionError) {
    if e.code == ErrorCode::Forgotten {
        let now = unix_now();
        if let Err(err) = store.update(now, |s| s.remove(id)) {
            tracing::warn!("could not delete the forgotten device's record: {err}");
        }
    }
}

fn online(progress: &mut Progress, device: &PairedDevice) {
    progress.event(
        "online",
        &format!("{} is online (verified).", device.name),
        json!({"device": device.id, "name": device.name.as_str()}),
    );
}

/// Says that nobody came within `--timeout` (`what` is the sentence's start) and picks exit 6.
fn timed_out(progress: &mut Progress, what: &str) -> ExitCode {
    let text = format!("pairwise: {what} within --timeout; try again later.");
    progress.event("timeout", &text, json!({"code": "timeout"}));
    ExitCode::from(6)
}

/// `fut`, or `None` once `limit` passed.
async fn within<T>(limit: Option<Duration>, fut: impl Future<Output = T>) -> Option<T> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
        None => Some(fut.await),
    }
}

fn bind(meeting: Meeting<'_>) -> anyhow::Result<std::net::SocketAddr> {
    bind_for(meeting.server.url(), meeting.peer.bind)
}

/// `receive --paired`: auto-accept, else ask on a terminal, else decline (and say how to
/// accept next time).
fn accept_from(device: &PairedDevice, manifest: &Manifest) -> bool {
    if device.auto_accept {
        return true;
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!(
            "Declining: {} is not set to auto-accept. Accept its files with `pairwise receive \
             --from \"{}\"`, or turn it on with `pairwise devices auto-accept \"{}\" on`.",
            device.name, device.name, device.name
        );
        return false;
    }
    tokio::task::block_in_place(|| {
        eprint!(
            "Accept {} file(s) from {}? [y/N] ",
            manifest.files().len(),
            device.name
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        stdin.lock().read_line(&mut line).is_ok()
            && matches!(line.trim().to_lowercase().as_str(), "y" | "yes")
    })
}
