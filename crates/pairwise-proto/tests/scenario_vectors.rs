//! Scenario vectors in `testdata/vectors/scenarios/*.json`: the transfer engine's `Receiver`
//! and `Sender` driven step by step, with what each step makes them do.
//!
//! The inputs of every scenario are written below as JSON; the test replays that JSON against
//! the engine and records the outputs (messages to send, events, chunk runs, errors). With
//! `PAIRWISE_WRITE_VECTORS=1` it writes one file per scenario; otherwise it checks that each
//! file is exactly what the engine produces. `web/test/scenarios.test.js` replays the same
//! files against the browser's twins of the engine. The format is in
//! `testdata/vectors/README.md` ("Scenarios").

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use pairwise_proto::b64;
use pairwise_proto::handshake::{
    InitiatorAwaitHello, PeerConfirmed, ResponderAwaitHello, sdp_fingerprint,
};
use pairwise_proto::identity::HandshakeNonce;
use pairwise_proto::keys::PairingSecret;
use pairwise_proto::limits::{
    LANE_PROGRESS_STEP, MAX_RECORD_BYTES, PROGRESS_STEP, RESUME_BLOCK, TRANSFER_WINDOW,
};
use pairwise_proto::link::PairingLink;
use pairwise_proto::transfer::{
    Message, Receiver, ReceiverEvent, ResumeClaim, ResumeStart, Sender, SenderEvent, TransferError,
    max_chunk,
};
use serde_json::{Value, json};

use crate::common::{check_or_write, claim_json, message_from_json, message_json, party, seed};

const MIB: u64 = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Receiver,
    Sender,
}

impl Engine {
    fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Sender => "sender",
        }
    }
}

struct Scenario {
    /// The file name without `.json`: `receiver-…` or `sender-…`.
    name: &'static str,
    /// One sentence: what it pins, with the `docs/protocol.md` section.
    why: &'static str,
    engine: Engine,
    /// Each step's input, as the file has it.
    steps: Vec<Value>,
}

// ---- Inputs -------------------------------------------------------------------------------

fn file(name: &str, size: u64) -> Value {
    json!({"name": name, "size": size, "type": ""})
}

fn manifest(files: Vec<Value>) -> Value {
    json!({"type": "manifest", "files": files})
}

/// A file with a MIME type, in folder `dir` (§11.1).
fn file_in_dir(name: &str, size: u64, mime: &str, dir: &[&str]) -> Value {
    json!({"name": name, "size": size, "type": mime, "dir": dir})
}

/// A resumable offer (§11.3): its id is 16 bytes from `label`.
fn manifest_with_id(label: &str, files: Vec<Value>) -> Value {
    json!({"type": "manifest", "id": transfer_id(label), "files": files})
}

/// A manifest part of the offer `label` that another part follows (§11.1).
fn part(label: &str, files: Vec<Value>) -> Value {
    let mut v = manifest_with_id(label, files);
    v["more"] = json!(true);
    v
}

fn transfer_id(label: &str) -> String {
    b64::encode(&seed(&format!("scenario id {label}"))[..16])
}

fn claim(index: u32, offset: u64) -> Value {
    claim_json(&ResumeClaim {
        index,
        offset,
        proof: seed(&format!("scenario proof {index} {offset}")),
    })
}

fn start(index: u32, offset: u64) -> Value {
    json!({"index": index, "offset": offset})
}

fn msg(ty: &str) -> Value {
    json!({"type": ty})
}

fn chunk(hex: &str) -> Value {
    json!({"type": "chunk", "data": hex})
}

fn received(index: u32) -> Value {
    json!({"type": "received", "index": index})
}

fn progress(bytes: u64) -> Value {
    json!({"type": "progress", "bytes": bytes})
}

fn resume_ack(files: Vec<Value>) -> Value {
    json!({"type": "resume-ack", "files": files})
}

fn accept_resume(claims: Vec<Value>) -> Value {
    json!({"type": "accept", "resume": claims})
}

/// A record from the peer, FINAL unset.
fn peer(msg: Value) -> Value {
    json!({"peer": msg})
}

/// A record from the peer with FINAL set.
fn peer_final(msg: Value) -> Value {
    json!({"peer": msg, "final": true})
}

fn call(name: &str) -> Value {
    json!({"call": name})
}

fn call_accept_resume(claims: Vec<Value>) -> Value {
    json!({"call": "accept", "resume": claims})
}

