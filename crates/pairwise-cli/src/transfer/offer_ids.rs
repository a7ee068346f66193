//! The sender's memory of its resumable offers (`docs/protocol.md` §11.3): `outgoing.json` in
//! the configuration directory (0600, written atomically) maps "this list of files to this
//! device" to the transfer id it was offered under, so that a `pairwise send` killed and run
//! again offers the same files under the same id and the receiver can claim what it holds.
//!
//! - Key: the peer's device id and a fingerprint of the offered list (SHA-256 over each file's
//!   relative path, size and modification time, in order). A file that changed size or
//!   modification time makes another list, so it is offered under a fresh id.
//! - Value: 16 random bytes, made once and reused while the entry exists.
//! - An entry is removed when its transfer completed, was declined or cancelled; entries older
//!   than [`MAX_AGE`] are dropped, and at most [`MAX_OFFERS`] are kept (the oldest go first).
//! - Each change reads and writes the file under its lock ([`ConfigDir::locked`]): two `send`s
//!   at once keep both entries.
//! - A missing, unreadable, oversized or corrupt file counts as empty: losing an entry only
//!   means the next offer cannot resume.

use std::time::UNIX_EPOCH;

use pairwise_proto::b64;
use pairwise_proto::limits::TRANSFER_ID_BYTES;
use pairwise_proto::transfer::TransferId;
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::Outgoing;
use crate::config::{ConfigDir, ConfigError};

/// The file in the configuration directory.
pub const OFFERS_FILE: &str = "outgoing.json";
/// Entries older than this (seconds) are dropped: 7 days.
pub const MAX_AGE: u64 = 7 * 24 * 60 * 60;
/// At most this many entries are kept.
pub const MAX_OFFERS: usize = 64;
/// A file larger than this is not read (it is replaced).
const MAX_FILE_BYTES: usize = 64 * 1024;
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OffersFile {
    version: u32,
    offers: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The receiving device's id (hex SHA-256 of its identity key).
    peer: String,
    /// Hex SHA-256 fingerprint of the offered list.
    files: String,
    /// The transfer id, base64url.
    id: String,
    /// Unix seconds when the entry was made.
    created: u64,
}

/// One offer's key in `outgoing.json`: which device, which files.
#[derive(Debug, Clone)]
pub struct OfferIds {
    dir: ConfigDir,
    peer: String,
    files: String,
}

impl OfferIds {
    /// The key of offering `files` to the device `peer` (its device id), stored in `dir`.
    pub fn new(dir: &ConfigDir, peer: &str, files: &[Outgoing]) -> Self {
        Self {
            dir: dir.clone(),
            peer: peer.to_owned(),
            files: fingerprint(files),
        }
    }

    /// The transfer id of this offer: the stored one, else a fresh one (stored).
    ///
    /// # Errors
    /// [`ConfigError`] if `outgoing.json` cannot be written.
    pub fn id(&self, now: u64) -> Result<TransferId, ConfigError> {
        self.dir.locked(OFFERS_FILE, || self.id_locked(now))
    }

    fn id_locked(&self, now: u64) -> Result<TransferId, ConfigError> {
        let mut file = self.load(now);
        if let Some(id) = file
            .offers
            .iter()
            .find(|e| e.peer == self.peer && e.files == self.files)
            .and_then(|e| b64::decode_array(&e.id).ok())
        {
            return Ok(TransferId::from_bytes(id));
        }
        let mut bytes = [0; TRANSFER_ID_BYTES];
        OsRng.fill_bytes(&mut bytes);
        file.offers
            .retain(|e| !(e.peer == self.peer && e.files == self.files));
        file.offers.push(Entry {
            peer: self.peer.clone(),
            files: self.files.clone(),
            id: b64::encode(&bytes),
            created: now,
        });
        if file.offers.len() > MAX_OFFERS {
            file.offers.sort_by_key(|e| e.created);
            let extra = file.offers.len() - MAX_OFFERS;
            file.offers.drain(..extra);
        }
        self.save(&file)?;
        Ok(TransferId::from_bytes(bytes))
    }

    /// The transfer is over (done, declined or cancelled): its entry goes.
    ///
    /// # Errors
    /// [`ConfigError`] if `outgoing.json` cannot be written.
    pub fn forget(&self, now: u64) -> Result<(), ConfigError> {
        self.dir.locked(OFFERS_FILE, || self.forget_locked(now))
    }

    fn forget_locked(&self, now: u64) -> Result<(), ConfigError> {
        let mut file = self.load(now);
        let before = file.offers.len();
        file.offers
            .retain(|e| !(e.peer == self.peer && e.files == self.files));
        if file.offers.len() != before {
            self.save(&file)?;
        }
        Ok(())
    }

