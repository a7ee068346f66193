//! Where received files go: one chosen directory, names only from [`SafeName`], each file
//! written as `NAME.part` (created with `create_new`) and moved to its final name only after its
//! last record verified, and never over an existing file: a taken name becomes `NAME (1).ext`,
//! and the caller is told.
//!
//! This module owns the file system side of receiving; which bytes are good is decided by the
//! protocol crate before they get here.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use pairwise_proto::limits::MAX_NAME_BYTES;
use pairwise_proto::name::SafeName;

/// How many alternative names (`NAME (1).ext` ...) are tried before giving up.
const MAX_ALTERNATIVES: u32 = 9999;

/// Write buffer per file, for small writes only: a chunk at least this large (a full record's
/// is 256 KiB) goes straight to the file in one syscall, without a copy into the buffer.
const WRITE_BUFFER: usize = 64 << 10;

/// A directory that receives files.
#[derive(Debug, Clone)]
pub struct Inbox {
    dir: PathBuf,
}

/// A file being received: `NAME.part` in the inbox.
#[derive(Debug)]
pub struct PartFile {
    dir: PathBuf,
    name: SafeName,
    part: PathBuf,
    out: Option<BufWriter<File>>,
    written: u64,
}

/// A file that was completely received and moved into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Where it is now.
    pub path: PathBuf,
    /// The name the sender gave it.
    pub offered: SafeName,
    /// Whether a file of the offered name already existed, so another name was chosen.
    pub renamed: bool,
}