fn stored(bytes: u64) -> Value {
    json!({"call": "stored", "bytes": bytes})
}

fn offer(manifest: Value, max_record: usize) -> Value {
    json!({"call": "offer", "manifest": manifest, "max_record": max_record})
}

fn call_resume(files: Vec<Value>) -> Value {
    json!({"call": "resume", "files": files})
}

fn call_max_record(max_record: usize) -> Value {
    json!({"call": "max_record", "max_record": max_record})
}

// ---- Scenarios ----------------------------------------------------------------------------

#[expect(
    clippy::too_many_lines,
    reason = "one list of every receiver scenario reads best in one place"
)]
fn receiver_scenarios() -> Vec<Scenario> {
    let r = |name, why, steps| Scenario {
        name,
        why,
        engine: Engine::Receiver,
        steps,
    };
    let two = || manifest(vec![file("hello.txt", 5), file("empty.txt", 0)]);
    let one = |size| manifest(vec![file("a.bin", size)]);
    vec![
        r(
            "receiver-accept",
            "A plain accept (§6): chunks give the bytes of each file in manifest order, FINAL \
            ends a file, a 0-byte file is one empty FINAL chunk, and the last file completes the \
            transfer. A second accept during the transfer answers nothing and changes nothing.",
            vec![
                peer(two()),
                call("accept"),
                peer(chunk("68656c")),
                call("accept"),
                peer_final(chunk("6c6f")),
                peer_final(chunk("")),
            ],
        ),
        r(
            "receiver-manifest-parts",
            "An offer in manifest parts (§11.1): nothing is offered (and accept has nothing to \
            answer) until the part without more, and the offer then holds the files of every part \
            under the one id.",
            vec![
                peer(part("parts", vec![file("a.txt", 1)])),
                call("accept"),
                peer(manifest_with_id(
                    "parts",
                    vec![
                        file("b.txt", 2),
                        file_in_dir("c.txt", 3, "text/plain", &["Photos", "2026"]),
                    ],
                )),
                call("accept"),
            ],
        ),
        r(
            "receiver-manifest-part-other-id",
            "A manifest part whose id differs from the offer's first part is peer-misbehaved \
            (§11.1).",
            vec![
                peer(part("first", vec![file("a.txt", 1)])),
                peer(manifest_with_id("second", vec![file("b.txt", 1)])),
            ],
        ),
        r(
            "receiver-decline",
            "decline answers the offer and ends it; the next manifest is a new offer (§6).",
            vec![
                peer(one(3)),
                call("decline"),
                peer(manifest(vec![file("b.bin", 1)])),
                call("accept"),
            ],
        ),
        r(
            "receiver-nothing-offered",
            "With nothing offered, accept, decline and cancel answer nothing and send nothing \
            (§6).",
            vec![call("accept"), call("decline"), call("cancel")],
        ),
        r(
            "receiver-chunk-before-accept",
            "A chunk while the offer is not accepted yet is a chunk when no file is expected: \
            peer-misbehaved (§6).",
            vec![peer(one(3)), peer(chunk("00"))],
        ),
        r(
            "receiver-too-many-bytes",
            "A file that gets more bytes than its manifest size is peer-misbehaved (§6).",
            vec![
                peer(one(3)),
                call("accept"),
                peer(chunk("0102")),
                peer(chunk("0304")),
            ],
        ),
        r(
            "receiver-final-too-early",
            "FINAL on a file that has fewer bytes than its manifest size is peer-misbehaved (§6).",
            vec![peer(one(3)), call("accept"), peer_final(chunk("0102"))],
        ),
        r(
            "receiver-final-on-non-chunk",
            "FINAL on anything but a chunk is peer-misbehaved (§6), checked before the message \
            acts: a cancel with FINAL cancels nothing.",
            vec![peer(one(3)), call("accept"), peer_final(msg("cancel"))],
        ),
        r(
            "receiver-second-manifest",
            "A second manifest while a transfer is being received is peer-misbehaved (§6).",
            vec![
                peer(one(3)),
                call("accept"),
                peer(chunk("01")),
                peer(one(1)),
            ],
        ),
        r(
            "receiver-second-manifest-offered",
            "A second manifest while one is offered is peer-misbehaved (§6).",
            vec![peer(one(3)), peer(one(1))],
        ),
        r(
            "receiver-sender-message",
            "progress is for the sender of a transfer (§11.4; Message::route hands it to the \
            sender): one handed to the receiver is refused as peer-misbehaved (§6).",
            vec![peer(one(3)), call("accept"), peer(progress(0))],
        ),
        r(
            "receiver-progress",
            "The receiver sends progress with the bytes stored so far once PROGRESS_STEP (1 MiB) \
            more were stored since the last one, and every LANE_PROGRESS_STEP (256 KiB) once the \
            peer sends over lanes (§11.4, §12).",
            vec![
                peer(manifest(vec![file("big.bin", 4 * MIB)])),
                call("accept"),
                stored(PROGRESS_STEP / 2),
                stored(PROGRESS_STEP / 2 - 1),
                stored(1),
                stored(PROGRESS_STEP + PROGRESS_STEP / 2),
                stored(PROGRESS_STEP - 1),
                call("lanes"),
                stored(1),
                stored(LANE_PROGRESS_STEP - 1),
                stored(1),
                stored(LANE_PROGRESS_STEP),
            ],
        ),
        r(
            "receiver-peer-cancel",
            "A cancel from the peer ends the transfer being received (event cancelled, §6); the \
            next manifest is a new offer.",
            vec![
                peer(one(3)),
                call("accept"),
                peer(chunk("01")),
                peer(msg("cancel")),
                peer(one(2)),
            ],
        ),
        r(
            "receiver-peer-cancel-offered",
            "A cancel from the peer while its offer is unanswered withdraws the offer (event \
            cancelled, §6); accept then has nothing to answer.",
            vec![peer(one(3)), peer(msg("cancel")), call("accept")],
        ),
        r(
            "receiver-peer-cancel-idle",
            "A cancel when nothing is in progress, before any offer or after a transfer \
            completed, is ignored (§6).",
            vec![
                peer(msg("cancel")),
                peer(one(1)),
                call("accept"),
                peer_final(chunk("2a")),
                peer(msg("cancel")),
            ],
        ),
        r(
            "receiver-local-cancel",
            "After its own cancel the receiver drops the chunks the sender sent before it saw the \
            cancel (and a crossing cancel), until the next manifest, which is offered as usual \
            (§6).",
            vec![
                peer(one(4)),
                call("accept"),
                peer(chunk("0102")),
                call("cancel"),
                peer(chunk("03")),
                peer_final(chunk("04")),
                peer(msg("cancel")),
                peer(one(1)),
                call("accept"),
                peer_final(chunk("ff")),
            ],
        ),
        r(
            "receiver-local-cancel-parts",
            "A receiver that cancels while an offer's parts arrive drops the rest of them, through \
            the part without more (§6, §11.1: nothing goes between the parts of one offer), so \
            they never become an offer of their own; the next manifest is offered as usual.",
            vec![
                peer(part("cut", vec![file("a.txt", 1)])),
                call("cancel"),
                peer(part("cut", vec![file("b.txt", 2)])),
                peer(manifest_with_id("cut", vec![file("c.txt", 3)])),
                call("accept"),
                peer(manifest(vec![file("d.txt", 1)])),
                call("accept"),
            ],
        ),
        r(
            "receiver-local-cancel-resume-ack",
            "A receiver that cancelled after claiming a resume drops the resume-ack and chunks \
            the sender sent before it saw the cancel, until the next manifest (§6, §11.3).",
            vec![
                peer(manifest_with_id("cancelled", vec![file("a.txt", 3)])),
                call_accept_resume(vec![claim(0, 3)]),
                call("cancel"),
                peer(resume_ack(vec![start(0, 3)])),
                peer_final(chunk("")),
                peer(one(1)),
            ],
        ),
        r(
            "receiver-closed-mid-transfer",
            "A data channel that closes before every file got its FINAL chunk leaves the transfer \
            incomplete (§6, §6.1).",
            vec![
                peer(two()),
                call("accept"),
                peer(chunk("68")),
                call("closed"),
            ],
        ),
        r(
            "receiver-closed-offered",
            "A data channel that closes while an offer is only offered ends no transfer: no error \
            (§6, §6.1).",
            vec![peer(one(3)), call("closed")],
        ),
        r(
            "receiver-closed-complete",
            "A data channel that closes after every file got its FINAL chunk is no error (§6.1).",
            vec![
                peer(one(1)),
                call("accept"),
                peer_final(chunk("00")),
                call("closed"),
            ],
        ),
        r(
            "receiver-resume",
            "Resume (§11.3): the accept carries the claims, the resume-ack gives where each \
            claimed file continues, each file's bytes count from there, a file held whole is one \
            empty FINAL chunk, and one answered with 0 starts again.",
            vec![
                peer(manifest_with_id(
                    "resume",
                    vec![
                        file("held.txt", 3),
                        file("big.bin", RESUME_BLOCK + 2),
                        file("changed.txt", 4),
                        file("new.txt", 2),
                    ],
                )),
                call_accept_resume(vec![claim(0, 3), claim(1, RESUME_BLOCK), claim(2, 4)]),
                peer(resume_ack(vec![
                    start(0, 3),
                    start(1, RESUME_BLOCK),
                    start(2, 0),
                ])),
                peer_final(chunk("")),
                peer_final(chunk("0102")),
                peer_final(chunk("61626364")),
                peer_final(chunk("7879")),
            ],
        ),
        r(
            "receiver-resume-too-many-bytes",
            "A resumed file counts its bytes from the offset the resume-ack gives, so bytes past \
            its size from there are peer-misbehaved (§11.3, §6).",
            vec![
                peer(manifest_with_id(
                    "resume",
                    vec![file("big.bin", RESUME_BLOCK + 2)],
                )),
                call_accept_resume(vec![claim(0, RESUME_BLOCK)]),
                peer(resume_ack(vec![start(0, RESUME_BLOCK)])),
                peer(chunk("010203")),
            ],
        ),
        r(
            "receiver-resume-ack-without-claims",
            "A resume-ack after a plain accept answers no claims: peer-misbehaved (§11.3).",
            vec![
                peer(manifest_with_id("resume", vec![file("a.txt", 3)])),
                call("accept"),
                peer(resume_ack(vec![start(0, 0)])),
            ],
        ),
        r(
            "receiver-resume-ack-wrong",
            "A resume-ack that gives a claimed file another offset than the claimed one or 0 is \
            peer-misbehaved (§11.3).",
            vec![
                peer(manifest_with_id(
                    "resume",
                    vec![file("big.bin", 2 * RESUME_BLOCK)],
                )),
                call_accept_resume(vec![claim(0, 2 * RESUME_BLOCK)]),
                peer(resume_ack(vec![start(0, RESUME_BLOCK)])),
            ],
        ),
        r(
            "receiver-resume-invalid-claims",
            "Claims the offer does not allow (§11.3: an offset that is 0, past the size or not a \
            multiple of 1 MiB unless the size, out of order, for a file not offered, or none) are \
            refused by the engine, and the offer stays open for a plain accept.",
            vec![
                peer(manifest_with_id(
                    "claims",
                    vec![file("a.txt", 3), file("big.bin", RESUME_BLOCK + 3)],
                )),
                call_accept_resume(vec![claim(1, 5)]),
                call_accept_resume(vec![claim(0, 0)]),
                call_accept_resume(vec![claim(0, 4)]),
                call_accept_resume(vec![claim(1, RESUME_BLOCK), claim(0, 3)]),
                call_accept_resume(vec![claim(2, 1)]),
                call_accept_resume(vec![]),
                call("accept"),
                peer_final(chunk("616263")),
            ],
        ),
        r(
            "receiver-resume-claims-no-id",
            "Claims for an offer without an id are refused by the engine (§11.3), and the offer \
            stays open for a plain accept.",
            vec![
                peer(one(3)),
                call_accept_resume(vec![claim(0, 3)]),
                call("accept"),
            ],
        ),
    ]
}

