//! Files over an [`Established`] session, driven by `pairwise-proto`'s sans-IO sender and
//! receiver: every data-channel message is one record, opened in order.
//!
//! - sending ([`send_on`], in `send.rs`): manifest (with a transfer id when resumable), wait
//!   for `accept` (and answer resume claims), chunks read from disk as the channel drains, then
//!   wait until the receiver confirmed every file;
//! - receiving ([`receive_on`], in `receive.rs`): accept the offer (claiming what an earlier
//!   session kept), write verified bytes to a part file, move a file into place only after its
//!   FINAL record, acknowledge it; keep partial files of a resumable offer when the connection
//!   drops ([`checkpoint`]), remove them otherwise;
//! - Ctrl-C on either side sends `cancel` (exit code [`INTERRUPTED_EXIT`]);
//! - the end (§6.1): a failure found in what the peer sent (`bad-name`, `peer-misbehaved`,
//!   `record-rejected`) is told to it in a `close` with that code; otherwise
//!   [`Channel::close`] sends `close {}` (this side is done). The peer's `close` with a code
//!   fails the transfer with `name-refused` or `peer-refused`;
//! - device names (§10.7): a [`Channel`] sends this device's `device` record first, and keeps
//!   the peer's name from any `device` record it receives, wherever it comes in the stream.

use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::transfer::{FileEntry, Manifest};
use serde_json::json;

use crate::files::{Inbox, Saved, SinkError};
use crate::progress::{Progress, bytes};
use crate::session::{Established, SessionError};

mod channel;
pub mod checkpoint;
mod flight;
mod interrupt;
mod lanes;
pub mod offer_ids;
mod outgoing;
mod receive;
mod send;
mod window;
mod wire;

pub use self::channel::Channel;
pub use self::interrupt::INTERRUPTED_EXIT;
pub use self::outgoing::Outgoing;
pub use self::receive::receive_on;
pub use self::send::send_on;

/// Why a transfer failed; carries the catalogue code for the sentence and exit code.
#[derive(Debug, thiserror::Error)]
pub enum TransferFailure {
    /// A protocol-level failure (declined, cancelled, incomplete, tampered, ...).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Something on this machine failed: reading or writing a file, the local address.
    #[error("{0}")]
    Local(String),
    /// Ctrl-C: `cancel` was sent; the sentence says what was cleaned up.
    #[error("{0}")]
    Interrupted(String),
}

impl TransferFailure {
    /// Whether the connection dropped (the peer vanished, the network went): what a receiver
    /// keeps for resume and what a new session can continue.
    pub fn is_drop(&self) -> bool {
        matches!(self, Self::Session(e) if matches!(e.code, ErrorCode::PeerLeft | ErrorCode::Incomplete))
    }
}