    /// The stored entries, minus those too old (or from the future) and any malformed ones.
    fn load(&self, now: u64) -> OffersFile {
        let read = self.dir.read(OFFERS_FILE).ok().flatten();
        let parsed = read
            .filter(|b| b.len() <= MAX_FILE_BYTES)
            .and_then(|b| serde_json::from_slice::<OffersFile>(&b).ok())
            .filter(|f| f.version == FORMAT_VERSION);
        let mut file = parsed.unwrap_or_default();
        file.version = FORMAT_VERSION;
        file.offers.retain(|e| {
            e.created <= now
                && now - e.created <= MAX_AGE
                && b64::decode_array::<TRANSFER_ID_BYTES>(&e.id).is_ok()
        });
        file.offers.truncate(MAX_OFFERS);
        file
    }

    fn save(&self, file: &OffersFile) -> Result<(), ConfigError> {
        let json = serde_json::to_vec_pretty(file).unwrap_or_default();
        self.dir.write_private(OFFERS_FILE, &json).map(|_| ())
    }
}

/// Hex SHA-256 over each file's relative path, size and modification time (ns since the
/// epoch, 0 if unknown), in offer order.
fn fingerprint(files: &[Outgoing]) -> String {
    let mut h = Sha256::new();
    for f in files {
        let path = f.entry.relative_path();
        let mtime = std::fs::metadata(&f.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
        h.update(f.entry.size().to_be_bytes());
        h.update(mtime.to_be_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, content: &[u8]) -> Vec<Outgoing> {
        let path = dir.join("a.bin");
        std::fs::write(&path, content).unwrap();
        vec![Outgoing::new(&path).unwrap()]
    }

    #[test]
    fn the_same_offer_gets_the_same_id_until_forgotten() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = ConfigDir::at(tmp.path().join("cfg"));
        let list = files(tmp.path(), b"hello");
        let key = OfferIds::new(&cfg, "peer-a", &list);
        let first = key.id(1000).unwrap();
        assert_eq!(
            key.id(2000).unwrap(),
            first,
            "reused while the entry exists"
        );
        assert_eq!(
            OfferIds::new(&cfg, "peer-a", &list).id(2000).unwrap(),
            first,
            "a new run finds it"
        );
        let other_peer = OfferIds::new(&cfg, "peer-b", &list).id(2000).unwrap();
        assert_ne!(other_peer, first, "another device gets its own id");
        key.forget(3000).unwrap();
        assert_ne!(key.id(3000).unwrap(), first, "forgotten: a fresh id");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(cfg.file(OFFERS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn offers_made_at_the_same_time_are_all_kept() {
        // Separate processes would each open the files themselves; threads do the same here.
        let tmp = tempfile::tempdir().unwrap();
        let cfg = ConfigDir::at(tmp.path().join("cfg"));
        let list = files(tmp.path(), b"x");
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let keys: Vec<_> = (0..6)
                    .map(|j| OfferIds::new(&cfg, &format!("peer-{i}-{j}"), &list))
                    .collect();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    keys.into_iter()
                        .map(|k| (k.id(10).unwrap(), k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let made: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        for (id, key) in &made {
            assert_eq!(key.id(11).unwrap(), *id, "{} kept its entry", key.peer);
        }
    }

    #[test]
    fn a_changed_list_is_another_offer() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = ConfigDir::at(tmp.path().join("cfg"));
        let before = OfferIds::new(&cfg, "p", &files(tmp.path(), b"12345"));
        let id = before.id(10).unwrap();
        let after = OfferIds::new(&cfg, "p", &files(tmp.path(), b"123456"));
        assert_ne!(after.id(10).unwrap(), id, "another size, another id");
    }

    #[test]
    fn old_entries_expire_and_the_file_stays_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = ConfigDir::at(tmp.path().join("cfg"));
        let list = files(tmp.path(), b"x");
        let key = OfferIds::new(&cfg, "p", &list);
        let id = key.id(100).unwrap();
        assert_ne!(
            key.id(100 + MAX_AGE + 1).unwrap(),
            id,
            "older than 7 days: dropped"
        );
        for i in 0..(MAX_OFFERS + 10) {
            OfferIds::new(&cfg, &format!("peer-{i}"), &list)
                .id(200 + MAX_AGE + i as u64)
                .unwrap();
        }
        let stored: OffersFile =
            serde_json::from_slice(&std::fs::read(cfg.file(OFFERS_FILE)).unwrap()).unwrap();
        assert_eq!(stored.offers.len(), MAX_OFFERS);
        assert!(
            stored.offers.iter().all(|e| e.peer != "peer-0"),
            "the oldest went first"
        );
    }

    #[test]
    fn a_corrupt_file_counts_as_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = ConfigDir::at(tmp.path().join("cfg"));
        cfg.write_private(OFFERS_FILE, b"{not json").unwrap();
        let key = OfferIds::new(&cfg, "p", &files(tmp.path(), b"x"));
        let id = key.id(5).unwrap();
        assert_eq!(key.id(6).unwrap(), id, "and is replaced by a good one");
        cfg.write_private(OFFERS_FILE, " ".repeat(MAX_FILE_BYTES + 1).as_bytes())
            .unwrap();
        assert_ne!(key.id(7).unwrap(), id, "an oversized file is not read");
    }
}