#[expect(
    clippy::too_many_lines,
    reason = "one list of every sender scenario reads best in one place"
)]
fn sender_scenarios() -> Vec<Scenario> {
    let s = |name, why, steps| Scenario {
        name,
        why,
        engine: Engine::Sender,
        steps,
    };
    let max = MAX_RECORD_BYTES;
    let chunk_bytes = max_chunk(max) as u64;
    // 64 whole chunks fill the window but for less than one more.
    assert!(64 * chunk_bytes + 1000 <= TRANSFER_WINDOW);
    assert!(65 * chunk_bytes > TRANSFER_WINDOW);
    // A file past the transfer window, so the sender stops at the window.
    let big = || manifest(vec![file("big.bin", 20 * MIB)]);
    vec![
        s(
            "sender-two-files",
            "Offer, accept, the files' chunks in manifest order (a 0-byte file is one empty FINAL \
            chunk), received for each in order, then the transfer is complete; a progress after \
            the end is ignored (§6, §11.4).",
            vec![
                offer(
                    manifest(vec![file("a.bin", 600_000), file("empty.txt", 0)]),
                    max,
                ),
                peer(msg("accept")),
                peer(progress(PROGRESS_STEP / 2)),
                peer(received(0)),
                peer(received(1)),
                peer(progress(600_000)),
                call("cancel"),
            ],
        ),
        s(
            "sender-manifest-parts",
            "An offer too long for one record goes as several manifest parts of at most \
            max_record bytes, all but the last with more, all with the offer's id (§11.1).",
            vec![
                offer(
                    manifest_with_id(
                        "parts",
                        vec![
                            file("a.txt", 1),
                            file("b.txt", 2),
                            file("c.txt", 3),
                            file("d.txt", 4),
                            file_in_dir("e.txt", 5, "text/plain", &["Docs"]),
                        ],
                    ),
                    160,
                ),
                peer(msg("accept")),
            ],
        ),
        s(
            "sender-decline",
            "decline ends the offer; an accept after it answers no manifest and is \
            peer-misbehaved (§6).",
            vec![
                offer(manifest(vec![file("a.bin", 3)]), max),
                peer(msg("decline")),
                peer(msg("accept")),
            ],
        ),
        s(
            "sender-peer-cancel-offered",
            "A cancel from the peer while the offer is unanswered ends it (event cancelled, §6).",
            vec![
                offer(manifest(vec![file("a.bin", 3)]), max),
                peer(msg("cancel")),
            ],
        ),
        s(
            "sender-peer-cancel-sending",
            "A cancel from the peer while chunks are going ends the transfer: no more chunks, and \
            a progress after the end is ignored (§6, §11.4).",
            vec![
                offer(big(), max),
                peer(msg("accept")),
                peer(progress(PROGRESS_STEP)),
                peer(msg("cancel")),
                peer(progress(2 * PROGRESS_STEP)),
            ],
        ),
        s(
            "sender-local-cancel-offered",
            "After its own cancel the sender drops the accept the receiver sent before it saw the \
            cancel, and a crossing cancel (§6).",
            vec![
                offer(manifest(vec![file("a.bin", 3)]), max),
                call("cancel"),
                peer(msg("accept")),
                peer(msg("cancel")),
            ],
        ),
        s(
            "sender-local-cancel-sending",
            "After its own cancel mid-transfer the sender sends no more chunks and drops the \
            progress and received the receiver sent before it saw the cancel, and a crossing \
            cancel (§6).",
            vec![
                offer(
                    manifest(vec![file("a.bin", 600_000), file("big.bin", 20 * MIB)]),
                    max,
                ),
                peer(msg("accept")),
                call("cancel"),
                peer(progress(PROGRESS_STEP)),
                peer(received(0)),
                peer(msg("cancel")),
                call("cancel"),
            ],
        ),
        s(
            "sender-received-out-of-order",
            "A received for a later file before the earlier one's is out of order: \
            peer-misbehaved (§6).",
            vec![
                offer(manifest(vec![file("a.bin", 3), file("b.bin", 4)]), max),
                peer(msg("accept")),
                peer(received(1)),
            ],
        ),
        s(
            "sender-received-not-sent",
            "A received for a file whose FINAL chunk was not sent yet (held back by the window) \
            is peer-misbehaved (§6, §11.4).",
            vec![
                offer(
                    manifest(vec![file("big.bin", 20 * MIB), file("b.bin", 1)]),
                    max,
                ),
                peer(msg("accept")),
                peer(received(0)),
            ],
        ),
        s(
            "sender-progress-backwards",
            "A progress smaller than the last one is peer-misbehaved (§11.4).",
            vec![
                offer(big(), max),
                peer(msg("accept")),
                peer(progress(2 * PROGRESS_STEP)),
                peer(progress(PROGRESS_STEP)),
            ],
        ),
        s(
            "sender-progress-beyond-sent",
            "A progress larger than the chunk bytes sent is peer-misbehaved (§11.4).",
            vec![
                offer(manifest(vec![file("a.bin", 1000)]), max),
                peer(msg("accept")),
                peer(progress(1001)),
            ],
        ),
        s(
            "sender-window",
            "The sender keeps at most TRANSFER_WINDOW (16 MiB) chunk bytes unacknowledged, \
            counting the chunk about to go as a whole chunk (max_record - 18 bytes): it stops \
            there and goes on as progress and received acknowledge bytes (§11.4).",
            vec![
                offer(
                    manifest(vec![
                        file("ten.bin", 10 * MIB),
                        file("twenty.bin", 20 * MIB),
                    ]),
                    max,
                ),
                peer(msg("accept")),
                peer(progress(PROGRESS_STEP)),
                peer(received(0)),
                peer(progress(TRANSFER_WINDOW + 4 * MIB)),
                peer(received(1)),
            ],
        ),
        s(
            "sender-window-whole-chunk",
            "The window counts the chunk about to go as a whole chunk (max_record - 18 bytes) \
            even when the file's last one is shorter: 1 000 bytes that would fit wait for the \
            next progress, as a sender may keep less than TRANSFER_WINDOW unacknowledged, never \
            more (§11.4).",
            vec![
                offer(
                    manifest(vec![file("big.bin", 64 * chunk_bytes + 1000)]),
                    max,
                ),
                peer(msg("accept")),
                peer(progress(PROGRESS_STEP)),
            ],
        ),
        s(
            "sender-resume",
            "Resume (§11.3): an accept with claims asks the caller to check them; its answer goes \
            as the resume-ack before any chunk, and each file's chunks start at its agreed offset \
            (a file held whole is one empty FINAL chunk, a claim answered with 0 starts again).",
            vec![
                offer(
                    manifest_with_id(
                        "resume",
                        vec![
                            file("held.txt", 3),
                            file("big.bin", RESUME_BLOCK + 2),
                            file("changed.txt", 4),
                            file("new.txt", 2),
                        ],
                    ),
                    max,
                ),
                peer(accept_resume(vec![
                    claim(0, 3),
                    claim(1, RESUME_BLOCK),
                    claim(2, 4),
                ])),
                call_resume(vec![start(0, 3), start(1, RESUME_BLOCK), start(2, 0)]),
                peer(received(0)),
                peer(received(1)),
                peer(received(2)),
                peer(received(3)),
            ],
        ),
        s(
            "sender-resume-bad-claims",
            "Claims with an offset that is not a multiple of 1 MiB (and not the file's size) are \
            peer-misbehaved (§11.3).",
            vec![
                offer(
                    manifest_with_id("resume", vec![file("big.bin", 2 * RESUME_BLOCK)]),
                    max,
                ),
                peer(accept_resume(vec![claim(0, 5)])),
            ],
        ),
        s(
            "sender-max-record",
            "set_max_record after the accept (the page opens its lanes then and sends smaller \
            records, §12) cuts the rest of the current file and the next files in smaller chunks, \
            within the same window (§11.4).",
            vec![
                offer(
                    manifest(vec![file("big.bin", 20 * MIB), file("small.bin", 40_000)]),
                    max,
                ),
                peer(msg("accept")),
                call_max_record(16 * 1024),
                peer(progress(4 * MIB)),
                peer(progress(8 * MIB)),
                peer(received(0)),
                peer(received(1)),
            ],
        ),
        s(
            "sender-accept-twice",
            "A second accept answers no manifest: peer-misbehaved (§6).",
            vec![
                offer(manifest(vec![file("a.bin", 3)]), max),
                peer(msg("accept")),
                peer(msg("accept")),
            ],
        ),
    ]
}

