//! The manifest: the files on offer, parsed strictly from peer JSON
//! (`{"id":…,"files":[{"name":…,"size":…,"type":…,"dir":[…]}],"more":true}`, §6 and §11).
//!
//! A [`Manifest`] in a `manifest` record is one *part* of an offer: a sender splits a long list
//! into parts that each fit a record ([`Manifest::parts`]), all but the last marked `more`; the
//! receiver joins them ([`Manifest::join`]). Unknown fields, an empty part, more than
//! [`MAX_MANIFEST_FILES`] files in an offer, sizes past [`MAX_FILE_SIZE`], types past
//! [`MAX_TYPE_BYTES`], unsafe names or directory segments, and folders deeper than
//! [`MAX_DIR_DEPTH`] or longer than [`MAX_PATH_BYTES`] are refused (those two, like a bad name,
//! with `bad-name`: the receiver cannot create such a file).

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::limits::{
    MAX_DIR_DEPTH, MAX_FILE_SIZE, MAX_MANIFEST_FILES, MAX_PATH_BYTES, MAX_TYPE_BYTES,
    TRANSFER_ID_BYTES,
};
use crate::name::{BadName, SafeName};
use crate::transfer::TransferError;

/// A transfer id: 16 random bytes a sender picks for an offer it can resume (§11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferId([u8; TRANSFER_ID_BYTES]);

impl TransferId {
    /// Wraps 16 bytes (fresh random bytes for a new offer).
    pub fn from_bytes(bytes: [u8; TRANSFER_ID_BYTES]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; TRANSFER_ID_BYTES] {
        &self.0
    }
}

/// A checked manifest (part): 1 to [`MAX_MANIFEST_FILES`] files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    id: Option<TransferId>,
    files: Vec<FileEntry>,
    more: bool,
}

/// One file on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    name: SafeName,
    dir: Vec<SafeName>,
    size: u64,
    mime: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    files: Vec<WireFile>,
    #[serde(default, skip_serializing_if = "is_false")]
    more: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile {
    name: String,
    size: u64,
    #[serde(rename = "type")]
    mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dir: Option<Vec<String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FileEntry {
    /// A file entry at the top level; `mime` may be empty.
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
            dir: Vec::new(),
            size,
            mime: mime.to_owned(),
        })
    }

    /// The same file inside folder `dir` (outermost first; each segment a [`SafeName`]).
    ///
    /// # Errors
    /// [`TransferError::BadName`] for more than [`MAX_DIR_DEPTH`] segments or a relative path
    /// longer than [`MAX_PATH_BYTES`].
    pub fn in_dir(mut self, dir: Vec<SafeName>) -> Result<Self, TransferError> {
        if dir.len() > MAX_DIR_DEPTH {
            return Err(BadName::TooDeep {
                depth: dir.len(),
                max: MAX_DIR_DEPTH,
            }
            .into());
        }
        self.dir = dir;
        let len = self.relative_path().len();
        if len > MAX_PATH_BYTES {
            return Err(BadName::PathTooLong {
                len,
                max: MAX_PATH_BYTES,
            }
            .into());
        }
        Ok(self)
    }

    /// The file name.
    pub fn name(&self) -> &SafeName {
        &self.name
    }

    /// The folders the file is in, outermost first (empty at the top level).
    pub fn dir(&self) -> &[SafeName] {
        &self.dir
    }

    /// `dir/…/name` joined with `/`, for display and for [`MAX_PATH_BYTES`].
    pub fn relative_path(&self) -> String {
        let mut path = String::new();
        for segment in &self.dir {
            path.push_str(segment.as_str());
            path.push('/');
        }
        path.push_str(self.name.as_str());
        path
    }

    /// The exact size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The MIME type (may be empty).
    pub fn mime(&self) -> &str {
        &self.mime
    }

    fn to_wire(&self) -> WireFile {
        WireFile {
            name: self.name.as_str().to_owned(),
            size: self.size,
            mime: self.mime.clone(),
            dir: (!self.dir.is_empty())
                .then(|| self.dir.iter().map(|s| s.as_str().to_owned()).collect()),
        }
    }
}

