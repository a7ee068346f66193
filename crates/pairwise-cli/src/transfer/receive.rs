//! Receiving the peer's offer into an [`Inbox`].
//!
//! - An offer without an id: each file is written to `NAME.part` next to its final name and
//!   moved into place after its FINAL record; on any failure what is incomplete is removed.
//! - An offer with an id (resumable, §11.3): each file is kept in `.pairwise-resume/` with a
//!   checkpoint ([`super::checkpoint`]); prefixes held from an earlier session are claimed in
//!   the `accept`, and appended to after the sender's `resume-ack` (or dropped if it answers
//!   0). If the connection ends early, the kept bytes stay and the person is told how to
//!   continue; after a cancel, a decline, a local failure or success, they are removed. A file
//!   is moved to its final name only when complete and verified.
//! - Ctrl-C sends `cancel` and removes partial data.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::transfer::{FileEntry, Manifest, Message, Receiver, ReceiverEvent};
use serde_json::json;

use super::channel::{StoredName, shown_name};
use super::checkpoint::{Held, ResumablePart, ResumeDir};
use super::interrupt::{CANCEL_WAIT, Interrupt};
use super::wire::Wire;
use super::{
    Channel, TransferFailure, announce, disk, fail, file_entry, mib, or_cancelled,
    refuse_if_refused, report_saved, report_text,
};
use crate::files::{Inbox, PartFile, Saved};
use crate::keystore::device_id;
use crate::progress::Progress;

/// Receives the peer's offer over `channel` into `inbox` if `accept` says yes to its manifest
/// (else declines it: `declined`). The caller closes the channel.
///
/// # Errors
/// [`TransferFailure`]: declined here, the peer left (incomplete files are removed, or kept for
/// resume), a record failed its check, the disk is full, Ctrl-C.
pub async fn receive_on(
    channel: &mut Channel,
    inbox: &Inbox,
    progress: &mut Progress,
    accept: &mut (dyn FnMut(&Manifest) -> bool + Send),
) -> Result<Vec<Saved>, TransferFailure> {
    let mut run = Incoming {
        receiver: Receiver::new(channel.proof),
        inbox,
        peer: device_id(channel.peer_identity()),
        manifest: None,
        resume: None,
        held: BTreeMap::new(),
        open: None,
        saved: Vec::new(),
        stored: channel.stored.clone(),
    };
    let mut interrupt = Interrupt::watch();
    let result = run
        .run(&mut channel.wire, progress, accept, &mut interrupt)
        .await;
    let result = or_cancelled(result, &mut channel.wire, "by the sender").await;
    refuse_if_refused(&result, &mut channel.wire).await;
    run.end(&result, progress);
    result.map(|()| run.saved)
}

/// Where the bytes of the current file go.
enum Sink {
    /// `NAME.part` next to the final name (an offer without id).
    Plain(PartFile),
    /// Kept for resume in `.pairwise-resume/`.
    Kept(Box<ResumablePart>),
    /// Saved whole in an earlier session, here.
    Done(PathBuf),
}

struct Incoming<'a> {
    receiver: Receiver,
    inbox: &'a Inbox,
    peer: String,
    manifest: Option<Manifest>,
    resume: Option<ResumeDir>,
    /// Files held from an earlier session and still valid (claimed and confirmed, or saved).
    held: BTreeMap<u32, Held>,
    open: Option<(u32, Sink)>,
    saved: Vec<Saved>,
    /// What this side calls the peer, if it is remembered: the offer names it.
    stored: Option<StoredName>,
}