// ---- Replay -------------------------------------------------------------------------------

/// A proof of key confirmation, from a real handshake: the engines take nothing less.
fn confirmed() -> PeerConfirmed {
    let case = "scenario";
    let init = party(case, "initiator");
    let resp = party(case, "responder");
    let secret = seed(&format!("{case} secret"));
    let link = PairingLink::new(PairingSecret::from_bytes(secret), init.identity.public());
    let initiator = InitiatorAwaitHello::start(
        PairingSecret::from_bytes(secret),
        init.identity,
        init.ephemeral,
        HandshakeNonce::from_bytes(init.nonce),
    );
    let (responder, hello_r) = ResponderAwaitHello::start(
        link,
        resp.identity,
        resp.ephemeral,
        HandshakeNonce::from_bytes(resp.nonce),
    );
    let (init_sdps, hello_i) = initiator.handle_hello(hello_r).unwrap();
    let resp_sdps = responder.handle_hello(hello_i).unwrap();
    let fp = |label: &str| {
        let hex: Vec<String> = seed(label).iter().map(|b| format!("{b:02X}")).collect();
        sdp_fingerprint(&format!("a=fingerprint:sha-256 {}\r\n", hex.join(":"))).unwrap()
    };
    let (offer, answer) = (fp("scenario offer"), fp("scenario answer"));
    let (init_confirm, _) = init_sdps.handle_sdps(&offer, &answer);
    let (_, confirm_r) = resp_sdps.handle_sdps(&offer, &answer);
    init_confirm.handle_confirm(&confirm_r).unwrap().proof()
}

