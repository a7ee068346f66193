//! Shared test vector `testdata/vectors/limits.json`: every limit of `pairwise_proto::limits`
//! (and the record overhead) by name, so that `web/test/vectors.test.js` can hold
//! `web/lib/proto/limits.js` to the same values. A limit added on one side only fails there: the page
//! must have each one (or list it as the server's), and each of its own must be here or named
//! as the page's.
//!
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it checks the file is exactly
//! what the crate holds.

mod common;

use pairwise_proto::limits::{
    CODE_COMPARE_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, LANE_PROGRESS_STEP, MAX_DEVICE_NAME_CHARS,
    MAX_DIR_DEPTH, MAX_FILE_SIZE, MAX_ICE_SERVERS, MAX_ICE_URL_BYTES, MAX_ICE_URLS,
    MAX_MANIFEST_FILES, MAX_NAME_BYTES, MAX_PAIRED_DEVICES, MAX_PATH_BYTES, MAX_RECORD_BYTES,
    MAX_ROOM_PEERS, MAX_SIGNAL_BYTES, MAX_TEXT_BYTES, MAX_TYPE_BYTES, NOT_PAIRED_GRACE_MS,
    PER_CLIENT_QUEUE_DEPTH, PROGRESS_STEP, RESUME_BLOCK, ROOM_ID_CHARS, TRANSFER_ID_BYTES,
    TRANSFER_WINDOW,
};
use pairwise_proto::record::RECORD_OVERHEAD;
use serde_json::json;

use crate::common::check_or_write;

#[test]
fn limits_vector() {
    let value = json!({
        "shared": {
            "MAX_SIGNAL_BYTES": MAX_SIGNAL_BYTES,
            "MAX_ICE_SERVERS": MAX_ICE_SERVERS,
            "MAX_ICE_URLS": MAX_ICE_URLS,
            "MAX_ICE_URL_BYTES": MAX_ICE_URL_BYTES,
            "MAX_ROOM_PEERS": MAX_ROOM_PEERS,
            "MAX_RECORD_BYTES": MAX_RECORD_BYTES,
            "MAX_MANIFEST_FILES": MAX_MANIFEST_FILES,
            "MAX_DIR_DEPTH": MAX_DIR_DEPTH,
            "MAX_PATH_BYTES": MAX_PATH_BYTES,
            "MAX_TEXT_BYTES": MAX_TEXT_BYTES,
            "TRANSFER_ID_BYTES": TRANSFER_ID_BYTES,
            "RESUME_BLOCK": RESUME_BLOCK,
            "MAX_NAME_BYTES": MAX_NAME_BYTES,
            "MAX_TYPE_BYTES": MAX_TYPE_BYTES,
            "MAX_FILE_SIZE": MAX_FILE_SIZE,
            "MAX_DEVICE_NAME_CHARS": MAX_DEVICE_NAME_CHARS,
            "MAX_PAIRED_DEVICES": MAX_PAIRED_DEVICES,
            "TRANSFER_WINDOW": TRANSFER_WINDOW,
            "PROGRESS_STEP": PROGRESS_STEP,
            "LANE_PROGRESS_STEP": LANE_PROGRESS_STEP,
            "HANDSHAKE_TIMEOUT_MS": HANDSHAKE_TIMEOUT_MS,
            "NOT_PAIRED_GRACE_MS": NOT_PAIRED_GRACE_MS,
            "CODE_COMPARE_TIMEOUT_MS": CODE_COMPARE_TIMEOUT_MS,
            "RECORD_OVERHEAD": RECORD_OVERHEAD,
        },
        // The page never builds a room id nor queues for other clients.
        "server_only": {
            "ROOM_ID_CHARS": ROOM_ID_CHARS,
            "PER_CLIENT_QUEUE_DEPTH": PER_CLIENT_QUEUE_DEPTH,
        },
    });
    // Every limit of the crate is in the file: a new one cannot skip the page's check.
    let source = include_str!("../src/limits.rs");
    for line in source.lines() {
        let Some(rest) = line.trim_start().strip_prefix("pub const ") else {
            continue;
        };
        let name = rest.split(':').next().unwrap_or_default().trim();
        assert!(
            value["shared"].get(name).is_some() || value["server_only"].get(name).is_some(),
            "{name} (src/limits.rs) is missing from limits.json"
        );
    }
    check_or_write("limits.json", &value);
}
