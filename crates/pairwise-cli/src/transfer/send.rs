//! Sending files: the offer (with a transfer id when the caller can remember it, §11.3), then
//! chunks read from disk as the channel drains and the receiver's window allows (§11.4), then
//! waiting until the receiver confirmed every file.
//!
//! Resume: the receiver's claims are checked by recomputing each file's hash chain over this
//! side's own bytes `[0, o)` (streaming, 1 MiB at a time); the `resume-ack` continues each file
//! at its claimed offset if the proof matched, else at 0. The offer's entry in `outgoing.json`
//! ([`OfferIds`]) goes once the transfer is over (done, declined, cancelled), and stays if the
//! connection ended early, so running the same command again resumes. Ctrl-C sends `cancel`.

use std::io::Seek as _;
use std::path::Path;

use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::limits::RESUME_BLOCK;
use pairwise_proto::transfer::{
    Manifest, Message, ResumeChain, ResumeClaim, ResumeStart, Sender, SenderEvent, TransferId,
};
use serde_json::json;
use tokio::io::AsyncReadExt as _;

use super::channel::{StoredName, shown_name};
use super::interrupt::{CANCEL_WAIT, Interrupt};
use super::offer_ids::OfferIds;
use super::wire::{ChunkError, Wire};
use super::{
    Channel, Outgoing, TransferFailure, called, fail, mib, or_cancelled, refuse_if_refused,
    report_text, with_name,
};
use crate::clock::unix_now;
use crate::config::ConfigDir;
use crate::keystore::device_id;
use crate::progress::Progress;

/// Sends `files` over `channel` and waits until the receiver kept every one. With `ids` (the
/// configuration directory), the offer gets a transfer id remembered for this device and these
/// files, so a later run can resume it. The caller closes the channel.
///
/// # Errors
/// [`TransferFailure`] with the reason: declined, cancelled, the peer left, a read error,
/// Ctrl-C.
pub async fn send_on(
    channel: &mut Channel,
    files: &[Outgoing],
    progress: &mut Progress,
    ids: Option<&ConfigDir>,
) -> Result<(), TransferFailure> {
    let mut manifest = Manifest::new(files.iter().map(|f| f.entry.clone()).collect())
        .map_err(|e| fail(e.code(), e))?;
    let key = ids.map(|dir| OfferIds::new(dir, &device_id(channel.peer_identity()), files));
    let id = match key.as_ref().map(|k| k.id(unix_now())) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => {
            tracing::warn!("offering without resume: {e}");
            None
        }
        None => None,
    };
    if let Some(id) = id {
        manifest = manifest.with_id(id);
    }
    let mut interrupt = Interrupt::watch();
    let (mut sender, offer) = Sender::new(channel.proof, manifest, channel.max);
    let stored = channel.stored.clone();
    let wire = &mut channel.wire;
    wire.open_lanes().await?;
    for part in &offer {
        wire.send(part, false).await?;
    }
    // A new pairing's peer may not have named itself yet: then the neutral words.
    let to = shown_name(stored.as_ref(), wire.peer_name.as_ref());
    progress.event(
        "offered",
        &format!("Waiting for {} to accept…", called(to)),
        with_name(json!({"resumable": id.is_some()}), "to", to),
    );
    let mut run = Outbound {
        sender: &mut sender,
        files,
        id,
        reader: None,
        stored,
    };
    let result = run.run(wire, progress, &mut interrupt).await;
    let result = or_cancelled(result, wire, "by the receiver").await;
    refuse_if_refused(&result, wire).await;
    report_lanes(wire, progress);
    if result.is_err()
        && let Some(cancel) = sender.cancel()
    {
        let _ = tokio::time::timeout(CANCEL_WAIT, wire.send(&cancel, false)).await;
    }
    let over = match &result {
        Ok(()) | Err(TransferFailure::Interrupted(_)) => true,
        Err(TransferFailure::Session(e)) => {
            matches!(e.code, ErrorCode::Declined | ErrorCode::Cancelled)
        }
        Err(TransferFailure::Local(_)) => false,
    };
    if over
        && let Some(key) = &key
        && let Err(e) = key.forget(unix_now())
    {
        tracing::warn!("could not update the list of resumable offers: {e}");
    }
    result
}

struct Outbound<'a> {
    sender: &'a mut Sender,
    files: &'a [Outgoing],
    id: Option<TransferId>,
    reader: Option<(u32, std::fs::File)>,
    /// What this side calls the peer, if it is remembered.
    stored: Option<StoredName>,
}

