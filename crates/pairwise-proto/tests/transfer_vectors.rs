//! Shared test vectors in `testdata/vectors/*.json`: transfer messages (`transfer.json`).
//!
//! Each test builds its vector file from the implementation (deterministic keys from SHA-256 of
//! fixed strings), asserting on the way that every invalid case fails with the listed code.
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it reads the file and checks
//! that it is exactly what the implementation produces. `web/test` checks the same files.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use pairwise_proto::device::{DeviceInfo, DeviceName};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::limits::{MAX_DIR_DEPTH, MAX_FILE_SIZE, MAX_MANIFEST_FILES, MAX_PATH_BYTES};
use pairwise_proto::name::SafeName;
use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, ResumeClaim, ResumeStart, TransferId,
};
use serde_json::{Value, json};

use crate::common::{check_or_write, message_from_json, message_json, sample_manifest, seed};

fn device(name: &str) -> Message {
    Message::Device(DeviceInfo {
        name: DeviceName::parse(name).unwrap(),
    })
}

/// A resumable offer in a folder, sent in parts (§11.1).
fn large_offer_parts() -> Vec<Message> {
    let seg = |s: &str| SafeName::parse(s).unwrap();
    let files = vec![
        FileEntry::new(seg("top.txt"), 5, "text/plain").unwrap(),
        FileEntry::new(seg("deep.bin"), 3 << 20, "")
            .unwrap()
            .in_dir(vec![seg("Photos"), seg("2026 été")])
            .unwrap(),
    ];
    let id = TransferId::from_bytes(seed("transfer id")[..16].try_into().unwrap());
    Manifest::new(files)
        .unwrap()
        .with_id(id)
        .parts(80)
        .into_iter()
        .map(Message::Manifest)
        .collect()
}

