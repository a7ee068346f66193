//! The `devices.json` format: what is written, and the checks on what is read back.

use pairwise_proto::limits::MAX_PAIRED_DEVICES;
use serde::{Deserialize, Serialize};

use super::{DEVICES_FILE, PairedDevice, StoreError, Tombstone, hex};
use crate::config::ConfigDir;

/// The format version of `devices.json`.
pub(super) const FORMAT_VERSION: u32 = 1;

/// The contents of `devices.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DevicesFile {
    pub(super) version: u32,
    pub(super) identity: String,
    pub(super) devices: Vec<PairedDevice>,
    pub(super) tombstones: Vec<Tombstone>,
}

pub(super) fn read_devices(dir: &ConfigDir) -> Result<Option<DevicesFile>, StoreError> {
    let Some(bytes) = dir.read(DEVICES_FILE)? else {
        return Ok(None);
    };
    let bad = |reason: String| StoreError::BadDevices {
        path: dir.file(DEVICES_FILE),
        reason,
    };
    let file: DevicesFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(bad(format!("unknown format version {}", file.version)));
    }
    if file.identity.len() != 64 {
        return Err(bad("the identity fingerprint is not 64 hex digits".into()));
    }
    if file.devices.len() > MAX_PAIRED_DEVICES {
        return Err(bad(format!("more than {MAX_PAIRED_DEVICES} devices")));
    }
    if let Some(d) = file
        .devices
        .iter()
        .find(|d| d.id != hex(&d.identity.fingerprint()))
    {
        return Err(bad(format!(
            "device id {} does not match its identity",
            d.id
        )));
    }
    Ok(Some(file))
}

/// `PairingKey` as base64url in JSON.
pub(super) mod b64_key {
    use pairwise_proto::b64;
    use pairwise_proto::keys::PairingKey;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(in crate::keystore) fn serialize<S: Serializer>(
        key: &PairingKey,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64::encode(key.as_bytes()))
    }

    pub(in crate::keystore) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<PairingKey, D::Error> {
        let text = String::deserialize(d)?;
        b64::decode_array(&text)
            .map(PairingKey::from_bytes)
            .map_err(serde::de::Error::custom)
    }
}