impl Outbound<'_> {
    async fn run(
        &mut self,
        wire: &mut Wire,
        progress: &mut Progress,
        interrupt: &mut Interrupt,
    ) -> Result<(), TransferFailure> {
        loop {
            // Acknowledgements and cancels that already arrived, without waiting; once the last
            // file is acknowledged the transfer is done, even if the channel closed right after.
            loop {
                if self.sender.is_done() {
                    return Ok(());
                }
                let Some((msg, _)) = wire.try_recv().await? else {
                    break;
                };
                self.handle(msg, wire, progress).await?;
            }
            if interrupt.is_set() {
                return Err(interrupted());
            }
            let Some(chunk) = self.sender.poll_chunk() else {
                let next = tokio::select! {
                    biased;
                    () = interrupt.wait() => return Err(interrupted()),
                    r = wire.recv() => r,
                };
                let (msg, _) = next?;
                self.handle(msg, wire, progress).await?;
                continue;
            };
            let file = &self.files[chunk.index as usize];
            let r = match &mut self.reader {
                Some((i, r)) if *i == chunk.index => r,
                _ => {
                    let mut f =
                        std::fs::File::open(&file.path).map_err(|e| read_error(&file.path, &e))?;
                    f.seek(std::io::SeekFrom::Start(chunk.offset))
                        .map_err(|e| read_error(&file.path, &e))?;
                    &mut self.reader.insert((chunk.index, f)).1
                }
            };
            wire.send_chunk(r, chunk.len, chunk.is_final)
                .await
                .map_err(|e| match e {
                    ChunkError::Read(e) => TransferFailure::Local(format!(
                        "{} changed or could not be read while sending: {e}",
                        file.path.display()
                    )),
                    ChunkError::Session(e) => e.into(),
                })?;
            progress.advance(file.entry.name().as_str(), chunk.len as u64);
        }
    }

    /// Feeds one message to the sender and answers what needs an answer.
    async fn handle(
        &mut self,
        msg: Message,
        wire: &mut Wire,
        progress: &mut Progress,
    ) -> Result<(), TransferFailure> {
        if let Message::Text(text) = &msg {
            let from = shown_name(self.stored.as_ref(), wire.peer_name.as_ref());
            report_text(progress, text, from);
            return Ok(());
        }
        self.sender
            .handle_message(msg)
            .map_err(|e| fail(e.code(), e))?;
        while let Some(event) = self.sender.poll_event() {
            match event {
                SenderEvent::ResumeRequested(claims) => {
                    let to = shown_name(self.stored.as_ref(), wire.peer_name.as_ref()).cloned();
                    let starts = self.check_claims(&claims, to.as_ref(), progress).await?;
                    let ack = self.sender.resume(starts).map_err(|e| fail(e.code(), e))?;
                    wire.send(&ack, false).await?;
                }
                SenderEvent::Accepted => {
                    progress.event("accepted", "Accepted: sending…", json!({}));
                }
                SenderEvent::Declined => return Err(fail(ErrorCode::Declined, "declined").into()),
                SenderEvent::Cancelled => {
                    return Err(fail(ErrorCode::Cancelled, "by the receiver").into());
                }
                SenderEvent::FileReceived { index } => {
                    let name = self.files[index as usize].entry.name().as_str();
                    progress.event("sent", &format!("Sent {name}"), json!({"file": name}));
                }
                SenderEvent::TransferComplete => {}
            }
        }
        Ok(())
    }

    /// Where each claimed file continues: its claimed offset if the proof matches this side's
    /// bytes, else 0. Reports each decision and sets the progress total to what is left.
    async fn check_claims(
        &self,
        claims: &[ResumeClaim],
        to: Option<&DeviceName>,
        progress: &mut Progress,
    ) -> Result<Vec<ResumeStart>, TransferFailure> {
        let id = self.id.ok_or_else(|| {
            TransferFailure::from(fail(
                ErrorCode::PeerMisbehaved,
                "resume claims for an offer without an id",
            ))
        })?;
        let mut starts = Vec::with_capacity(claims.len());
        let mut skipped = 0;
        for c in claims {
            let file = &self.files[c.index as usize];
            let matched = match chain_prefix(&file.path, &id, c.index, c.offset, file.size()).await
            {
                Ok(proof) => proof == c.proof,
                // Shorter than the claim now: it changed.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
                Err(e) => return Err(read_error(&file.path, &e)),
            };
            let offset = if matched { c.offset } else { 0 };
            skipped += offset;
            let name = file.entry.name().as_str();
            let text = if offset == 0 {
                format!(
                    "{name}: the copy on {} does not match this file (it changed?), so it is \
                     sent from the start",
                    called(to)
                )
            } else {
                format!(
                    "{name}: {} has {} already; continuing",
                    called(to),
                    mib(offset)
                )
            };
            progress.event(
                "resumed",
                &text,
                json!({"file": name, "index": c.index, "claimed": c.offset, "offset": offset}),
            );
            starts.push(ResumeStart {
                index: c.index,
                offset,
            });
        }
        let total: u64 = self.files.iter().map(Outgoing::size).sum();
        *progress = Progress::new(progress.is_json(), total.saturating_sub(skipped));
        Ok(starts)
    }
}

/// The hash chain of file `index` of transfer `id` over the first `len` bytes of `path` (a
/// block boundary, or the whole `size`), read 1 MiB at a time.
async fn chain_prefix(
    path: &Path,
    id: &TransferId,
    index: u32,
    len: u64,
    size: u64,
) -> std::io::Result<[u8; 32]> {
    let mut chain = ResumeChain::new(id, index);
    let mut file = tokio::fs::File::open(path).await?;
    let mut buf = vec![0; RESUME_BLOCK as usize];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        file.read_exact(&mut buf[..want]).await?;
        chain.update(&buf[..want]);
        left -= want as u64;
    }
    Ok(if len == size {
        chain.finish()
    } else {
        chain.checkpoint().1
    })
}

/// How many chunks went over each channel, when lanes (§12) were used: a JSON event for
/// benchmarks and tests, a debug line otherwise.
fn report_lanes(wire: &Wire, progress: &mut Progress) {
    let per_channel = &wire.chunks_per_channel;
    if per_channel.len() < 2 {
        return;
    }
    tracing::debug!("chunks per channel (the session's, then each lane): {per_channel:?}");
    if progress.is_json() {
        progress.event("lanes", "", json!({"chunks": per_channel}));
    }
}

fn read_error(path: &Path, e: &std::io::Error) -> TransferFailure {
    TransferFailure::Local(format!("cannot read {}: {e}", path.display()))
}

fn interrupted() -> TransferFailure {
    TransferFailure::Interrupted(
        "Cancelled (Ctrl-C): the other device was told, and its partial files are removed.".into(),
    )
}