/// The message an input names, checked to be written exactly as [`message_json`] writes it.
fn input_message(v: &Value) -> Message {
    let msg = message_from_json(v).unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(
        &message_json(&msg),
        v,
        "an input message in its canonical form"
    );
    msg
}

fn error(e: &TransferError) -> Value {
    json!({"error": e.code()})
}

fn send(msg: &Message) -> Value {
    json!({"send": message_json(msg)})
}

fn uint(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is an unsigned integer in {v}"))
}

fn receiver_event(ev: ReceiverEvent) -> Value {
    let ev = match ev {
        ReceiverEvent::Offered(m) => {
            json!({"type": "offered", "manifest": message_json(&Message::Manifest(m))})
        }
        ReceiverEvent::Resumed { index, offset } => {
            json!({"type": "resumed", "index": index, "offset": offset})
        }
        ReceiverEvent::Data { index, bytes } => {
            json!({"type": "data", "index": index, "data": hex::encode(bytes)})
        }
        ReceiverEvent::FileComplete { index } => json!({"type": "file-complete", "index": index}),
        ReceiverEvent::TransferComplete => json!({"type": "transfer-complete"}),
        ReceiverEvent::Cancelled => json!({"type": "cancelled"}),
    };
    json!({"event": ev})
}

fn sender_event(ev: SenderEvent) -> Value {
    let ev = match ev {
        SenderEvent::Accepted => json!({"type": "accepted"}),
        SenderEvent::ResumeRequested(claims) => json!({
            "type": "resume-requested",
            "resume": claims.iter().map(claim_json).collect::<Vec<_>>(),
        }),
        SenderEvent::Declined => json!({"type": "declined"}),
        SenderEvent::FileReceived { index } => json!({"type": "file-received", "index": index}),
        SenderEvent::TransferComplete => json!({"type": "transfer-complete"}),
        SenderEvent::Cancelled => json!({"type": "cancelled"}),
    };
    json!({"event": ev})
}

