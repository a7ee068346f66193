//! Helpers shared by the vector tests: deterministic keys from labels, the write-or-check rule
//! for `testdata/vectors/*.json`, a party of the handshake with its JSON form, a sample
//! manifest, and the JSON form of transfer messages (`transfer.json`, the scenarios).
//!
//! Each integration test file compiles this module separately and uses a subset of it.
#![allow(dead_code, unreachable_pub)]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::path::PathBuf;

use pairwise_proto::b64;
use pairwise_proto::identity::{EphemeralSecret, IdentitySecret};
use pairwise_proto::limits::MAX_FILE_SIZE;
use pairwise_proto::name::SafeName;
use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, ResumeClaim, TransferError, msg_type,
};
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

/// A resume claim as JSON: `{"index", "offset", "proof": b64url}`.
pub fn claim_json(c: &ResumeClaim) -> Value {
    json!({"index": c.index, "offset": c.offset, "proof": b64::encode(&c.proof)})
}

/// A transfer message as the vectors write it: `{"type": …}` and its fields (chunk bytes in
/// hex, ids and proofs in base64url). Lane messages have their own file, `lanes.json`.
pub fn message_json(msg: &Message) -> Value {
    match msg {
        Message::Manifest(m) => {
            let files: Vec<Value> = m
                .files()
                .iter()
                .map(|f| {
                    let mut v =
                        json!({"name": f.name().as_str(), "size": f.size(), "type": f.mime()});
                    if !f.dir().is_empty() {
                        v["dir"] = json!(f.dir().iter().map(SafeName::as_str).collect::<Vec<_>>());
                    }
                    v
                })
                .collect();
            let mut v = json!({"type": "manifest", "files": files});
            if let Some(id) = m.id() {
                v["id"] = json!(b64::encode(id.as_bytes()));
            }
            if m.more() {
                v["more"] = json!(true);
            }
            v
        }
        Message::Accept => json!({"type": "accept"}),
        Message::AcceptResume(claims) => {
            json!({"type": "accept", "resume": claims.iter().map(claim_json).collect::<Vec<_>>()})
        }
        Message::ResumeAck(starts) => {
            json!({"type": "resume-ack", "files": starts.iter().map(|s| json!({
            "index": s.index, "offset": s.offset
        })).collect::<Vec<_>>()})
        }
        Message::Decline => json!({"type": "decline"}),
        Message::Chunk(data) => json!({"type": "chunk", "data": hex::encode(data)}),
        Message::Received(index) => json!({"type": "received", "index": index}),
        Message::Cancel => json!({"type": "cancel"}),
        Message::Device(info) => json!({"type": "device", "name": info.name.as_str()}),
        Message::Text(text) => json!({"type": "text", "text": text}),
        Message::Progress(n) => json!({"type": "progress", "bytes": n}),
        Message::Close(None) => json!({"type": "close"}),
        Message::Close(Some(code)) => json!({"type": "close", "code": code}),
        other => json!({"type": other.type_byte()}),
    }
}

/// The inverse of [`message_json`]: the inner bytes the JSON stands for, parsed as a peer's
/// record is ([`Message::decode`], strict), so a message the JSON gets wrong fails like one on
/// the wire. Panics on a `type` it does not know or a field of the wrong JSON type.
pub fn message_from_json(v: &Value) -> Result<Message, TransferError> {
    let ty = v["type"].as_str().expect("a message has a string type");
    let body = |ty: u8, payload: Value| {
        let mut inner = vec![ty];
        inner.extend(serde_json::to_vec(&payload).unwrap());
        inner
    };
    let uint = |key: &str| {
        v[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} is an unsigned integer in {v}"))
    };
    let inner = match ty {
        "manifest" => {
            let mut wire = v.clone();
            wire.as_object_mut().unwrap().remove("type");
            body(msg_type::MANIFEST, wire)
        }
        "accept" => match v.get("resume") {
            None => vec![msg_type::ACCEPT],
            Some(claims) => body(msg_type::ACCEPT, json!({"resume": claims})),
        },
        "resume-ack" => body(msg_type::RESUME_ACK, json!({"files": v["files"]})),
        "decline" => vec![msg_type::DECLINE],
        "chunk" => {
            let data = hex::decode(v["data"].as_str().expect("chunk data is hex")).unwrap();
            [vec![msg_type::CHUNK], data].concat()
        }
        "received" => {
            let index = u32::try_from(uint("index")).expect("a received index fits 32 bits");
            [vec![msg_type::RECEIVED], index.to_be_bytes().to_vec()].concat()
        }
        "cancel" => vec![msg_type::CANCEL],
        "device" => body(msg_type::DEVICE, json!({"name": v["name"]})),
        "text" => {
            let text = v["text"].as_str().expect("text is a string");
            [vec![msg_type::TEXT], text.as_bytes().to_vec()].concat()
        }
        "progress" => [
            vec![msg_type::PROGRESS],
            uint("bytes").to_be_bytes().to_vec(),
        ]
        .concat(),
        "close" => match v.get("code") {
            None => body(msg_type::CLOSE, json!({})),
            Some(code) => body(msg_type::CLOSE, json!({"code": code})),
        },
        other => panic!("no JSON form for message type {other}"),
    };
    Message::decode(&inner)
}