/// Sends `files` and waits until the receiver kept every one, then closes the channel (no
/// `device` record: for sessions with no name to give; no transfer id, so no resume).
///
/// # Errors
/// [`TransferFailure`] with the reason: declined, cancelled, the peer left, a read error.
pub async fn send(
    est: Established,
    files: &[Outgoing],
    progress: &mut Progress,
) -> Result<(), TransferFailure> {
    let mut channel = Channel::open(est, None).await?;
    let result = send_on(&mut channel, files, progress, None).await;
    channel.close().await;
    result
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

/// How the sentences call the peer: its name in quotes (names are validated peer input, §10.7:
/// no control, bidi or invisible characters), or "the other device" when none is known.
fn called(name: Option<&DeviceName>) -> String {
    name.map_or_else(|| "the other device".to_owned(), |n| format!("\"{n}\""))
}

/// [`called`] at the start of a sentence.
fn called_first(name: Option<&DeviceName>) -> String {
    name.map_or_else(|| "The other device".to_owned(), |n| format!("\"{n}\""))
}

/// `json` with `key: name` added when the peer's name is known (`--json` events gain `from` or
/// `to`; nothing else changes).
fn with_name(
    mut json: serde_json::Value,
    key: &str,
    name: Option<&DeviceName>,
) -> serde_json::Value {
    if let (Some(name), Some(map)) = (name, json.as_object_mut()) {
        map.insert(key.to_owned(), name.as_str().into());
    }
    json
}

/// Files listed by name in an offer on the terminal (`--json` lists them all).
const OFFER_LINES: usize = 10;

/// Shows the peer's offer: who sends (by name when known), how many files, how large.
fn announce(progress: &mut Progress, m: &Manifest, from: Option<&DeviceName>) {
    let mut list: Vec<String> = m
        .files()
        .iter()
        .take(OFFER_LINES)
        .map(|f| format!("  {}  {}", f.name().as_str(), bytes(f.size())))
        .collect();
    // A folder of thousands of files would scroll the question off the screen.
    if m.files().len() > OFFER_LINES {
        list.push(format!("  … and {} more", m.files().len() - OFFER_LINES));
    }
    progress.event(
        "offer",
        &format!("{} sends {} file(s), {}:\n{}", called_first(from), m.files().len(), bytes(m.total_bytes()), list.join("\n")),
        with_name(json!({"files": m.files().iter().map(|f| json!({"name": f.name().as_str(), "size": f.size()})).collect::<Vec<_>>()}), "from", from),
    );
}

/// Shows a `text` (§11.2) from the peer. On a terminal, control characters other than newline
/// and tab are replaced, so a text cannot move the cursor or change colours.
fn report_text(progress: &mut Progress, text: &str, from: Option<&DeviceName>) {
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
        &format!("Text from {}:\n{shown}", called(from)),
        with_name(json!({"text": text}), "from", from),
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
        unreachable: false,
    }
}

/// How long a side whose peer sent over lanes and left looks for that peer's `cancel` among the
/// frames still arriving.
const CANCEL_SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// `result`, or `cancelled` if it failed because the channel closed while the peer's `cancel`
/// was still queued here (the peer cancels, then closes: a send on our side can fail first).
async fn or_cancelled<T>(
    result: Result<T, TransferFailure>,
    wire: &mut wire::Wire,
    by: &str,
) -> Result<T, TransferFailure> {
    match result {
        Err(TransferFailure::Session(e)) if e.code == ErrorCode::PeerLeft => {
            // A peer sending over lanes: its cancel may wait in order behind frames still
            // coming in on the lanes (they are flushed before they close), or behind frames
            // that went on a lane that closed first and never come (§12: it counts).
            let settle = if wire.peer_framed() {
                CANCEL_SETTLE
            } else {
                std::time::Duration::ZERO
            };
            let deadline = tokio::time::Instant::now() + settle;
            loop {
                match wire.try_recv().await {
                    Ok(Some((pairwise_proto::transfer::Message::Cancel, _))) => {
                        return Err(fail(ErrorCode::Cancelled, by).into());
                    }
                    Ok(Some(_)) => {}
                    _ if wire.held_cancel() => {
                        return Err(fail(ErrorCode::Cancelled, by).into());
                    }
                    _ if tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    _ => return Err(e.into()),
                }
            }
        }
        other => other,
    }
}

/// Tells the peer why the session ends if `result` failed because of what it sent (§6.1):
/// `close {"code": …}`, so its screen does not say it was a drop.
async fn refuse_if_refused<T>(result: &Result<T, TransferFailure>, wire: &mut wire::Wire) {
    if let Err(TransferFailure::Session(e)) = result
        && pairwise_proto::transfer::refuses(e.code)
    {
        tracing::debug!(code = ?e.code, "telling the other device why the session ends");
        wire.refuse(e.code).await;
    }
}

/// A byte count in MiB with one decimal, e.g. `128.0 MiB`.
fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_name_is_quoted_and_an_unknown_one_is_the_other_device() {
        let pixel = DeviceName::parse("Pixel 8").unwrap();
        assert_eq!(called_first(Some(&pixel)), "\"Pixel 8\"");
        assert_eq!(called(Some(&pixel)), "\"Pixel 8\"");
        assert_eq!(called_first(None), "The other device");
        assert_eq!(called(None), "the other device");
        let event = with_name(json!({"files": []}), "from", Some(&pixel));
        assert_eq!(event, json!({"files": [], "from": "Pixel 8"}));
        assert_eq!(with_name(json!({"a": 1}), "to", None), json!({"a": 1}));
    }
}