fn replay_receiver(proof: PeerConfirmed, steps: &[Value]) -> Vec<Vec<Value>> {
    let mut rx = Receiver::new(proof);
    steps
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            let sent = |out: &mut Vec<Value>, msg: Option<Message>| {
                out.extend(msg.as_ref().map(send));
            };
            if let Some(msg) = input.get("peer") {
                let is_final = match input.get("final") {
                    None => false,
                    Some(f) => f.as_bool().filter(|&f| f).expect("final is only ever true"),
                };
                if let Err(e) = rx.handle_message(input_message(msg), is_final) {
                    out.push(error(&e));
                }
            } else {
                match input["call"]
                    .as_str()
                    .expect("an input is a peer record or a call")
                {
                    "accept" => match input.get("resume") {
                        None => sent(&mut out, rx.accept()),
                        Some(claims) => {
                            let claims: Vec<ResumeClaim> =
                                serde_json::from_value(claims.clone()).unwrap();
                            match rx.accept_resume(claims) {
                                Ok(msg) => out.push(send(&msg)),
                                Err(e) => out.push(error(&e)),
                            }
                        }
                    },
                    "decline" => sent(&mut out, rx.decline()),
                    "cancel" => sent(&mut out, rx.cancel()),
                    "stored" => {
                        let n = usize::try_from(uint(input, "bytes")).unwrap();
                        sent(&mut out, rx.stored(n));
                    }
                    "closed" => {
                        if let Err(e) = rx.handle_close() {
                            out.push(error(&e));
                        }
                    }
                    "lanes" => rx.peer_uses_lanes(),
                    other => panic!("no receiver call {other}"),
                }
            }
            out.extend(std::iter::from_fn(|| rx.poll_event()).map(receiver_event));
            out
        })
        .collect()
}

