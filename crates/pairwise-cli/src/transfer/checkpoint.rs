//! What a receiver keeps of a resumable transfer (`docs/protocol.md` §11.3) so that the next
//! run can claim it: per file, the verified bytes and a checkpoint, in the hidden folder
//! `.pairwise-resume/` of the target directory.
//!
//! - `<id>-<index>.part`: the file's bytes, from 0; `<id>-<index>.json`: a [`Checkpoint`] (the
//!   transfer id in hex, the file index). Both names come from the transfer id and the index
//!   only, so nothing read from a checkpoint ever chooses where to write.
//! - The checkpoint is written (atomically: temporary file, rename) only after the part's bytes
//!   up to its offset were written: at every 1 MiB block boundary, and when the file completes.
//!   A completed file is moved to its final name at once; its checkpoint then says so
//!   (`saved`), so a later session can claim it whole.
//! - Claiming ([`ResumeDir::held`]): a checkpoint is used only if it names this transfer, this
//!   peer, this file (path and size), a valid offset, and its part (or saved file) is a regular
//!   file at least that long; the chain is then recomputed over the bytes on disk `[0, offset)`
//!   and must equal the stored value. Anything else (corrupt JSON, an offset past the part's
//!   end, a changed file) is ignored, and the file starts again from 0. The part is truncated to
//!   the offset before appending.
//! - Files of other transfers older than [`STALE_AFTER`] are removed when a resumable offer
//!   arrives; so are those of an earlier transfer from the same peer for a path offered now.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pairwise_proto::b64;
use pairwise_proto::limits::RESUME_BLOCK;
use pairwise_proto::name::SafeName;
use pairwise_proto::transfer::{FileEntry, ResumeChain, ResumeClaim, TransferId};
use serde::{Deserialize, Serialize};

use crate::files::{Inbox, SinkError};

/// The hidden folder in the target directory.
pub const RESUME_DIR: &str = ".pairwise-resume";
/// Kept files of other transfers older than this are removed: 7 days.
pub const STALE_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A checkpoint larger than this is not read.
const MAX_CHECKPOINT_BYTES: u64 = 8 * 1024;
/// At most this many entries of the folder are looked at when cleaning up.
const MAX_SCAN: usize = 10_000;
const FORMAT_VERSION: u32 = 1;

/// The sidecar of one kept file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// The transfer id, base64url.
    pub id: String,
    /// The sending device's id (hex).
    pub peer: String,
    /// The file's index in the offer.
    pub index: u32,
    /// Its relative path in the offer (`dir/…/name`).
    pub path: String,
    /// Its size in the offer.
    pub size: u64,
    /// Bytes kept and verified: a multiple of 1 MiB, or the size.
    pub offset: u64,
    /// The hash chain at `offset`, base64url.
    pub h: String,
    /// Set once the file is complete and was moved into place: its name there.
    pub saved: Option<String>,
}

/// A file this side holds a verified prefix of, ready to claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The claim to send.
    pub claim: ResumeClaim,
    /// Where the whole file already is, if it was completed and moved into place.
    pub saved: Option<PathBuf>,
}

/// The kept files of one transfer from one peer, in one target directory.
#[derive(Debug, Clone)]
pub struct ResumeDir {
    root: PathBuf,
    id: TransferId,
    peer: String,
}

impl ResumeDir {
    /// The kept files of transfer `id` from `peer` in `inbox` (nothing is created yet).
    pub fn new(inbox: &Inbox, id: TransferId, peer: &str) -> Self {
        Self {
            root: inbox.path().join(RESUME_DIR),
            id,
            peer: peer.to_owned(),
        }
    }

