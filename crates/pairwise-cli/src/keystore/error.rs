//! Why the [`super::Keystore`] cannot be used, and why a NAME picks no device: every message
//! names the file (or lists the devices) and says what to do.

use std::path::PathBuf;

use crate::config::ConfigError;

/// Why the store cannot be used. Every message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The configuration directory or a file in it could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `identity.key` does not hold a P-256 private key in PKCS#8 PEM.
    #[error(
        "{} is not a pairwise identity key (PKCS#8 PEM P-256 private key): {reason}; \
         restore the right file, or move the configuration directory away to start over \
         (paired devices must then pair again)", path.display()
    )]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// `devices.json` does not parse.
    #[error(
        "{} is damaged ({reason}); restore it from a backup, or move it away to start \
         over (paired devices must then pair again)", path.display()
    )]
    BadDevices {
        /// The devices file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The key file belongs to another device than `devices.json`.
    #[error(
        "{key} does not belong to {devices}: the paired devices were made with identity \
         {expected}, but the key file is identity {found} (was it replaced, or restored from \
         another device?). Put the matching identity.key back, or move both files away to \
         start over (paired devices must then pair again)",
        key = key.display(), devices = devices.display()
    )]
    WrongKey {
        /// The key file.
        key: PathBuf,
        /// The devices file.
        devices: PathBuf,
        /// Short fingerprint `devices.json` names.
        expected: String,
        /// Short fingerprint of the key file.
        found: String,
    },
    /// `devices.json` exists but `identity.key` does not.
    #[error(
        "{devices} lists paired devices, but {key} is missing: restore identity.key from a \
         backup, or move {devices} away to start over (paired devices must then pair again)",
        key = key.display(), devices = devices.display()
    )]
    MissingKey {
        /// The key file.
        key: PathBuf,
        /// The devices file.
        devices: PathBuf,
    },
}

/// Why a NAME given on the command line picks no single device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// No paired devices at all.
    #[error("no paired devices yet: pair one first with `pairwise pair` (or send with a QR code)")]
    NoDevices,
    /// Nothing matches.
    #[error("no paired device is called \"{query}\". Paired devices:\n{list}")]
    Unknown {
        /// What was asked for.
        query: String,
        /// The devices, one per line.
        list: String,
    },
    /// Several match: the list holds only those, so the person can pick one by its id.
    #[error(
        "\"{query}\" matches more than one paired device:\n{list}\nUse its id (or a longer id \
         prefix) instead, or rename one with `pairwise devices rename`."
    )]
    Ambiguous {
        /// What was asked for.
        query: String,
        /// The matching devices, one per line.
        list: String,
    },
}