#[test]
fn transfer_vectors() {
    let one = |name: &str| {
        Message::Manifest(
            Manifest::new(vec![
                FileEntry::new(SafeName::parse(name).unwrap(), 1, "").unwrap(),
            ])
            .unwrap(),
        )
    };
    let messages: Vec<Message> = [
        Message::Manifest(sample_manifest()),
        one("a"),
        Message::Accept,
        Message::Decline,
        Message::Chunk(Vec::new()),
        Message::Chunk(vec![0x00, 0xff, 0x10, 0x04]),
        Message::Received(0),
        Message::Received(u32::MAX),
        Message::Cancel,
        device("Pixel 8"),
        device("Anna's 日本 laptop"),
        Message::AcceptResume(vec![
            ResumeClaim {
                index: 0,
                offset: 5,
                proof: seed("claim 0"),
            },
            ResumeClaim {
                index: 1,
                offset: 2 << 20,
                proof: seed("claim 1"),
            },
        ]),
        Message::ResumeAck(vec![
            ResumeStart {
                index: 0,
                offset: 5,
            },
            ResumeStart {
                index: 1,
                offset: 0,
            },
        ]),
        Message::Text("Hello 🌍 https://example.org/?a=1&b=2".to_owned()),
        Message::Progress(0),
        Message::Progress(MAX_FILE_SIZE),
        Message::Close(None),
        Message::Close(Some(ErrorCode::BadName)),
        Message::Close(Some(ErrorCode::RecordRejected)),
    ]
    .into_iter()
    .chain(large_offer_parts())
    .collect::<Vec<_>>();
    let valid: Vec<Value> = messages
        .iter()
        .map(|msg| {
            let inner = msg.encode();
            assert_eq!(&Message::decode(&inner).unwrap(), msg);
            let json = message_json(msg);
            assert_eq!(&message_from_json(&json).unwrap(), msg, "{json}");
            json!({"message": json, "inner": hex::encode(&inner)})
        })
        .collect();

    let manifest = |json: &str| [&[0x01u8][..], json.as_bytes()].concat();
    let dev = |json: &str| [&[0x07u8][..], json.as_bytes()].concat();
    let close = |json: &str| [&[0x0eu8][..], json.as_bytes()].concat();
    let files = |n: usize| {
        let list: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"name":"f{i}","size":1,"type":""}}"#))
            .collect();
        manifest(&format!(r#"{{"files":[{}]}}"#, list.join(",")))
    };
    let max_ok = files(MAX_MANIFEST_FILES);
    assert!(Message::decode(&max_ok).is_ok());
    let long_type = format!(
        r#"{{"files":[{{"name":"a","size":1,"type":"{}"}}]}}"#,
        "t".repeat(256)
    );
    let mis = "peer-misbehaved";
    let invalid: Vec<(Vec<u8>, &str, &str)> = vec![
        (vec![], mis, "empty inner message"),
        (vec![0x00], mis, "type 0x00"),
        (vec![0x0b], mis, "type 0x0b"),
        // serde takes a struct's fields as an array too; the page never did (strict_json).
        (dev(r#"["Phone"]"#), mis, "device that is an array"),
        (
            manifest(r#"{"files":[["a",1,""]]}"#),
            mis,
            "manifest file entry that is an array",
        ),
        (
            manifest(r#"[[{"name":"a","size":1,"type":""}]]"#),
            mis,
            "manifest that is an array of its fields",
        ),
        (
            [&[0x02u8][..], br#"{"resume":[[0,1,"AAAA"]]}"#].concat(),
            mis,
            "accept with a resume claim that is an array",
        ),
        (
            [&[0x09u8][..], br#"{"files":[[0,0]]}"#].concat(),
            mis,
            "resume-ack entry that is an array",
        ),
        (
            [&[0x0bu8][..], br#"[1,"v=0"]"#].concat(),
            mis,
            "lane-offer that is an array",
        ),
        (vec![0x08], mis, "text without payload"),
        (vec![0x08, 0xc3, 0x28], mis, "text that is not UTF-8"),
        (vec![0x09], mis, "resume-ack without JSON"),
        (
            vec![0x0a, 0, 0, 0, 0, 0, 0, 1],
            mis,
            "progress with 7 bytes",
        ),
        (
            vec![0x0a, 0, 0, 0, 0, 0, 0, 0, 1, 0],
            mis,
            "progress with 9 bytes",
        ),
        (
            [&[0x09u8][..], br#"{"files":[{"index":0}]}"#].concat(),
            mis,
            "resume-ack entry without offset",
        ),
        (
            [
                &[0x02u8][..],
                br#"{"resume":[{"index":0,"offset":1,"proof":"AAAA"}]}"#,
            ]
            .concat(),
            mis,
            "resume claim with a short proof",
        ),
        (
            [&[0x02u8][..], br#"{"resume":[],"x":1}"#].concat(),
            mis,
            "accept payload with an unknown key",
        ),
        (
            manifest(r#"{"id":"AAAAAAAAAAAAAAAAAAAA","files":[{"name":"a","size":1,"type":""}]}"#),
            mis,
            "manifest id of 15 bytes",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":"","dir":[]}]}"#),
            mis,
            "manifest with an empty dir list",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":"","dir":["ok",".."]}]}"#),
            "bad-name",
            "manifest dir segment ..",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":"","dir":["a/b"]}]}"#),
            "bad-name",
            "manifest dir segment with a slash",
        ),
        (
            manifest(r#"{"files":[{"name":"invoice\u202etxt.exe","size":1,"type":""}]}"#),
            "bad-name",
            "name with a right-to-left override",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":"","dir":["x\u200by"]}]}"#),
            "bad-name",
            "manifest dir segment with a zero width space",
        ),
        (
            manifest(&format!(
                r#"{{"files":[{{"name":"a","size":1,"type":"","dir":[{}]}}]}}"#,
                vec![r#""d""#; MAX_DIR_DEPTH + 1].join(",")
            )),
            "bad-name",
            "manifest dir one level deeper than MAX_DIR_DEPTH",
        ),
        (
            manifest(&format!(
                r#"{{"files":[{{"name":"{}","size":1,"type":"","dir":[{}]}}]}}"#,
                "n".repeat(MAX_PATH_BYTES + 1 - 17 * 240),
                vec![format!(r#""{}""#, "d".repeat(239)); 17].join(",")
            )),
            "bad-name",
            "manifest path one byte over MAX_PATH_BYTES",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":""}],"more":1}"#),
            mis,
            "manifest more that is not a boolean",
        ),
        (vec![0x07], mis, "device without JSON"),
        (dev(r#"{"name":""}"#), mis, "device with an empty name"),
        (
            dev(r#"{"name":" x"}"#),
            mis,
            "device name with leading space",
        ),
        (
            dev(r#"{"name":"a\u202eb"}"#),
            mis,
            "device name with a bidi override",
        ),
        (dev(r#"{"name":"a\nb"}"#), mis, "device name with a newline"),
        (
            dev(&format!(r#"{{"name":"{}"}}"#, "x".repeat(65))),
            mis,
            "device name of 65 characters",
        ),
        (
            dev(r#"{"name":"x","extra":1}"#),
            mis,
            "device with an unknown key",
        ),
        (dev(r#"{"nom":"x"}"#), mis, "device without a name"),
        (vec![0x0e], mis, "close without JSON"),
        (close("bad-name"), mis, "close that is not JSON"),
        (
            close(r#"{"code":"bad-name","x":1}"#),
            mis,
            "close with an unknown key",
        ),
        (
            close(r#"{"reason":"bad-name"}"#),
            mis,
            "close with only an unknown key",
        ),
        (
            close(r#"{"code":"oops"}"#),
            mis,
            "close with a code outside the catalogue",
        ),
        (
            close(r#"{"code":"Bad-Name"}"#),
            mis,
            "close with a code in the wrong case",
        ),
        (close(r#"{"code":null}"#), mis, "close with a null code"),
        (
            close(r#"{"code":3}"#),
            mis,
            "close with a number for a code",
        ),
        (close(r#"[]"#), mis, "close that is an array"),
        (
            close(r#"["bad-name"]"#),
            mis,
            "close that is an array with a code",
        ),
        (
            close(r#"{"code":"bad-name","code":"bad-name"}"#),
            mis,
            "close with a duplicate key",
        ),
        (vec![0x0f], mis, "type 0x0f"),
        (vec![0xff, 1, 2], mis, "type 0xff"),
        (
            vec![0x02, 0x00],
            mis,
            "accept with a payload that is not resume JSON",
        ),
        (vec![0x03, 0x00], mis, "decline with a payload"),
        (vec![0x06, 0x00], mis, "cancel with a payload"),
        (vec![0x05], mis, "received without index"),
        (vec![0x05, 0, 0, 1], mis, "received with 3 bytes"),
        (vec![0x05, 0, 0, 0, 1, 0], mis, "received with 5 bytes"),
        (vec![0x01], mis, "manifest without JSON"),
        (manifest("not json"), mis, "manifest is not JSON"),
        (vec![0x01, b'"', 0xff, b'"'], mis, "manifest is not UTF-8"),
        (manifest(r#"{"files":[]}"#), mis, "manifest with no files"),
        (
            manifest(r#"{"files":[{"name":"a","size":1}]}"#),
            mis,
            "missing type",
        ),
        (
            manifest(r#"{"files":[{"name":"a","type":""}]}"#),
            mis,
            "missing size",
        ),
        (
            manifest(r#"{"files":[{"size":1,"type":""}]}"#),
            mis,
            "missing name",
        ),
        (
            manifest(r#"{"files":[],"x":1}"#),
            mis,
            "unknown top-level field",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":"","mtime":0}]}"#),
            mis,
            "unknown file field",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":-1,"type":""}]}"#),
            mis,
            "negative size",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1.5,"type":""}]}"#),
            mis,
            "fractional size",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":"1","type":""}]}"#),
            mis,
            "size as a string",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":9007199254740992,"type":""}]}"#),
            mis,
            "size 2^53",
        ),
        (
            manifest(r#"{"files":[{"name":1,"size":1,"type":""}]}"#),
            mis,
            "name is not a string",
        ),
        (
            manifest(r#"{"files":[{"name":"a","size":1,"type":null}]}"#),
            mis,
            "type is null",
        ),
        (manifest(r#"{"files":{}}"#), mis, "files is not an array"),
        (manifest(r#"[]"#), mis, "manifest is an array"),
        (manifest(&long_type), mis, "type of 256 bytes"),
        (
            manifest(r#"{"files":[{"name":"../x","size":1,"type":""}]}"#),
            "bad-name",
            "name ../x",
        ),
        (
            manifest(r#"{"files":[{"name":"CON.txt","size":1,"type":""}]}"#),
            "bad-name",
            "name CON.txt",
        ),
        (
            manifest(r#"{"files":[{"name":"","size":1,"type":""}]}"#),
            "bad-name",
            "empty name",
        ),
        (
            manifest(
                r#"{"files":[{"name":"ok","size":1,"type":""},{"name":"a\u0000b","size":1,"type":""}]}"#,
            ),
            "bad-name",
            "second file has a NUL in its name",
        ),
    ];
    let mut invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(inner, code, why)| {
            let err = Message::decode(&inner).expect_err(why);
            assert_eq!(
                serde_json::to_value(err.code()).unwrap(),
                json!(code),
                "{why}: {err}"
            );
            json!({"inner": hex::encode(&inner), "code": code, "why": why})
        })
        .collect();
    // Well-formed messages in a record whose FINAL flag is set: only a chunk may have it (§6).
    for (inner, why) in [
        (close("{}"), "close with FINAL"),
        (
            close(r#"{"code":"bad-name"}"#),
            "close with a code, with FINAL",
        ),
        (vec![0x06], "cancel with FINAL"),
    ] {
        let err = Message::decode(&inner)
            .unwrap()
            .check_final(true)
            .expect_err(why);
        assert_eq!(err.code(), ErrorCode::PeerMisbehaved, "{why}: {err}");
        invalid.push(json!({"inner": hex::encode(&inner), "final": true, "code": mis, "why": why}));
    }
    assert!(Message::Chunk(vec![1]).check_final(true).is_ok());
    check_or_write(
        "transfer.json",
        &json!({"valid": valid, "invalid": invalid}),
    );
}
