//! This device's identity and the devices it paired with (`docs/protocol.md` §10), kept in the
//! configuration directory ([`ConfigDir`]).
//!
//! - `identity.key`: the long-term P-256 identity private key, PKCS#8 PEM (`-----BEGIN PRIVATE
//!   KEY-----`, what `openssl pkey` reads), mode 0600, made on first use.
//! - `devices.json`: mode 0600, written atomically. `{"version":1, "identity": hex SHA-256 of
//!   this device's identity public key, "devices": [...], "tombstones": [...]}`. A device is
//!   `{id (hex SHA-256 of its identity), identity (b64u SEC1), pairing_key (b64u), name,
//!   name_set_by_user, created, last_seen (Unix seconds), auto_accept}`; a tombstone is
//!   `{identity, pairing_key, until (Unix seconds)}` (§10.4: at most [`TOMBSTONE_SECONDS`]).
//! - `name.txt`: this device's own name as `--name` last set it ([`own_name`]).
//!
//! The two files belong together: `devices.json` names the identity it was made with, and
//! [`Keystore::open`] refuses a key file that does not match it (a key file restored from
//! another device, or replaced), with a sentence that names both files and says what to do;
//! only a `devices.json` with no devices and no tombstones adopts whatever key is there. At
//! most [`MAX_PAIRED_DEVICES`] devices are kept.
//!
//! Every change re-reads `devices.json` and writes it under the file's lock
//! ([`Keystore::update`], [`ConfigDir::locked`]), so two `pairwise` processes never undo each
//! other's changes.
//! It does no network IO and knows nothing of sessions.

use std::fmt::Write as _;

use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use pairwise_proto::device::DeviceName;
use pairwise_proto::handshake::RememberedPeer;
use pairwise_proto::identity::{IdentitySecret, PublicKey};
use pairwise_proto::keys::PairingKey;
use pairwise_proto::limits::MAX_PAIRED_DEVICES;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use self::file::{DevicesFile, FORMAT_VERSION, b64_key, read_devices};
use crate::config::ConfigDir;

mod error;
mod file;
pub mod own_name;

pub use self::error::{MatchError, StoreError};

/// The identity key file in the configuration directory.
pub const IDENTITY_FILE: &str = "identity.key";
/// The paired-devices file in the configuration directory.
pub const DEVICES_FILE: &str = "devices.json";
/// How long a forgotten device's tombstone is kept (§10.4: at most 30 days).
pub const TOMBSTONE_SECONDS: u64 = 30 * 86_400;
/// The name of a device that sent no `device` message.
pub const UNNAMED: &str = "Unnamed device";

/// A paired device as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairedDevice {
    /// Hex SHA-256 of its identity public key.
    pub id: String,
    /// Its identity public key.
    pub identity: PublicKey,
    /// The pairing key both devices keep.
    #[serde(with = "b64_key")]
    pub pairing_key: PairingKey,
    /// Its own name (from its `device` message) unless the person renamed it.
    pub name: DeviceName,
    /// The person renamed it: its own `device` messages no longer change the name.
    pub name_set_by_user: bool,
    /// Paired at (Unix seconds).
    pub created: u64,
    /// Last confirmed session (Unix seconds).
    pub last_seen: u64,
    /// Files from it are accepted without asking (`receive --paired`).
    pub auto_accept: bool,
}

impl PairedDevice {
    /// What the protocol needs of it.
    pub fn remembered(&self) -> RememberedPeer {
        RememberedPeer::new(self.identity.clone(), self.pairing_key.clone())
    }

    /// The first 8 hex digits of the id, as `pairwise devices` shows it.
    pub fn short_id(&self) -> &str {
        &self.id[..8]
    }
}

/// What is left of a forgotten device until it was told (§10.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tombstone {
    /// The forgotten device's identity.
    pub identity: PublicKey,
    /// The pairing key, to answer with a `forgotten` notice.
    #[serde(with = "b64_key")]
    pub pairing_key: PairingKey,
    /// Dropped after this time (Unix seconds).
    pub until: u64,
}

impl Tombstone {
    /// What the protocol needs of it.
    pub fn remembered(&self) -> RememberedPeer {
        RememberedPeer::new(self.identity.clone(), self.pairing_key.clone())
    }
}

/// Whether [`Keystore::remember`] added a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remembered {
    /// A new record.
    New,
    /// The device was already paired: its pairing key was replaced.
    Again,
    /// [`MAX_PAIRED_DEVICES`] are kept already; nothing was stored.
    Full,
}

/// This device's identity and its paired devices.
#[derive(Debug)]
pub struct Keystore {
    dir: ConfigDir,
    identity: IdentitySecret,
    file: DevicesFile,
}