fn replay_sender(proof: PeerConfirmed, steps: &[Value]) -> Vec<Vec<Value>> {
    let mut tx: Option<Sender> = None;
    steps
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            let was_done = tx.as_ref().is_some_and(Sender::is_done);
            if input["call"] == "offer" {
                assert!(
                    tx.is_none(),
                    "the offer is a sender scenario's first step only"
                );
                let Message::Manifest(manifest) = input_message(&input["manifest"]) else {
                    panic!("an offer takes a manifest");
                };
                let max_record = usize::try_from(uint(input, "max_record")).unwrap();
                let (sender, parts) = Sender::new(proof, manifest, max_record);
                out.extend(parts.iter().map(send));
                tx = Some(sender);
            } else {
                let tx = tx
                    .as_mut()
                    .expect("a sender scenario starts with its offer");
                if let Some(msg) = input.get("peer") {
                    assert!(input.get("final").is_none(), "no FINAL towards a sender");
                    if let Err(e) = tx.handle_message(input_message(msg)) {
                        out.push(error(&e));
                    }
                } else {
                    match input["call"]
                        .as_str()
                        .expect("an input is a peer record or a call")
                    {
                        "cancel" => out.extend(tx.cancel().as_ref().map(send)),
                        "resume" => {
                            let starts: Vec<ResumeStart> =
                                serde_json::from_value(input["files"].clone()).unwrap();
                            match tx.resume(starts) {
                                Ok(msg) => out.push(send(&msg)),
                                Err(e) => out.push(error(&e)),
                            }
                        }
                        "max_record" => {
                            tx.set_max_record(usize::try_from(uint(input, "max_record")).unwrap());
                        }
                        other => panic!("no sender call {other}"),
                    }
                }
            }
            let tx = tx
                .as_mut()
                .expect("a sender scenario starts with its offer");
            out.extend(std::iter::from_fn(|| tx.poll_event()).map(sender_event));
            // Chunks as runs: consecutive chunks of one file are one entry.
            let mut run: Option<Value> = None;
            while let Some(c) = tx.poll_chunk() {
                match &mut run {
                    Some(r) if r["index"] == c.index => {
                        r["bytes"] = json!(uint(r, "bytes") + c.len as u64);
                        r["count"] = json!(uint(r, "count") + 1);
                        r["final"] = json!(c.is_final);
                    }
                    _ => {
                        out.extend(run.take().map(|r| json!({"chunks": r})));
                        run = Some(json!({
                            "index": c.index, "offset": c.offset, "bytes": c.len,
                            "count": 1, "final": c.is_final,
                        }));
                    }
                }
            }
            out.extend(run.map(|r| json!({"chunks": r})));
            if !was_done && tx.is_done() {
                out.push(json!({"done": true}));
            }
            out
        })
        .collect()
}

