//! What `pairwise send` offers: files given on the command line, and every regular file under a
//! folder given on the command line, with its folder path (§11.1: each segment a portable
//! [`SafeName`]). Checked before anything is sent, so an offer the receiver must refuse is never
//! made.

use std::path::{Path, PathBuf};

use pairwise_proto::name::SafeName;
use pairwise_proto::transfer::FileEntry;

/// A file to send: where it is and what the peer will see.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub(super) path: PathBuf,
    pub(super) entry: FileEntry,
}

impl Outgoing {
    /// Checks `path` before anything is sent: a regular file with a portable name.
    ///
    /// # Errors
    /// A sentence saying what is wrong with the file.
    pub fn new(path: &Path) -> Result<Self, String> {
        Self::in_dir(path, Vec::new())
    }

    /// Everything `paths` name: a file as itself, a folder as its regular files (sorted, the
    /// folder's own name first in their path). Symbolic links and special files inside a
    /// folder are left out and counted; empty folders are not sent.
    ///
    /// # Errors
    /// A sentence for the first unreadable entry or unportable name.
    pub fn collect(paths: &[PathBuf]) -> Result<(Vec<Self>, usize), String> {
        let mut out = Vec::new();
        let mut skipped = 0;
        for path in paths {
            let meta = std::fs::metadata(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if !meta.is_dir() {
                out.push(Self::new(path)?);
                continue;
            }
            let root = portable(path)?;
            for entry in walkdir::WalkDir::new(path)
                .follow_links(false)
                .sort_by_file_name()
                .min_depth(1)
            {
                let entry = entry
                    .map_err(|e| format!("cannot read a folder under {}: {e}", path.display()))?;
                let kind = entry.file_type();
                if kind.is_dir() {
                    continue;
                }
                if !kind.is_file() {
                    skipped += 1;
                    continue;
                }
                let mut dir = vec![root.clone()];
                if let Some(parent) = entry.path().parent() {
                    let rel = parent.strip_prefix(path).unwrap_or(Path::new(""));
                    for part in rel.iter() {
                        dir.push(portable(Path::new(part))?);
                    }
                }
                out.push(Self::in_dir(entry.path(), dir)?);
            }
        }
        Ok((out, skipped))
    }

    fn in_dir(path: &Path, dir: Vec<SafeName>) -> Result<Self, String> {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{} is not a regular file", path.display()));
        }
        let safe = portable(path)?;
        let mime = mime_guess::from_path(path).first_raw().unwrap_or("");
        let mut entry = FileEntry::new(safe, meta.len(), mime)
            .map_err(|e| format!("cannot send {}: {e}", path.display()))?;
        if !dir.is_empty() {
            entry = entry
                .in_dir(dir)
                .map_err(|e| format!("cannot send {}: {e}", path.display()))?;
        }
        Ok(Self {
            path: path.to_owned(),
            entry,
        })
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.entry.size()
    }
}

/// The last component of `path` as a [`SafeName`], or a sentence saying to rename it.
fn portable(path: &Path) -> Result<SafeName, String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no name in UTF-8", path.display()))?;
    SafeName::parse(name).map_err(|e| {
        format!(
            "cannot send {}: its name is not portable ({e}); rename it first",
            path.display()
        )
    })
}
