//! `pairwise receive`: files into the inbox of `--dir`, from one of three senders:
//!
//! - a new pairing (the device that scans the QR code shown here, or whose link is given),
//!   remembered afterwards; its files are asked for on a terminal (unless `--yes`, or the
//!   device was paired before and set to auto-accept), else declined;
//! - `--from NAME`: that remembered device; its files are accepted (the person asked for them);
//! - `--paired`: whichever paired device sends first, with one signaling connection per paired
//!   device and one per tombstone, to tell a forgotten device once (the tombstone is then
//!   dropped). Files are accepted if the device is set to auto-accept (or `--yes`), else asked
//!   for on a terminal, else declined.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use pairwise_proto::identity::PublicKey;
use pairwise_proto::transfer::Manifest;
use serde_json::json;
use tokio::task::JoinSet;

use super::common::{announce_path, open_store, own_name, report, runtime, server};
use super::pairing::{NewPairing, note_name, pair_and_remember};
use super::remembered::{
    Meeting, bind, finish, forget_if_told, online, timed_out, with_reconnects, within,
};
use crate::cli::ReceiveArgs;
use crate::clock::unix_now;
use crate::files::Inbox;
use crate::keystore::{Keystore, PairedDevice, device_id};
use crate::progress::Progress;
use crate::session::{Established, SessionError, reconnect, tell_forgotten};
use crate::transfer::{self, Channel, TransferFailure};

/// `pairwise receive [LINK]` (and `--from NAME`, `--paired`).
pub(crate) fn run(args: ReceiveArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let inbox = Inbox::open(&args.dir)
        .map_err(|e| anyhow!("{e}: create it first or choose another with --dir"))?;
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer, config)?;
    let mut store = open_store(config)?;
    let meeting = Meeting::new(&server, &args.peer, &own_name, args.peer.timeout);
    if let Some(from) = &args.from {
        let device = store.find(from)?.clone();
        return runtime()?.block_on(receive_from(meeting, &mut store, &device, &inbox));
    }
    if args.paired {
        return runtime()?.block_on(receive_paired(meeting, &mut store, &inbox, args.yes));
    }
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let mut joined = String::new();
        let how = NewPairing::new(&args.link, args.code, &mut joined);
        let paired = pair_and_remember(
            how,
            &server,
            &args.peer,
            &mut store,
            &own_name,
            &mut progress,
        );
        let (mut channel, id) = match paired.await {
            Ok(c) => c,
            Err(code) => return Ok(code),
        };
        // Paired before and set to auto-accept: that setting still holds.
        let auto = id
            .as_deref()
            .and_then(|id| store.device(id))
            .is_some_and(|d| d.auto_accept);
        let mut accept = |_: &Manifest| {
            auto || args.yes
                || ask("Run the command again with --yes to accept files without being asked.")
        };
        let result = transfer::receive_on(&mut channel, &inbox, &mut progress, &mut accept).await;
        let name = channel.peer_name().cloned();
        channel.close().await;
        note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
        Ok(received(&mut progress, result))
    })
}

/// `pairwise receive --from NAME`.
async fn receive_from(
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

/// What one of `receive --paired`'s rooms ended with.
enum Heard {
    /// A paired device connected.
    Device(String, Box<Result<Established, SessionError>>),
    /// A forgotten device was told (or could not be).
    Tombstone(PublicKey, Result<(), SessionError>),
}

/// `pairwise receive --paired`: waits for any paired device.
async fn receive_paired(
    meeting: Meeting<'_>,
    store: &mut Keystore,
    inbox: &Inbox,
    yes: bool,
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
    channel.known_as(device.name.clone(), device.name_set_by_user);
    let mut accept = |_: &Manifest| yes || accept_from(&device);
    let result = transfer::receive_on(&mut channel, inbox, &mut progress, &mut accept).await;
    finish(store, &device.id, channel).await;
    Ok(received(&mut progress, result))
}

/// `receive --paired`: auto-accept, else ask on a terminal, else decline (and say how to
/// accept next time).
fn accept_from(device: &PairedDevice) -> bool {
    device.auto_accept
        || ask(&format!(
            "{} is not set to auto-accept. Accept its files with `pairwise receive --from \
             \"{}\"`, or turn it on with `pairwise devices auto-accept \"{}\" on`.",
            device.name, device.name, device.name
        ))
}

/// Asks "Accept? [y/N]" on the terminal, after the offer (names and sizes) was shown. Where
/// stdin is no terminal nobody can answer, so the files are declined, saying why and
/// `how_to_accept`, rather than waiting for an answer that never comes.
fn ask(how_to_accept: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!("Declining: there is no terminal to ask on. {how_to_accept}");
        return false;
    }
    tokio::task::block_in_place(|| {
        eprint!("Accept? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        stdin.lock().read_line(&mut line).is_ok()
            && matches!(line.trim().to_lowercase().as_str(), "y" | "yes")
    })
}

/// Reports the end of a receive: `Done: …` or the failure.
fn received(
    progress: &mut Progress,
    result: Result<Vec<crate::files::Saved>, TransferFailure>,
) -> ExitCode {
    match result {
        Ok(saved) => {
            progress.event(
                "done",
                &format!("Done: {} file(s) received.", saved.len()),
                json!({"files": saved.len()}),
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(progress, e),
    }
}