impl Keystore {
    /// Loads the identity and paired devices from `dir`, making the identity key (0600) on
    /// first use. Expired tombstones are dropped.
    ///
    /// # Errors
    /// A [`StoreError`] naming the file: unreadable, damaged, or a key that is not the one
    /// `devices.json` was made with.
    pub fn open(dir: &ConfigDir, now: u64) -> Result<Self, StoreError> {
        let key_path = dir.file(IDENTITY_FILE);
        let file = read_devices(dir)?;
        let identity = match dir.read(IDENTITY_FILE)? {
            Some(pem) => parse_key(&pem, &key_path)?,
            None => {
                if file
                    .as_ref()
                    .is_some_and(|f| !f.devices.is_empty() || !f.tombstones.is_empty())
                {
                    return Err(StoreError::MissingKey {
                        key: key_path,
                        devices: dir.file(DEVICES_FILE),
                    });
                }
                let key = p256::SecretKey::random(&mut OsRng);
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| StoreError::BadKey {
                        path: key_path.clone(),
                        reason: e.to_string(),
                    })?;
                dir.write_private(IDENTITY_FILE, pem.as_bytes())?;
                tracing::info!(path = %key_path.display(), "made this device's identity key");
                IdentitySecret::new(key)
            }
        };
        let own = hex(&identity.public().fingerprint());
        let file = match file {
            // Nothing was paired with the other key: nothing to lose by adopting this one.
            Some(f) if f.devices.is_empty() && f.tombstones.is_empty() => {
                DevicesFile { identity: own, ..f }
            }
            Some(f) if f.identity != own => {
                return Err(StoreError::WrongKey {
                    key: key_path,
                    devices: dir.file(DEVICES_FILE),
                    expected: f.identity.chars().take(8).collect(),
                    found: own[..8].to_owned(),
                });
            }
            Some(f) => f,
            None => DevicesFile {
                version: FORMAT_VERSION,
                identity: own,
                devices: Vec::new(),
                tombstones: Vec::new(),
            },
        };
        let mut store = Self {
            dir: dir.clone(),
            identity,
            file,
        };
        store.file.tombstones.retain(|t| t.until > now);
        Ok(store)
    }

    /// The configuration directory the store lives in.
    pub fn dir(&self) -> &ConfigDir {
        &self.dir
    }

    /// Whether `dir` holds neither file yet (nothing was ever paired there).
    pub fn is_empty_dir(dir: &ConfigDir) -> bool {
        !dir.file(IDENTITY_FILE).exists() && !dir.file(DEVICES_FILE).exists()
    }

    /// This device's identity private key.
    pub fn identity(&self) -> &IdentitySecret {
        &self.identity
    }

    /// The paired devices, in pairing order.
    pub fn devices(&self) -> &[PairedDevice] {
        &self.file.devices
    }

    /// The tombstones still kept.
    pub fn tombstones(&self) -> &[Tombstone] {
        &self.file.tombstones
    }

    /// The device with this id.
    pub fn device(&self, id: &str) -> Option<&PairedDevice> {
        self.file.devices.iter().find(|d| d.id == id)
    }

    /// The device `query` names: a name (case-insensitive, must be unique) or an id prefix
    /// (at least 4 hex digits).
    ///
    /// # Errors
    /// [`MatchError`] listing the devices when none or several match.
    pub fn find(&self, query: &str) -> Result<&PairedDevice, MatchError> {
        let devices = &self.file.devices;
        if devices.is_empty() {
            return Err(MatchError::NoDevices);
        }
        let lower = query.trim().to_lowercase();
        let by_name: Vec<_> = devices
            .iter()
            .filter(|d| d.name.as_str().to_lowercase() == lower)
            .collect();
        let candidates = if by_name.is_empty() && lower.len() >= 4 {
            devices
                .iter()
                .filter(|d| d.id.starts_with(&lower))
                .collect()
        } else {
            by_name
        };
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(MatchError::Unknown {
                query: query.to_owned(),
                list: self.list(),
            }),
            // Only the matches: the person picks one of them by its id.
            several => Err(MatchError::Ambiguous {
                query: query.to_owned(),
                list: list_of(several.iter().copied()),
            }),
        }
    }

    /// The devices as short lines (`  NAME  (id 1a2b3c4d)`), for error messages.
    pub fn list(&self) -> String {
        list_of(self.file.devices.iter())
    }

    /// Re-reads `devices.json`, applies `change` and writes the result (0600, atomically), all
    /// under the file's lock ([`ConfigDir::locked`]).
    ///
    /// # Errors
    /// A [`StoreError`] if the file cannot be read or written (or no longer matches the key).
    pub fn update<T>(
        &mut self,
        now: u64,
        change: impl FnOnce(&mut Self) -> T,
    ) -> Result<T, StoreError> {
        let dir = self.dir.clone();
        dir.locked(DEVICES_FILE, || self.update_locked(now, change))
    }

    fn update_locked<T>(
        &mut self,
        now: u64,
        change: impl FnOnce(&mut Self) -> T,
    ) -> Result<T, StoreError> {
        if let Some(fresh) = read_devices(&self.dir)? {
            if fresh.identity != self.file.identity {
                return Err(StoreError::WrongKey {
                    key: self.dir.file(IDENTITY_FILE),
                    devices: self.dir.file(DEVICES_FILE),
                    expected: fresh.identity.chars().take(8).collect(),
                    found: self.file.identity[..8].to_owned(),
                });
            }
            self.file = fresh;
        }
        self.file.tombstones.retain(|t| t.until > now);
        let out = change(self);
        let mut json =
            serde_json::to_vec_pretty(&self.file).map_err(|e| StoreError::BadDevices {
                path: self.dir.file(DEVICES_FILE),
                reason: e.to_string(),
            })?;
        json.push(b'\n');
        self.dir.write_private(DEVICES_FILE, &json)?;
        Ok(out)
    }

    /// Records a device after a confirmed pairing: a new record named `UNNAMED` until its
    /// `device` message arrives, or, for a device paired before, its new pairing key (name and
    /// settings kept). A tombstone for it is dropped. Call inside [`Keystore::update`].
    pub fn remember(&mut self, identity: &PublicKey, pk: &PairingKey, now: u64) -> Remembered {
        let id = hex(&identity.fingerprint());
        self.file.tombstones.retain(|t| t.identity != *identity);
        if let Some(d) = self.file.devices.iter_mut().find(|d| d.id == id) {
            d.pairing_key = pk.clone();
            d.last_seen = now;
            return Remembered::Again;
        }
        if self.file.devices.len() >= MAX_PAIRED_DEVICES {
            return Remembered::Full;
        }
        self.file.devices.push(PairedDevice {
            id,
            identity: identity.clone(),
            pairing_key: pk.clone(),
            name: DeviceName::sanitize(UNNAMED, UNNAMED),
            name_set_by_user: false,
            created: now,
            last_seen: now,
            auto_accept: false,
        });
        Remembered::New
    }

    /// A confirmed session with device `id` at `now`, in which it called itself `name` (if it
    /// sent a `device` message). The name is kept unless the person renamed the device.
    pub fn seen(&mut self, id: &str, name: Option<&DeviceName>, now: u64) {
        if let Some(d) = self.file.devices.iter_mut().find(|d| d.id == id) {
            d.last_seen = d.last_seen.max(now);
            if let Some(name) = name
                && !d.name_set_by_user
            {
                d.name = name.clone();
            }
        }
    }

    /// The person's own name for device `id`; the device's messages no longer change it.
    pub fn rename(&mut self, id: &str, name: DeviceName) -> bool {
        let found = self.file.devices.iter_mut().find(|d| d.id == id);
        let exists = found.is_some();
        if let Some(d) = found {
            d.name = name;
            d.name_set_by_user = true;
        }
        exists
    }

    /// Turns auto-accept on or off for device `id`.
    pub fn set_auto_accept(&mut self, id: &str, on: bool) -> bool {
        let found = self.file.devices.iter_mut().find(|d| d.id == id);
        let exists = found.is_some();
        if let Some(d) = found {
            d.auto_accept = on;
        }
        exists
    }

    /// Forgets device `id` (§10.4): its record becomes a tombstone kept until `now` +
    /// [`TOMBSTONE_SECONDS`], so the device can be told once. Returns the forgotten record.
    pub fn forget(&mut self, id: &str, now: u64) -> Option<PairedDevice> {
        let index = self.file.devices.iter().position(|d| d.id == id)?;
        let d = self.file.devices.remove(index);
        self.file.tombstones.retain(|t| t.identity != d.identity);
        self.file.tombstones.push(Tombstone {
            identity: d.identity.clone(),
            pairing_key: d.pairing_key.clone(),
            until: now.saturating_add(TOMBSTONE_SECONDS),
        });
        Some(d)
    }

    /// Drops the tombstone of `identity` (the device was told, §10.5).
    pub fn drop_tombstone(&mut self, identity: &PublicKey) {
        self.file.tombstones.retain(|t| t.identity != *identity);
    }

    /// Deletes device `id` without a tombstone (it forgot this device, §10.5).
    pub fn remove(&mut self, id: &str) -> Option<PairedDevice> {
        let index = self.file.devices.iter().position(|d| d.id == id)?;
        Some(self.file.devices.remove(index))
    }
}

/// `devices` as short lines (`  NAME  (id 1a2b3c4d)`), one per line, as `pairwise devices`
/// names them.
fn list_of<'a>(devices: impl Iterator<Item = &'a PairedDevice>) -> String {
    let mut out = String::new();
    for d in devices {
        let _ = writeln!(out, "  {}  (id {})", d.name, d.short_id());
    }
    out.trim_end().to_owned()
}

/// The id of a device: hex SHA-256 of its identity public key.
pub fn device_id(identity: &PublicKey) -> String {
    hex(&identity.fingerprint())
}

fn parse_key(pem: &[u8], path: &std::path::Path) -> Result<IdentitySecret, StoreError> {
    let bad = |reason: String| StoreError::BadKey {
        path: path.to_owned(),
        reason,
    };
    warn_if_readable(path);
    let text = std::str::from_utf8(pem).map_err(|_| bad("not text".into()))?;
    p256::SecretKey::from_pkcs8_pem(text)
        .map(IdentitySecret::new)
        .map_err(|e| bad(e.to_string()))
}

/// A private key others can read is said loudly (it is still used: the person may have a
/// reason, and refusing would lock them out of their pairings).
fn warn_if_readable(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the identity key is readable by other users; `chmod 600` it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
