//! Helpers shared by the vector tests: deterministic keys from labels, the write-or-check rule
//! for `testdata/vectors/*.json`, a party of the handshake with its JSON form, and a sample
//! manifest.
//!
//! Each integration test file compiles this module separately and uses a subset of it.
#![allow(dead_code, unreachable_pub)]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::path::PathBuf;

use pairwise_proto::identity::{EphemeralSecret, IdentitySecret};
use pairwise_proto::limits::MAX_FILE_SIZE;
use pairwise_proto::name::SafeName;
use pairwise_proto::transfer::{FileEntry, Manifest};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// 32 bytes from a label: SHA-256 of a fixed prefix and the label.
pub fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("pairwise test vector: {label}")).into()
}

/// A P-256 scalar from a label.
pub fn scalar(label: &str) -> p256::SecretKey {
    p256::SecretKey::from_slice(&seed(label)).expect("SHA-256 output is a valid P-256 scalar")
}

/// With `PAIRWISE_WRITE_VECTORS=1` writes `value` to `testdata/vectors/<file>`; otherwise
/// checks that the file holds exactly `value`.
pub fn check_or_write(file: &str, value: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(file);
    if std::env::var("PAIRWISE_WRITE_VECTORS").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(value).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with PAIRWISE_WRITE_VECTORS=1", path.display()));
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert!(
        on_disk == *value,
        "{file} differs from what the implementation produces; \
         regenerate with PAIRWISE_WRITE_VECTORS=1 only if the protocol change is intended"
    );
}

/// One side of a handshake vector: its secrets and their JSON form.
pub struct Party {
    pub identity: IdentitySecret,
    pub ephemeral: EphemeralSecret,
    pub nonce: [u8; 32],
    pub json: Value,
}

/// A party whose keys and nonce come from `case` and `role` labels.
pub fn party(case: &str, role: &str) -> Party {
    let id = scalar(&format!("{case} {role} identity"));
    let eph = scalar(&format!("{case} {role} ephemeral"));
    let nonce = seed(&format!("{case} {role} nonce"));
    let identity = IdentitySecret::new(id.clone());
    let ephemeral = EphemeralSecret::new(eph.clone());
    let json = json!({
        "identity_priv": hex::encode(id.to_bytes()),
        "identity_pub": hex::encode(identity.public().to_sec1()),
        "ephemeral_priv": hex::encode(eph.to_bytes()),
        "ephemeral_pub": hex::encode(ephemeral.public().to_sec1()),
        "nonce": hex::encode(nonce),
    });
    Party {
        identity,
        ephemeral,
        nonce,
        json,
    }
}

/// The manifest the record and transfer vectors share: an empty file, a non-ASCII name and
/// the largest allowed size.
pub fn sample_manifest() -> Manifest {
    let file = |name: &str, size: u64, mime: &str| {
        FileEntry::new(SafeName::parse(name).unwrap(), size, mime).unwrap()
    };
    Manifest::new(vec![
        file("empty.txt", 0, "text/plain"),
        file("résumé.pdf", 1_234_567, "application/pdf"),
        file("日本.txt", MAX_FILE_SIZE, ""),
    ])
    .unwrap()
}