impl Incoming<'_> {
    async fn run(
        &mut self,
        wire: &mut Wire,
        progress: &mut Progress,
        accept: &mut (dyn FnMut(&Manifest) -> bool + Send),
        interrupt: &mut Interrupt,
    ) -> Result<(), TransferFailure> {
        loop {
            let next = tokio::select! {
                biased;
                () = interrupt.wait() => None,
                r = wire.recv() => Some(r),
            };
            let Some(next) = next else {
                if let Some(cancel) = self.receiver.cancel() {
                    let _ = tokio::time::timeout(CANCEL_WAIT, wire.send(&cancel, false)).await;
                }
                return Err(TransferFailure::Interrupted(
                    "Cancelled (Ctrl-C): the other device was told, and the partial files here \
                     were removed."
                        .into(),
                ));
            };
            let (msg, is_final) = match next {
                Ok(m) => m,
                // A drop (or the peer's `close {}`) during a transfer leaves it incomplete; a
                // refusal in the peer's `close` says more than that (§6.1).
                Err(e) if e.code == ErrorCode::PeerLeft => {
                    self.receiver
                        .handle_close()
                        .map_err(|e| fail(e.code(), e))?;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            };
            if let Message::Text(text) = &msg {
                let from = shown_name(self.stored.as_ref(), wire.peer_name.as_ref());
                report_text(progress, text, from);
                continue;
            }
            if wire.peer_framed() {
                self.receiver.peer_uses_lanes();
            }
            self.receiver
                .handle_message(msg, is_final)
                .map_err(|e| fail(e.code(), e))?;
            while let Some(event) = self.receiver.poll_event() {
                if self.handle(event, wire, progress, accept).await? {
                    return Ok(());
                }
            }
        }
    }

    /// Handles one event; `true` once the transfer is complete.
    async fn handle(
        &mut self,
        event: ReceiverEvent,
        wire: &mut Wire,
        progress: &mut Progress,
        accept: &mut (dyn FnMut(&Manifest) -> bool + Send),
    ) -> Result<bool, TransferFailure> {
        match event {
            ReceiverEvent::Offered(m) => {
                let from = shown_name(self.stored.as_ref(), wire.peer_name.as_ref());
                announce(progress, &m, from);
                if !accept(&m) {
                    if let Some(decline) = self.receiver.decline() {
                        wire.send(&decline, false).await?;
                    }
                    return Err(TransferFailure::Local(
                        "Declined the offered files; nothing was saved.".into(),
                    ));
                }
                *progress = Progress::new(progress.is_json(), m.total_bytes());
                let reply = self.accept(&m)?;
                self.manifest = Some(m);
                if let Some(reply) = reply {
                    wire.send(&reply, false).await?;
                }
            }
            ReceiverEvent::Resumed { index, offset } => {
                let entry = file_entry(self.manifest.as_ref(), index)?;
                if offset == 0 {
                    self.held.remove(&index);
                    if let Some(dir) = &self.resume {
                        dir.drop_file(index);
                    }
                }
                let name = entry.name().as_str();
                let text = if offset == 0 {
                    format!(
                        "{name} changed since the last attempt (or the kept copy did): receiving it from the start"
                    )
                } else {
                    format!("Continuing {name} from {} kept earlier", mib(offset))
                };
                progress.event(
                    "resumed",
                    &text,
                    json!({"file": name, "index": index, "offset": offset}),
                );
                let skipped: u64 = self
                    .held
                    .values()
                    .filter(|h| h.claim.offset > 0)
                    .map(|h| h.claim.offset)
                    .sum();
                let total = self.manifest.as_ref().map_or(0, Manifest::total_bytes);
                *progress = Progress::new(progress.is_json(), total.saturating_sub(skipped));
            }
            ReceiverEvent::Data { index, bytes } => {
                let entry = file_entry(self.manifest.as_ref(), index)?.clone();
                match self.sink(index, &entry)? {
                    Sink::Plain(p) => p.write(&bytes).map_err(disk)?,
                    Sink::Kept(k) => k.write(&bytes).map_err(disk)?,
                    Sink::Done(_) => {
                        return Err(
                            fail(ErrorCode::PeerMisbehaved, "data for a file held whole").into(),
                        );
                    }
                }
                progress.advance(entry.name().as_str(), bytes.len() as u64);
                // Stored: let the sender go on (its window, §11.4).
                if let Some(ack) = self.receiver.stored(bytes.len()) {
                    wire.send(&ack, false).await?;
                }
            }
            ReceiverEvent::FileComplete { index } => {
                let entry = file_entry(self.manifest.as_ref(), index)?.clone();
                self.sink(index, &entry)?;
                let saved = match self.open.take() {
                    Some((_, Sink::Plain(p))) => p.finish().map_err(disk)?,
                    Some((_, Sink::Kept(k))) => k.finish(self.inbox, &entry).map_err(disk)?,
                    Some((_, Sink::Done(path))) => Saved {
                        path,
                        offered: entry.name().clone(),
                        renamed: false,
                    },
                    None => return Err(TransferFailure::Local("no file to finish".into())),
                };
                report_saved(progress, &saved);
                self.saved.push(saved);
                wire.send(&Message::Received(index), false).await?;
            }
            ReceiverEvent::TransferComplete => return Ok(true),
            ReceiverEvent::Cancelled => {
                return Err(fail(ErrorCode::Cancelled, "by the sender").into());
            }
        }
        Ok(false)
    }

    /// Accepts `m`: claims what is held of a resumable offer, else a plain `accept`.
    fn accept(&mut self, m: &Manifest) -> Result<Option<Message>, TransferFailure> {
        let Some(id) = m.id() else {
            return Ok(self.receiver.accept());
        };
        let dir = ResumeDir::new(self.inbox, *id, &self.peer);
        dir.clean_up(m.files());
        for (i, entry) in m.files().iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(held) = dir.held(self.inbox, index, entry) {
                self.held.insert(index, held);
            }
        }
        self.resume = Some(dir);
        // An empty file saved earlier cannot be claimed (offsets start at 1); it is only
        // not saved twice.
        let claims: Vec<_> = self
            .held
            .values()
            .map(|h| h.claim)
            .filter(|c| c.offset > 0)
            .collect();
        if claims.is_empty() {
            return Ok(self.receiver.accept());
        }
        let reply = self
            .receiver
            .accept_resume(claims)
            .map_err(|e| fail(e.code(), e))?;
        Ok(Some(reply))
    }

    /// The sink of file `index`, opened on first use.
    fn sink(&mut self, index: u32, entry: &FileEntry) -> Result<&mut Sink, TransferFailure> {
        if self.open.as_ref().is_none_or(|(i, _)| *i != index) {
            let held = self.held.get(&index);
            let sink = match (&self.resume, held) {
                (Some(_), Some(h)) if h.saved.is_some() => {
                    Sink::Done(h.saved.clone().unwrap_or_default())
                }
                (Some(dir), held) => {
                    Sink::Kept(Box::new(dir.begin(index, entry, held).map_err(disk)?))
                }
                (None, _) => {
                    Sink::Plain(self.inbox.begin(entry.dir(), entry.name()).map_err(disk)?)
                }
            };
            self.open = Some((index, sink));
        }
        match self.open.as_mut() {
            Some((_, sink)) => Ok(sink),
            None => Err(TransferFailure::Local("no file open".into())),
        }
    }

    /// After the transfer: removes the kept data, unless the connection ended early (then it
    /// stays for resume, and the person is told).
    fn end(&mut self, result: &Result<(), TransferFailure>, progress: &mut Progress) {
        // The screen shows the sentence of the code; what exactly happened is for the log.
        if let Err(TransferFailure::Session(e)) = result {
            tracing::debug!(code = ?e.code, "the transfer failed: {}", e.detail);
        }
        let dropped = result.as_ref().is_err_and(TransferFailure::is_drop);
        let open = self.open.take().map(|(_, s)| s);
        let (Some(dir), Some(m)) = (&self.resume, &self.manifest) else {
            return;
        };
        if !dropped {
            drop(open);
            dir.clear();
            return;
        }
        if let Some(Sink::Kept(k)) = open {
            k.suspend();
        }
        let kept = dir.kept(m.files());
        let text = format!(
            "Kept {} of {} for resume (in {}); run the same command again to continue.",
            mib(kept),
            mib(m.total_bytes()),
            dir.root().display()
        );
        progress.event(
            "kept",
            &text,
            json!({"kept": kept, "total": m.total_bytes(), "dir": dir.root().display().to_string()}),
        );
    }
}
