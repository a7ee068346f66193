//! Files over an [`Established`] session, driven by `pairwise-proto`'s sans-IO sender and
//! receiver: every data-channel message is one record, opened in order.
//!
//! - sending: manifest, wait for `accept`, chunks read from disk as the channel drains (the
//!   peer's `send` waits while its buffer is full, so memory stays flat), then wait until the
//!   receiver confirmed every file;
//! - receiving: accept the offer, write verified bytes to `NAME.part` in the [`Inbox`], move a
//!   file into place only after its FINAL record, acknowledge it, and on any failure remove
//!   what is incomplete;
//! - device names (§10.7): a [`Channel`] sends this device's `device` record first, and keeps
//!   the peer's name from any `device` record it receives, wherever it comes in the stream.

use pairwise_proto::error::ErrorCode;
use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, Receiver, ReceiverEvent, ResumeStart, Sender, SenderEvent,
};
use serde_json::json;

use self::channel::{ChunkError, Wire};
use crate::files::{Inbox, PartFile, Saved, SinkError};
use crate::progress::{Progress, bytes};
use crate::session::{Established, SessionError};

mod channel;
mod outgoing;

pub use self::channel::Channel;
pub use self::outgoing::Outgoing;

/// Why a transfer failed; carries the catalogue code for the sentence and exit code.
#[derive(Debug, thiserror::Error)]
pub enum TransferFailure {
    /// A protocol-level failure (declined, cancelled, incomplete, tampered, ...).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Something on this machine failed: reading or writing a file, the local address.
    #[error("{0}")]
    Local(String),
}

/// Sends `files` and waits until the receiver kept every one, then closes the channel (no
/// `device` record: for sessions with no name to give).
///
/// # Errors
/// [`TransferFailure`] with the reason: declined, cancelled, the peer left, a read error.
pub async fn send(
    est: Established,
    files: &[Outgoing],
    progress: &mut Progress,
) -> Result<(), TransferFailure> {
    let mut channel = Channel::open(est, None).await?;
    let result = send_on(&mut channel, files, progress).await;
    channel.close().await;
    result
}

/// Sends `files` over `channel` and waits until the receiver kept every one. The caller
/// closes the channel.
///
/// # Errors
/// [`TransferFailure`] with the reason: declined, cancelled, the peer left, a read error.
pub async fn send_on(
    channel: &mut Channel,
    files: &[Outgoing],
    progress: &mut Progress,
) -> Result<(), TransferFailure> {
    let manifest = Manifest::new(files.iter().map(|f| f.entry.clone()).collect())
        .map_err(|e| fail(e.code(), e))?;
    let (mut sender, offer) = Sender::new(channel.proof, manifest, channel.max);
    let wire = &mut channel.wire;
    for part in &offer {
        wire.send(part, false).await?;
    }
    progress.event(
        "offered",
        "Waiting for the other device to accept…",
        json!({}),
    );
    let result = send_loop(wire, &mut sender, files, progress).await;
    if result.is_err()
        && let Some(cancel) = sender.cancel()
    {
        let _ = wire.send(&cancel, false).await;
    }
    result
}

