//! `pairwise send FILE...`: collects the files, then either pairs by QR code (and remembers the
//! other device) or, with `--to NAME`, meets that remembered device and sends, meeting it again
//! after a drop so the next session resumes. Ends with `Done: …` or the failure's sentence and
//! exit code.

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use serde_json::json;

use super::common::{open_store, own_name, report, runtime, server};
use super::pairing::{NewPairing, note_name, pair_and_remember};
use super::remembered::{Meeting, with_reconnects};
use crate::cli::SendArgs;
use crate::keystore::{Keystore, PairedDevice};
use crate::progress::Progress;
use crate::transfer::{self, Channel, Outgoing, TransferFailure};

/// `pairwise send FILE...` (and `--to NAME`).
pub(crate) fn run(args: SendArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (files, skipped) = Outgoing::collect(&args.files).map_err(|e| anyhow!(e))?;
    if files.is_empty() {
        return Err(anyhow!(
            "nothing to send: the folders hold no regular files"
        ));
    }
    if skipped > 0 {
        eprintln!("Left out {skipped} symbolic link(s) or special file(s) found in the folders.");
    }
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer, config)?;
    let mut store = open_store(config)?;
    if let Some(to) = &args.to {
        let device = store.find(to)?.clone();
        return runtime()?.block_on(send_to(
            Meeting::new(&server, &args.peer, &own_name, args.peer.timeout),
            &mut store,
            &device,
            &files,
        ));
    }
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let how = if args.code {
            NewPairing::ShowCode
        } else {
            NewPairing::ShowQr
        };
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
        let total = files.iter().map(|f| f.size()).sum();
        let mut progress = Progress::new(args.peer.json, total);
        let result = transfer::send_on(&mut channel, &files, &mut progress, None).await;
        let name = channel.peer_name().cloned();
        channel.close().await;
        note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
        Ok(sent(&mut progress, result, files.len()))
    })
}

/// `pairwise send --to NAME FILE...`.
async fn send_to(
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

/// Reports the end of a send: `Done: …` or the failure.
fn sent(progress: &mut Progress, result: Result<(), TransferFailure>, count: usize) -> ExitCode {
    match result {
        Ok(()) => {
            let rate = crate::progress::bytes(progress.rate() as u64);
            progress.event(
                "done",
                &format!("Done: {count} file(s) sent, {rate}/s on average."),
                json!({"files": count, "rate": progress.rate().round()}),
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(progress, e),
    }
}
