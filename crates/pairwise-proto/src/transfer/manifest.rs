//! The manifest: the list of files on offer, parsed strictly from peer JSON
//! (`{"files":[{"name":…,"size":…,"type":…}]}`).
//!
//! Unknown fields, more than [`MAX_MANIFEST_FILES`] files, an empty list, sizes past
//! [`MAX_FILE_SIZE`], types past [`MAX_TYPE_BYTES`] and unsafe names are refused.

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_FILE_SIZE, MAX_MANIFEST_FILES, MAX_TYPE_BYTES};
use crate::name::SafeName;
use crate::transfer::TransferError;

/// A checked manifest: 1 to [`MAX_MANIFEST_FILES`] files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    files: Vec<FileEntry>,
}

/// One file on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    name: SafeName,
    size: u64,
    mime: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    files: Vec<WireFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile {
    name: String,
    size: u64,
    #[serde(rename = "type")]
    mime: String,
}

impl FileEntry {
    /// A file entry; `mime` may be empty.
    ///
    /// # Errors
    /// [`TransferError::BadManifest`] for a size past [`MAX_FILE_SIZE`] or a type past
    /// [`MAX_TYPE_BYTES`].
    pub fn new(name: SafeName, size: u64, mime: &str) -> Result<Self, TransferError> {
        if size > MAX_FILE_SIZE {
            return Err(bad(format!("size {size} exceeds {MAX_FILE_SIZE}")));
        }
        if mime.len() > MAX_TYPE_BYTES {
            return Err(bad(format!(
                "type of {} bytes exceeds {MAX_TYPE_BYTES}",
                mime.len()
            )));
        }
        Ok(Self {
            name,
            size,
            mime: mime.to_owned(),
        })
    }

    /// The file name.
    pub fn name(&self) -> &SafeName {
        &self.name
    }

    /// The exact size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The MIME type (may be empty).
    pub fn mime(&self) -> &str {
        &self.mime
    }
}

impl Manifest {
    /// A manifest of `files`.
    ///
    /// # Errors
    /// [`TransferError::BadManifest`] for no files or more than [`MAX_MANIFEST_FILES`].
    pub fn new(files: Vec<FileEntry>) -> Result<Self, TransferError> {
        if files.is_empty() {
            return Err(bad("no files".to_owned()));
        }
        if files.len() > MAX_MANIFEST_FILES {
            return Err(bad(format!(
                "{} files exceed {MAX_MANIFEST_FILES}",
                files.len()
            )));
        }
        Ok(Self { files })
    }

    /// Parses manifest JSON from the peer.
    ///
    /// # Errors
    /// [`TransferError::BadName`] for an unsafe name, [`TransferError::BadManifest`] for
    /// anything else that is wrong.
    pub fn parse(json: &[u8]) -> Result<Self, TransferError> {
        let wire: Wire = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
        if wire.files.len() > MAX_MANIFEST_FILES {
            return Err(bad(format!(
                "{} files exceed {MAX_MANIFEST_FILES}",
                wire.files.len()
            )));
        }
        let files = wire
            .files
            .into_iter()
            .map(|f| FileEntry::new(SafeName::parse(&f.name)?, f.size, &f.mime))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(files)
    }

    /// The JSON text, fields in the order `name`, `size`, `type`.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            files: self
                .files
                .iter()
                .map(|f| WireFile {
                    name: f.name.as_str().to_owned(),
                    size: f.size,
                    mime: f.mime.clone(),
                })
                .collect(),
        };
        // Serialising strings and integers into a Vec cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// The files, in transfer order.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Sum of all file sizes.
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.size)
            .fold(0, u64::saturating_add)
    }
}

fn bad(reason: String) -> TransferError {
    TransferError::BadManifest { reason }
}