/// Why receiving into the inbox failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The target directory does not exist or is not a directory.
    #[error("{} is not a directory", .dir.display())]
    NotADirectory {
        /// The directory.
        dir: PathBuf,
    },
    /// The disk is full (or over quota).
    #[error("the disk is full while writing {}", .path.display())]
    DiskFull {
        /// The partial file, which was removed.
        path: PathBuf,
    },
    /// Every alternative name was taken.
    #[error("no free name for {name} in {}", .dir.display())]
    NoFreeName {
        /// The offered name.
        name: String,
        /// The directory.
        dir: PathBuf,
    },
    /// Any other IO error.
    #[error("could not {op} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl Inbox {
    /// Uses `dir`, which must exist.
    ///
    /// # Errors
    /// [`SinkError::NotADirectory`] if it does not exist or is something else.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SinkError> {
        let dir = dir.into();
        if dir.is_dir() {
            Ok(Self { dir })
        } else {
            Err(SinkError::NotADirectory { dir })
        }
    }

    /// Starts receiving `name` in the inbox's folder `dir` (each segment a [`SafeName`],
    /// folders created as needed): creates a fresh `NAME.part` (or `NAME (n).part` if taken).
    ///
    /// # Errors
    /// [`SinkError::Io`] if a folder or the file cannot be created, or a path segment exists as
    /// something other than a real folder (a symbolic link is never followed);
    /// [`SinkError::NoFreeName`] if every alternative is taken.
    pub fn begin(&self, dir: &[SafeName], name: &SafeName) -> Result<PartFile, SinkError> {
        let target = self.folder(dir)?;
        for n in 0..=MAX_ALTERNATIVES {
            let part = target.join(format!("{}.part", alternative(name.as_str(), n)));
            match OpenOptions::new().write(true).create_new(true).open(&part) {
                Ok(file) => {
                    return Ok(PartFile {
                        dir: target,
                        name: name.clone(),
                        part,
                        out: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
                        written: 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(SinkError::Io {
                        op: "create",
                        path: part,
                        source,
                    });
                }
            }
        }
        Err(no_free_name(name, &target))
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves `file`, complete and verified and already flushed to disk, into the inbox's folder
    /// `dir` under the first free name among `NAME`, `NAME (1).ext`, ... (never replacing a
    /// file). Used for files kept for resume outside their folder until they are complete.
    ///
    /// # Errors
    /// [`SinkError::Io`] or [`SinkError::NoFreeName`]; `file` stays where it is then.
    pub fn adopt(
        &self,
        file: &Path,
        dir: &[SafeName],
        name: &SafeName,
    ) -> Result<Saved, SinkError> {
        let target = self.folder(dir)?;
        for n in 0..=MAX_ALTERNATIVES {
            let path = target.join(alternative(name.as_str(), n));
            match place(file, &path) {
                Ok(()) => {
                    return Ok(Saved {
                        path,
                        offered: name.clone(),
                        renamed: n > 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(SinkError::Io {
                        op: "move into place",
                        path: file.to_owned(),
                        source,
                    });
                }
            }
        }
        Err(no_free_name(name, &target))
    }

    /// The inbox's folder `dir`, created segment by segment; an existing segment must be a
    /// real folder (not a symbolic link to one, which could lead outside the inbox).
    fn folder(&self, dir: &[SafeName]) -> Result<PathBuf, SinkError> {
        let mut path = self.dir.clone();
        for segment in dir {
            path.push(segment.as_str());
            let io = |op, source| SinkError::Io {
                op,
                path: path.clone(),
                source,
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(io(
                        "use as a folder",
                        io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            "it exists and is not a folder",
                        ),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                    Ok(()) => {}
                    // Made meanwhile by someone else: check it like an existing one.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                            return Err(io("create the folder", e));
                        }
                    }
                    Err(e) => return Err(io("create the folder", e)),
                },
                Err(e) => return Err(io("inspect", e)),
            }
        }
        Ok(path)
    }
}

impl PartFile {
    /// Appends verified bytes.
    ///
    /// # Errors
    /// [`SinkError::DiskFull`] (the part file is removed) or [`SinkError::Io`].
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let Some(out) = self.out.as_mut() else {
            return Err(self.io("write", io::Error::other("file already closed")));
        };
        match out.write_all(bytes) {
            Ok(()) => {
                self.written += bytes.len() as u64;
                Ok(())
            }
            Err(e) => Err(self.fail("write", e)),
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file is complete and verified: flushes it to disk and moves it to the first free
    /// name among `NAME`, `NAME (1).ext`, `NAME (2).ext`, ... without ever replacing a file.
    ///
    /// # Errors
    /// [`SinkError::DiskFull`] or [`SinkError::Io`]; the part file is removed then.
    pub fn finish(mut self) -> Result<Saved, SinkError> {
        if let Some(out) = self.out.take() {
            let file = out.into_inner().map_err(|e| e.into_error());
            let synced = file.and_then(|f| f.sync_all());
            if let Err(e) = synced {
                return Err(self.fail("write", e));
            }
        }
        for n in 0..=MAX_ALTERNATIVES {
            let target = self.dir.join(alternative(self.name.as_str(), n));
            match place(&self.part, &target) {
                Ok(()) => {
                    return Ok(Saved {
                        path: target,
                        offered: self.name.clone(),
                        renamed: n > 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(self.fail("move into place", e)),
            }
        }
        let err = no_free_name(&self.name, &self.dir);
        self.discard();
        Err(err)
    }

    /// The transfer failed: removes the part file, so nothing incomplete is left behind.
    pub fn discard(mut self) {
        self.out = None;
        let _ = fs::remove_file(&self.part);
    }

    fn fail(&mut self, op: &'static str, e: io::Error) -> SinkError {
        self.out = None;
        let _ = fs::remove_file(&self.part);
        if is_disk_full(&e) {
            SinkError::DiskFull {
                path: self.part.clone(),
            }
        } else {
            self.io(op, e)
        }
    }

    fn io(&self, op: &'static str, source: io::Error) -> SinkError {
        SinkError::Io {
            op,
            path: self.part.clone(),
            source,
        }
    }
}

impl Drop for PartFile {
    /// A part file that was neither finished nor discarded (a panic, an early return) is removed.
    fn drop(&mut self) {
        if self.out.is_some() {
            self.out = None;
            let _ = fs::remove_file(&self.part);
        }
    }
}

/// Moves `part` to `target` unless `target` exists. A hard link fails atomically on an existing
/// target; where the file system has no hard links, a checked rename is the fallback.
fn place(part: &Path, target: &Path) -> io::Result<()> {
    match fs::hard_link(part, target) {
        Ok(()) => fs::remove_file(part),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if target.exists() => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => fs::rename(part, target),
    }
}

/// `name` for `n == 0`, else `stem (n).ext`, shortened so it stays within the name limit.
fn alternative(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    let suffix = format!(" ({n}){ext}");
    // Room for ".part" too, so the part file's name is valid as well.
    let room = MAX_NAME_BYTES.saturating_sub(suffix.len() + ".part".len());
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &stem[..cut])
}

fn no_free_name(name: &SafeName, dir: &Path) -> SinkError {
    SinkError::NoFreeName {
        name: name.as_str().to_owned(),
        dir: dir.to_owned(),
    }
}

fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests;