    /// The folder they live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn stem(&self, index: u32) -> String {
        let hex: String = self
            .id
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{hex}-{index}")
    }

    fn part_path(&self, index: u32) -> PathBuf {
        self.root.join(format!("{}.part", self.stem(index)))
    }

    fn checkpoint_path(&self, index: u32) -> PathBuf {
        self.root.join(format!("{}.json", self.stem(index)))
    }

    /// What this side holds of file `index` (`entry` in the offer), checked as the module
    /// docs say; `None` (and the kept bytes removed) if nothing usable.
    pub fn held(&self, inbox: &Inbox, index: u32, entry: &FileEntry) -> Option<Held> {
        let held = self.check(inbox, index, entry);
        if held.is_none() {
            self.drop_file(index);
        }
        held
    }

    fn check(&self, inbox: &Inbox, index: u32, entry: &FileEntry) -> Option<Held> {
        if !fs::symlink_metadata(&self.root).is_ok_and(|m| m.is_dir()) {
            return None;
        }
        let cp = read_checkpoint(&self.checkpoint_path(index))?;
        let ok = cp.version == FORMAT_VERSION
            && cp.id == b64::encode(self.id.as_bytes())
            && cp.peer == self.peer
            && cp.index == index
            && cp.path == entry.relative_path()
            && cp.size == entry.size()
            && (cp.offset > 0 || (cp.size == 0 && cp.saved.is_some()))
            && cp.offset <= cp.size
            && (cp.offset.is_multiple_of(RESUME_BLOCK) || cp.offset == cp.size);
        if !ok {
            return None;
        }
        let stored: [u8; 32] = b64::decode_array(&cp.h).ok()?;
        let (file, saved) = match &cp.saved {
            Some(name) => {
                if cp.offset != cp.size {
                    return None;
                }
                let name = SafeName::parse(name).ok()?;
                let mut path = inbox.path().to_owned();
                for segment in entry.dir() {
                    path.push(segment.as_str());
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        return None;
                    }
                }
                path.push(name.as_str());
                (path.clone(), Some(path))
            }
            None => (self.part_path(index), None),
        };
        let meta = fs::symlink_metadata(&file).ok()?;
        if !meta.is_file() || meta.len() < cp.offset || (saved.is_some() && meta.len() != cp.size) {
            return None;
        }
        let proof = chain_over(&file, &self.id, index, cp.offset).ok()?;
        (proof == stored).then_some(Held {
            claim: ResumeClaim {
                index,
                offset: cp.offset,
                proof,
            },
            saved,
        })
    }

    /// Starts (or continues) keeping file `index`: from `held` (its kept prefix, which the
    /// sender confirmed), else from 0.
    ///
    /// # Errors
    /// [`SinkError::Io`] if the folder or the part cannot be made, opened or truncated.
    pub fn begin(
        &self,
        index: u32,
        entry: &FileEntry,
        held: Option<&Held>,
    ) -> Result<ResumablePart, SinkError> {
        self.ensure_root()?;
        let path = self.part_path(index);
        let io = |op, source| SinkError::Io {
            op,
            path: path.clone(),
            source,
        };
        let (file, chain) = match held.filter(|h| h.saved.is_none()) {
            Some(h) => {
                let mut file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io("open", e))?;
                file.set_len(h.claim.offset)
                    .map_err(|e| io("truncate", e))?;
                file.seek(SeekFrom::End(0)).map_err(|e| io("seek in", e))?;
                (file, ResumeChain::at(h.claim.proof, h.claim.offset))
            }
            None => {
                self.drop_file(index);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|e| io("create", e))?;
                (file, ResumeChain::new(&self.id, index))
            }
        };
        Ok(ResumablePart::new(
            Checkpoint {
                version: FORMAT_VERSION,
                id: b64::encode(self.id.as_bytes()),
                peer: self.peer.clone(),
                index,
                path: entry.relative_path(),
                size: entry.size(),
                offset: chain.offset(),
                h: String::new(),
                saved: None,
            },
            self.checkpoint_path(index),
            path,
            file,
            chain,
        ))
    }

    /// Bytes kept for resume across the files of `entries` (verified offsets).
    pub fn kept(&self, entries: &[FileEntry]) -> u64 {
        (0..entries.len())
            .filter_map(|i| read_checkpoint(&self.checkpoint_path(i as u32)))
            .filter(|cp| cp.id == b64::encode(self.id.as_bytes()) && cp.peer == self.peer)
            .map(|cp| cp.offset)
            .sum()
    }

    /// Removes what is kept of file `index`.
    pub fn drop_file(&self, index: u32) {
        let _ = fs::remove_file(self.checkpoint_path(index));
        let _ = fs::remove_file(self.part_path(index));
    }

    /// Removes everything kept of this transfer (done, cancelled or declined), and the folder
    /// if it is empty then.
    pub fn clear(&self) {
        let prefix = format!("{}-", &self.stem(0)[..32]);
        self.sweep(|name, _| name.starts_with(&prefix));
        let _ = fs::remove_dir(&self.root);
    }

    /// Removes kept files of other transfers that are stale, or that an earlier transfer from
    /// this peer kept for a path in `entries` (superseded by this offer).
    pub fn clean_up(&self, entries: &[FileEntry]) {
        let own = format!("{}-", &self.stem(0)[..32]);
        let paths: Vec<String> = entries.iter().map(FileEntry::relative_path).collect();
        let now = SystemTime::now();
        self.sweep(|name, path| {
            if name.starts_with(&own) {
                return false;
            }
            let stale = fs::symlink_metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_AFTER);
            let superseded = || {
                name.ends_with(".json")
                    && read_checkpoint(path)
                        .is_some_and(|cp| cp.peer == self.peer && paths.contains(&cp.path))
            };
            stale || superseded()
        });
    }

    /// Removes the entries of the folder (regular files only) that `doomed` picks; a
    /// checkpoint takes its part along.
    fn sweep(&self, doomed: impl Fn(&str, &Path) -> bool) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.take(MAX_SCAN).flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_file()) && doomed(&name, &path) {
                let _ = fs::remove_file(&path);
                if let Some(stem) = name.strip_suffix(".json") {
                    let _ = fs::remove_file(self.root.join(format!("{stem}.part")));
                }
            }
        }
    }

    fn ensure_root(&self) -> Result<(), SinkError> {
        let io = |source| SinkError::Io {
            op: "create the folder",
            path: self.root.clone(),
            source,
        };
        match fs::symlink_metadata(&self.root) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(io(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it exists and is not a folder",
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&self.root).map_err(io),
            Err(e) => Err(io(e)),
        }
    }
}

/// The chain of file `index` of transfer `id` over the first `len` bytes of `path`: the value
/// at `len` (a block boundary, or the end of the file, a shorter last block folded in).
fn chain_over(path: &Path, id: &TransferId, index: u32, len: u64) -> io::Result<[u8; 32]> {
    let mut chain = ResumeChain::new(id, index);
    let mut file = File::open(path)?;
    let mut buf = vec![0; 1 << 20];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        file.read_exact(&mut buf[..want])?;
        chain.update(&buf[..want]);
        left -= want as u64;
    }
    Ok(if len.is_multiple_of(RESUME_BLOCK) {
        chain.checkpoint().1
    } else {
        chain.finish()
    })
}

fn read_checkpoint(path: &Path) -> Option<Checkpoint> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_CHECKPOINT_BYTES {
        return None;
    }
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

mod part;

pub use self::part::ResumablePart;

#[cfg(test)]
mod tests;