impl Manifest {
    /// A whole offer of `files`, without a transfer id.
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
        Ok(Self {
            id: None,
            files,
            more: false,
        })
    }

    /// The same offer under transfer id `id`, which makes it resumable (§11.3).
    #[must_use]
    pub fn with_id(mut self, id: TransferId) -> Self {
        self.id = Some(id);
        self
    }

    /// Parses one manifest record's JSON from the peer.
    ///
    /// # Errors
    /// [`TransferError::BadName`] for an unsafe name or folder, [`TransferError::BadManifest`]
    /// for anything else that is wrong.
    pub fn parse(json: &[u8]) -> Result<Self, TransferError> {
        let wire: Wire = crate::strict_json::from_slice(json).map_err(bad)?;
        if wire.files.len() > MAX_MANIFEST_FILES {
            return Err(bad(format!(
                "{} files exceed {MAX_MANIFEST_FILES}",
                wire.files.len()
            )));
        }
        let id = wire
            .id
            .map(|s| b64::decode_array(&s).map(TransferId))
            .transpose()
            .map_err(|_| bad("id is not 16 bytes of canonical base64url".to_owned()))?;
        let files = wire
            .files
            .into_iter()
            .map(|f| {
                let entry = FileEntry::new(SafeName::parse(&f.name)?, f.size, &f.mime)?;
                match f.dir {
                    None => Ok(entry),
                    Some(dir) if dir.is_empty() => Err(bad("empty dir list".to_owned())),
                    Some(dir) => entry.in_dir(
                        dir.iter()
                            .map(|s| SafeName::parse(s))
                            .collect::<Result<_, _>>()?,
                    ),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut manifest = Self::new(files)?;
        manifest.id = id;
        manifest.more = wire.more;
        Ok(manifest)
    }

    /// The JSON text: keys in the order `id`, `files`, `more`; per file `name`, `size`,
    /// `type`, `dir`; `id`, `more` and `dir` only when present.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            id: self.id.map(|id| b64::encode(id.as_bytes())),
            files: self.files.iter().map(FileEntry::to_wire).collect(),
            more: self.more,
        };
        // Serialising strings, integers and booleans into a Vec cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Splits this offer into parts whose JSON is at most `max_json` bytes, all but the last
    /// marked `more` (one part when it fits). A single file whose entry alone is larger than
    /// `max_json` still gets a part of its own (the caller's record limit then refuses it).
    pub fn parts(&self, max_json: usize) -> Vec<Self> {
        let mut parts = Vec::new();
        let mut current: Vec<FileEntry> = Vec::new();
        // `{"id":"<22>","files":[` + `],"more":true}` around the entries.
        let frame = 60;
        let mut size = frame;
        for file in &self.files {
            let entry = serde_json::to_vec(&file.to_wire()).map_or(0, |v| v.len()) + 1;
            if !current.is_empty() && size + entry > max_json {
                parts.push(std::mem::take(&mut current));
                size = frame;
            }
            size += entry;
            current.push(file.clone());
        }
        parts.push(current);
        let last = parts.len() - 1;
        parts
            .into_iter()
            .enumerate()
            .map(|(i, files)| Self {
                id: self.id,
                files,
                more: i < last,
            })
            .collect()
    }

    /// Appends the next part of the same offer (the receiver's side of [`Self::parts`]).
    ///
    /// # Errors
    /// [`TransferError::BadManifest`] if this part did not announce `more`, the ids differ, or
    /// the offer grows past [`MAX_MANIFEST_FILES`].
    pub fn join(&mut self, next: Self) -> Result<(), TransferError> {
        if !self.more {
            return Err(bad("manifest part after the last one".to_owned()));
        }
        if next.id != self.id {
            return Err(bad("manifest parts with different ids".to_owned()));
        }
        let total = self.files.len() + next.files.len();
        if total > MAX_MANIFEST_FILES {
            return Err(bad(format!("{total} files exceed {MAX_MANIFEST_FILES}")));
        }
        self.files.extend(next.files);
        self.more = next.more;
        Ok(())
    }

    /// The transfer id, if the sender can resume this offer.
    pub fn id(&self) -> Option<&TransferId> {
        self.id.as_ref()
    }

    /// Whether another part of this offer follows.
    pub fn more(&self) -> bool {
        self.more
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