async fn send_loop(
    wire: &mut Wire,
    sender: &mut Sender,
    files: &[Outgoing],
    progress: &mut Progress,
) -> Result<(), TransferFailure> {
    let mut reader: Option<(u32, std::fs::File)> = None;
    loop {
        // Acknowledgements and cancels that already arrived, without waiting; once the last
        // file is acknowledged the transfer is done, even if the channel closed right after.
        loop {
            if sender.is_done() {
                return Ok(());
            }
            let Some((msg, _)) = wire.try_recv()? else {
                break;
            };
            if let Some(reply) = handle_sender_msg(sender, msg, files, progress)? {
                wire.send(&reply, false).await?;
            }
        }
        let Some(chunk) = sender.poll_chunk() else {
            let (msg, _) = wire.recv().await?;
            if let Some(reply) = handle_sender_msg(sender, msg, files, progress)? {
                wire.send(&reply, false).await?;
            }
            continue;
        };
        let file = &files[chunk.index as usize];
        let r = match &mut reader {
            Some((i, r)) if *i == chunk.index => r,
            _ => {
                let f = std::fs::File::open(&file.path).map_err(|e| {
                    TransferFailure::Local(format!("cannot read {}: {e}", file.path.display()))
                })?;
                &mut reader.insert((chunk.index, f)).1
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

/// Feeds one message to the sender; returns a reply to send, if any.
fn handle_sender_msg(
    sender: &mut Sender,
    msg: Message,
    files: &[Outgoing],
    progress: &mut Progress,
) -> Result<Option<Message>, TransferFailure> {
    if let Message::Text(text) = &msg {
        report_text(progress, text);
        return Ok(None);
    }
    sender.handle_message(msg).map_err(|e| fail(e.code(), e))?;
    let mut reply = None;
    while let Some(event) = sender.poll_event() {
        match event {
            SenderEvent::ResumeRequested(claims) => {
                // This sender offers no transfer id, so the state machine refuses claims
                // before this event; if it ever comes, every file starts from 0.
                let starts = claims
                    .iter()
                    .map(|c| ResumeStart {
                        index: c.index,
                        offset: 0,
                    })
                    .collect();
                reply = Some(sender.resume(starts).map_err(|e| fail(e.code(), e))?);
            }
            SenderEvent::Accepted => {
                progress.event("accepted", "Accepted: sending…", json!({}));
            }
            SenderEvent::Declined => return Err(fail(ErrorCode::Declined, "declined").into()),
            SenderEvent::Cancelled => {
                return Err(fail(ErrorCode::Cancelled, "by the receiver").into());
            }
            SenderEvent::FileReceived { index } => {
                let name = files[index as usize].entry.name().as_str();
                progress.event("sent", &format!("Sent {name}"), json!({"file": name}));
            }
            SenderEvent::TransferComplete => {}
        }
    }
    Ok(reply)
}

/// Accepts the peer's offer and receives its files into `inbox`, then closes the channel.
///
/// # Errors
/// [`TransferFailure`]: the peer left (incomplete files are removed), a record failed its
/// check, the disk is full.
pub async fn receive(
    est: Established,
    inbox: &Inbox,
    progress: &mut Progress,
) -> Result<Vec<Saved>, TransferFailure> {
    let mut channel = Channel::open(est, None).await?;
    let result = receive_on(&mut channel, inbox, progress, &mut |_| true).await;
    channel.close().await;
    result
}

/// Receives the peer's offer over `channel` into `inbox` if `accept` says yes to its manifest
/// (else declines it: `declined`). The caller closes the channel.
///
/// # Errors
/// [`TransferFailure`]: declined here, the peer left (incomplete files are removed), a record
/// failed its check, the disk is full.
pub async fn receive_on(
    channel: &mut Channel,
    inbox: &Inbox,
    progress: &mut Progress,
    accept: &mut (dyn FnMut(&Manifest) -> bool + Send),
) -> Result<Vec<Saved>, TransferFailure> {
    let wire = &mut channel.wire;
    let mut receiver = Receiver::new(channel.proof);
    let mut part: Option<PartFile> = None;
    let mut saved = Vec::new();
    let mut manifest: Option<Manifest> = None;
    let result = async {
        loop {
            let (msg, is_final) = match wire.recv().await {
                Ok(m) => m,
                Err(e) => {
                    receiver.handle_close().map_err(|e| fail(e.code(), e))?;
                    return Err(e.into());
                }
            };
            if let Message::Text(text) = &msg {
                report_text(progress, text);
                continue;
            }
            receiver
                .handle_message(msg, is_final)
                .map_err(|e| fail(e.code(), e))?;
            while let Some(event) = receiver.poll_event() {
                match event {
                    ReceiverEvent::Offered(m) => {
                        announce(progress, &m);
                        if !accept(&m) {
                            if let Some(decline) = receiver.decline() {
                                wire.send(&decline, false).await?;
                            }
                            return Err(TransferFailure::Local(
                                "Declined the offered files; nothing was saved.".into(),
                            ));
                        }
                        *progress = Progress::new(progress.is_json(), m.total_bytes());
                        manifest = Some(m);
                        if let Some(accept) = receiver.accept() {
                            wire.send(&accept, false).await?;
                        }
                    }
                    ReceiverEvent::Data { index, bytes } => {
                        let entry = file_entry(manifest.as_ref(), index)?;
                        if part.is_none() {
                            part = Some(inbox.begin(entry.dir(), entry.name()).map_err(disk)?);
                        }
                        if let Some(p) = part.as_mut() {
                            p.write(&bytes).map_err(disk)?;
                        }
                        progress.advance(entry.name().as_str(), bytes.len() as u64);
                        // Stored: let the sender go on (its window, §11.4).
                        if let Some(ack) = receiver.stored(bytes.len()) {
                            wire.send(&ack, false).await?;
                        }
                    }
                    ReceiverEvent::FileComplete { index } => {
                        let entry = file_entry(manifest.as_ref(), index)?;
                        let p = match part.take() {
                            Some(p) => p,
                            None => inbox.begin(entry.dir(), entry.name()).map_err(disk)?,
                        };
                        let s = p.finish().map_err(disk)?;
                        report_saved(progress, &s);
                        saved.push(s);
                        wire.send(&Message::Received(index), false).await?;
                    }
                    // Only after our own resume claims, and this receiver makes none.
                    ReceiverEvent::Resumed { .. } => {}
                    ReceiverEvent::TransferComplete => return Ok(()),
                    ReceiverEvent::Cancelled => {
                        return Err(fail(ErrorCode::Cancelled, "by the sender").into());
                    }
                }
            }
        }
    }
    .await;
    if let Some(p) = part.take() {
        p.discard();
    }
    result.map(|()| saved)
}

fn announce(progress: &mut Progress, m: &Manifest) {
    let list: Vec<String> = m
        .files()
        .iter()
        .map(|f| format!("  {}  {}", f.name().as_str(), bytes(f.size())))
        .collect();
    progress.event(
        "offer",
        &format!("The other device sends {} file(s), {}:\n{}", m.files().len(), bytes(m.total_bytes()), list.join("\n")),
        json!({"files": m.files().iter().map(|f| json!({"name": f.name().as_str(), "size": f.size()})).collect::<Vec<_>>()}),
    );
}

/// Shows a `text` (§11.2) from the peer. On a terminal, control characters other than newline
/// and tab are replaced, so a text cannot move the cursor or change colours.
fn report_text(progress: &mut Progress, text: &str) {
    let shown: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    progress.event(
        "text",
        &format!("Text from the other device:\n{shown}"),
        json!({"text": text}),
    );
}

fn report_saved(progress: &mut Progress, s: &Saved) {
    let path = s.path.display().to_string();
    let text = if s.renamed {
        format!(
            "Saved {path} ({} existed already, so it was not replaced)",
            s.offered.as_str()
        )
    } else {
        format!("Saved {path}")
    };
    progress.event(
        "saved",
        &text,
        json!({"path": path, "offered": s.offered.as_str(), "renamed": s.renamed}),
    );
}

fn file_entry(manifest: Option<&Manifest>, index: u32) -> Result<&FileEntry, TransferFailure> {
    manifest
        .and_then(|m| m.files().get(index as usize))
        .ok_or_else(|| fail(ErrorCode::PeerMisbehaved, "data for an unknown file").into())
}

fn disk(e: SinkError) -> TransferFailure {
    let hint = match e {
        SinkError::DiskFull { .. } => "; free some space or choose another folder with --dir",
        _ => "",
    };
    TransferFailure::Local(format!("{e}{hint}. The incomplete file was removed."))
}

fn fail(code: ErrorCode, detail: impl std::fmt::Display) -> SessionError {
    SessionError {
        code,
        detail: detail.to_string(),
    }
}
