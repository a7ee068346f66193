//! [`ResumablePart`]: one file being kept for resume, its bytes and its checkpoint (the order:
//! bytes written and flushed first, then the checkpoint, written atomically).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use pairwise_proto::b64;
use pairwise_proto::transfer::{FileEntry, ResumeChain};

use super::Checkpoint;
use crate::files::{Inbox, Saved, SinkError};

/// A file being kept for resume: appends verified bytes and checkpoints every 1 MiB block.
#[derive(Debug)]
pub struct ResumablePart {
    record: Checkpoint,
    checkpoint: PathBuf,
    path: PathBuf,
    out: Option<BufWriter<File>>,
    chain: ResumeChain,
    saved_at: u64,
}

impl ResumablePart {
    /// Appends verified bytes; at each new block boundary, flushes them and then updates the
    /// checkpoint.
    ///
    /// # Errors
    /// [`SinkError::DiskFull`] or [`SinkError::Io`].
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let out = self.out.as_mut().ok_or_else(|| closed(&self.path))?;
        out.write_all(bytes)
            .map_err(|e| sink_error(&self.path, "write", e))?;
        self.chain.update(bytes);
        let (at, h) = self.chain.checkpoint();
        if at > self.saved_at {
            out.flush()
                .map_err(|e| sink_error(&self.path, "write", e))?;
            self.save(at, h, None)?;
        }
        Ok(())
    }

    /// The file is complete and verified: flushes it to disk, moves it into place in `inbox`
    /// and notes that in its checkpoint (so a later session can claim it whole).
    ///
    /// # Errors
    /// [`SinkError`] if flushing or moving fails.
    pub fn finish(mut self, inbox: &Inbox, entry: &FileEntry) -> Result<Saved, SinkError> {
        if let Some(out) = self.out.take() {
            let file = out.into_inner().map_err(|e| e.into_error());
            file.and_then(|f| f.sync_all())
                .map_err(|e| sink_error(&self.path, "write", e))?;
        }
        let saved = inbox.adopt(&self.path, entry.dir(), entry.name())?;
        let name = saved
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned);
        let offset = self.chain.offset();
        let h = self.chain.clone().finish();
        // Best effort: without it, a later session only re-sends this file.
        let _ = self.save(offset, h, name);
        Ok(saved)
    }

    /// The connection ended: flushes what was written (the checkpoint already covers the last
    /// block boundary) and keeps both files.
    pub fn suspend(mut self) {
        if let Some(mut out) = self.out.take() {
            let _ = out.flush();
        }
    }

    fn save(&mut self, offset: u64, h: [u8; 32], saved: Option<String>) -> Result<(), SinkError> {
        self.record.offset = offset;
        self.record.h = b64::encode(&h);
        self.record.saved = saved;
        let json = serde_json::to_vec(&self.record).unwrap_or_default();
        let tmp = self.checkpoint.with_extension("json.tmp");
        fs::write(&tmp, json)
            .and_then(|()| fs::rename(&tmp, &self.checkpoint))
            .map_err(|e| sink_error(&self.checkpoint, "write", e))?;
        self.saved_at = offset;
        Ok(())
    }
}

impl ResumablePart {
    /// Keeps `file` (at `path`, positioned at its end, which is `chain`'s offset) with the
    /// checkpoint `record`, saved at `checkpoint`.
    pub(super) fn new(
        record: Checkpoint,
        checkpoint: PathBuf,
        path: PathBuf,
        file: File,
        chain: ResumeChain,
    ) -> Self {
        let saved_at = chain.offset();
        Self {
            record,
            checkpoint,
            path,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            chain,
            saved_at,
        }
    }
}

fn sink_error(path: &Path, op: &'static str, e: io::Error) -> SinkError {
    if matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) {
        SinkError::DiskFull {
            path: path.to_owned(),
        }
    } else {
        SinkError::Io {
            op,
            path: path.to_owned(),
            source: e,
        }
    }
}

fn closed(path: &Path) -> SinkError {
    SinkError::Io {
        op: "write",
        path: path.to_owned(),
        source: io::Error::other("file already closed"),
    }
}