#[test]
fn scenario_vectors() {
    let proof = confirmed();
    let scenarios: Vec<Scenario> = receiver_scenarios()
        .into_iter()
        .chain(sender_scenarios())
        .collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/scenarios");
    if std::env::var("PAIRWISE_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut names = BTreeSet::new();
    for sc in &scenarios {
        assert!(
            sc.name.starts_with(&format!("{}-", sc.engine.as_str())),
            "{}: named after its engine",
            sc.name
        );
        assert!(
            names.insert(format!("{}.json", sc.name)),
            "{}: twice",
            sc.name
        );
        let outs = match sc.engine {
            Engine::Receiver => replay_receiver(proof, &sc.steps),
            Engine::Sender => replay_sender(proof, &sc.steps),
        };
        let steps: Vec<Value> = sc
            .steps
            .iter()
            .zip(outs)
            .zip((0u64..).step_by(10))
            .map(|((input, out), at_ms)| json!({"at_ms": at_ms, "in": input, "out": out}))
            .collect();
        check_or_write(
            &format!("scenarios/{}.json", sc.name),
            &json!({"why": sc.why, "engine": sc.engine.as_str(), "steps": steps}),
        );
    }
    // The browser replays every file there: none may outlive its scenario.
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // session-* files are session_scenarios.rs's.
        .filter(|n| n.starts_with("receiver-") || n.starts_with("sender-"))
        .collect();
    let stale: Vec<&String> = on_disk.difference(&names).collect();
    assert!(
        stale.is_empty(),
        "scenario files without a scenario: {stale:?}"
    );
}
