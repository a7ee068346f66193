//! Shared test vectors in `testdata/vectors/*.json`.
//!
//! Each test builds its vector file from the implementation (deterministic keys from SHA-256 of
//! fixed strings), asserting on the way that every invalid case fails with the listed code.
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it reads the file and checks
//! that it is exactly what the implementation produces. `web/test` checks the same files.
//!
//! Over 400 lines on purpose: it is mostly tables of cases, one test per vector file, and keeping
//! every generator next to the shared helpers makes the whole vector set reviewable in one place.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use aes_gcm::aead::{Aead as _, KeyInit as _};
use pairwise_proto::b64;
use pairwise_proto::device::{DeviceInfo, DeviceName};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    DtlsFingerprint, InitiatorAwaitHello, PeerSignal, ResponderAwaitHello, TranscriptHash,
    sdp_fingerprint,
};
use pairwise_proto::identity::{HandshakeNonce, IdentitySecret, Ikm};
use pairwise_proto::keys::{KeySchedule, PairingSecret, RecordKey, SessionSalt};
use pairwise_proto::limits::{MAX_FILE_SIZE, MAX_MANIFEST_FILES, MAX_RECORD_BYTES};
use pairwise_proto::link::PairingLink;
use pairwise_proto::name::SafeName;
use pairwise_proto::record::{RecordOpener, RecordSealer};
use pairwise_proto::transfer::{
    FileEntry, Manifest, Message, ResumeClaim, ResumeStart, TransferId,
};
use serde_json::{Value, json};

use crate::common::{check_or_write, party, scalar, seed};

#[test]
fn link_vectors() {
    let mut valid = Vec::new();
    for case in ["link 1", "link 2"] {
        let identity = IdentitySecret::new(scalar(&format!("{case} identity"))).public();
        let secret = seed(&format!("{case} secret"));
        let link = PairingLink::new(PairingSecret::from_bytes(secret), identity.clone());
        let fragment = link.fragment();
        assert_eq!(PairingLink::parse_fragment(&fragment).unwrap(), link);
        valid.push(json!({
            "secret": hex::encode(secret),
            "identity_pub": hex::encode(identity.to_sec1()),
            "fragment": fragment,
            "room": link.room().as_str(),
        }));
    }

    let identity = IdentitySecret::new(scalar("link 1 identity"))
        .public()
        .to_sec1();
    let payload = |version: u8, key: &[u8]| {
        let mut p = vec![version];
        p.extend_from_slice(&seed("link 1 secret"));
        p.extend_from_slice(key);
        p
    };
    let good = payload(1, &identity);
    let frag = |p: &[u8]| format!("pair={}", b64::encode(p));
    let mut off_curve = identity;
    off_curve[64] ^= 0x01;
    let mut noncanonical = frag(&good);
    let last = noncanonical.pop().unwrap();
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let pos = ALPHABET.find(last).unwrap();
    noncanonical.push(char::from(ALPHABET.as_bytes()[pos ^ 1]));
    assert!(b64::decode(&noncanonical[5..]).is_err());
    let invalid = [
        ("pair=!!!!".to_owned(), "bad base64url characters"),
        (
            frag(&good).replace('-', "+").replace('_', "/") + "+",
            "standard base64 alphabet",
        ),
        (frag(&good) + "=", "padding"),
        (
            noncanonical,
            "non-canonical base64url: non-zero trailing bits",
        ),
        (frag(&good[..97]), "97 bytes: too short"),
        (
            frag(&[good.as_slice(), &[0]].concat()),
            "99 bytes: too long",
        ),
        (frag(&payload(2, &identity)), "version 2"),
        (frag(&payload(0, &identity)), "version 0"),
        (
            frag(&payload(1, &off_curve)),
            "public key is not a point on P-256",
        ),
        (frag(&payload(1, &[0u8; 65])), "public key is all zeros"),
        (
            frag(&payload(1, &[&[0x02u8][..], &identity[1..]].concat())),
            "public key prefix is not 0x04",
        ),
        (String::new(), "empty fragment"),
        (b64::encode(&good), "missing pair="),
        ("x=1".to_owned(), "missing pair="),
        (
            format!("{}&{}", frag(&good), frag(&good)),
            "two pair= parameters",
        ),
    ];
    let invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(fragment, why)| {
            let err = PairingLink::parse_fragment(&fragment).expect_err(why);
            assert_eq!(err.code(), ErrorCode::BadLink);
            json!({"fragment": fragment, "why": why})
        })
        .collect();
    check_or_write("link.json", &json!({"valid": valid, "invalid": invalid}));
}

fn handshake_case(name: &str, fp_offer: &DtlsFingerprint, fp_answer: &DtlsFingerprint) -> Value {
    let secret = seed(&format!("{name} secret"));
    let init = party(name, "initiator");
    let resp = party(name, "responder");
    let (init_json, resp_json) = (init.json.clone(), resp.json.clone());
    let link = PairingLink::new(PairingSecret::from_bytes(secret), init.identity.public());
    let ikm = Ikm::compute(
        &init.ephemeral,
        &resp.ephemeral.public(),
        &init.identity,
        &resp.identity.public(),
    );

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
    let hello_r_json = PeerSignal::Hello(hello_r.clone()).to_value();
    let (init_sdps, hello_i) = initiator.handle_hello(hello_r.clone()).unwrap();
    let hello_i_json = PeerSignal::Hello(hello_i.clone()).to_value();
    let resp_sdps = responder.handle_hello(hello_i.clone()).unwrap();
    let th = TranscriptHash::compute(&hello_i, &hello_r, fp_offer, fp_answer);
    let keys = KeySchedule::derive(
        &ikm,
        &SessionSalt::Pairing(PairingSecret::from_bytes(secret)),
        &th,
    );
    let (init_confirm, confirm_i) = init_sdps.handle_sdps(fp_offer, fp_answer);
    let (resp_confirm, confirm_r) = resp_sdps.handle_sdps(fp_offer, fp_answer);
    assert_eq!(init_confirm.transcript_hash(), &th);
    let init_session = init_confirm.handle_confirm(&confirm_r).unwrap();
    let resp_session = resp_confirm.handle_confirm(&confirm_i).unwrap();
    assert_eq!(init_session.sas(), resp_session.sas());
    assert_eq!(init_session.sas(), &keys.sas);
    assert_eq!(init_session.pairing_key(), resp_session.pairing_key());

    // The bodies parse back to what was sent.
    assert_eq!(
        PeerSignal::parse(&hello_i_json).unwrap(),
        PeerSignal::Hello(hello_i)
    );
    let confirm_i_json = PeerSignal::Confirm(confirm_i).to_value();
    let confirm_r_json = PeerSignal::Confirm(confirm_r).to_value();
    assert_eq!(
        PeerSignal::parse(&confirm_r_json).unwrap(),
        PeerSignal::Confirm(confirm_r)
    );

    json!({
        "name": name,
        "secret": hex::encode(secret),
        "initiator": init_json,
        "responder": resp_json,
        "fp_offer": fp_offer.as_str(),
        "fp_answer": fp_answer.as_str(),
        "hello_initiator": hello_i_json,
        "hello_responder": hello_r_json,
        "ikm": hex::encode(ikm.as_bytes()),
        "transcript_hash": hex::encode(th.as_bytes()),
        "keys": {
            "confirm_initiator": hex::encode(keys.confirm_initiator.as_bytes()),
            "confirm_responder": hex::encode(keys.confirm_responder.as_bytes()),
            "record_initiator": hex::encode(keys.record_initiator.as_bytes()),
            "record_responder": hex::encode(keys.record_responder.as_bytes()),
            "pairing_key": hex::encode(keys.pairing_key.as_bytes()),
            "sas_bytes": hex::encode(keys.sas.as_bytes()),
        },
        "sas": keys.sas.digits(),
        "confirm_initiator": confirm_i_json,
        "confirm_responder": confirm_r_json,
    })
}

#[test]
fn handshake_vectors() {
    let fp = |label: &str| {
        let hex: Vec<String> = seed(label).iter().map(|b| format!("{b:02X}")).collect();
        sdp_fingerprint(&format!("a=fingerprint:sha-256 {}\r\n", hex.join(":"))).unwrap()
    };
    let cases = vec![
        handshake_case(
            "handshake 1",
            &fp("handshake 1 offer"),
            &fp("handshake 1 answer"),
        ),
        handshake_case(
            "handshake 2 (fingerprints from sdp.json)",
            &sdp_fingerprint(CHROMIUM_OFFER).unwrap(),
            &sdp_fingerprint(FIREFOX_ANSWER).unwrap(),
        ),
    ];
    check_or_write("handshake.json", &Value::Array(cases));
}

const CHROMIUM_OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Lq2b\r\n\
a=ice-pwd:u8Xr1qLQ7PKR0cTXoRb+7y1m\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";

const FIREFOX_ANSWER: &str = "v=0\r\n\
o=mozilla...THIS_IS_SDPARTA-99.0 2716195484412846066 0 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=fingerprint:SHA-256 0d:4A:9c:17:E3:85:2f:61:B0:9E:4c:D2:71:aa:03:5F:C8:1e:92:B4:6d:37:F0:c5:28:9A:e1:44:7B:0f:D6:33\r\n\
a=group:BUNDLE 0\r\n\
a=ice-options:trickle\r\n\
a=msid-semantic:WMS *\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=sendrecv\r\n\
a=ice-pwd:1f0d6bd0d1b0c8a7f3e9b2c4d5e6f708\r\n\
a=ice-ufrag:9c2a41e7\r\n\
a=mid:0\r\n\
a=setup:active\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:1073741823\r\n";

#[test]
fn sdp_vectors() {
    let valid_sdps = [
        CHROMIUM_OFFER.to_owned(),
        FIREFOX_ANSWER.to_owned(),
        // LF line endings, two fingerprints: the first line wins.
        "v=0\n\
a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n\
a=fingerprint:sha-256 AB:CD\n"
            .to_owned(),
        // Trailing spaces after the value are ignored.
        "v=0\r\na=fingerprint:Sha-512 ab:cd:ef  \r\n".to_owned(),
    ];
    let valid: Vec<Value> = valid_sdps
        .iter()
        .map(|sdp| json!({"sdp": sdp, "fingerprint": sdp_fingerprint(sdp).unwrap().as_str()}))
        .collect();
    let invalid = [
        (
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
            "no a=fingerprint line",
        ),
        (
            "v=0\r\n a=fingerprint:sha-256 AB:CD\r\n",
            "indented line does not count",
        ),
        ("v=0\r\na=fingerprint:sha-256\r\n", "no value"),
        ("v=0\r\na=fingerprint:sha-256 \r\n", "empty value"),
        (
            "v=0\r\na=fingerprint: sha-256 AB:CD\r\n",
            "space before the algorithm",
        ),
        ("v=0\r\na=fingerprint:sha-256  AB:CD\r\n", "two spaces"),
        ("v=0\r\na=fingerprint:sha-256 AB:CD:\r\n", "trailing colon"),
        ("v=0\r\na=fingerprint:sha-256 A:BC\r\n", "one-digit group"),
        ("v=0\r\na=fingerprint:sha-256 ZZ:CD\r\n", "not hex"),
        (
            "v=0\r\na=fingerprint:sha_256 AB:CD\r\n",
            "bad algorithm character",
        ),
        (
            "v=0\r\na=fingerprint:sha-256 AB:CD\r\na=fingerprint:sha-256 ZZ\r\n\
             a=fingerprint:sha-256 AB\r\n",
            "first line is fine, so this one is valid",
        ),
    ];
    let invalid: Vec<Value> = invalid
        .into_iter()
        .filter(|(sdp, why)| {
            if why.starts_with("first line") {
                assert!(sdp_fingerprint(sdp).is_ok());
                false
            } else {
                let err = sdp_fingerprint(sdp).expect_err(why);
                assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
                true
            }
        })
        .map(|(sdp, why)| json!({"sdp": sdp, "why": why}))
        .collect();
    check_or_write("sdp.json", &json!({"valid": valid, "invalid": invalid}));
}

/// AES-256-GCM of `plaintext` with the record nonce for `seq` and no AAD, independently of
/// [`RecordSealer`].
fn gcm_raw(key: &[u8; 32], seq: u64, plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes256Gcm::new(&(*key).into());
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&seq.to_be_bytes());
    cipher.encrypt(&nonce.into(), plaintext).unwrap()
}

/// A record built by hand: `AES-256-GCM(plaintext = flags || inner)`.
fn seal_raw(key: &[u8; 32], seq: u64, flags: u8, inner: &[u8]) -> Vec<u8> {
    gcm_raw(key, seq, &[&[flags][..], inner].concat())
}

/// A record sealed by [`RecordSealer`] with any flags byte, including unknown bits.
fn seal_flags(key: &[u8; 32], seq: u64, flags: u8, inner: &[u8]) -> Vec<u8> {
    let record = RecordSealer::new(RecordKey::from_bytes(*key), MAX_RECORD_BYTES)
        .danger_with_seq(seq)
        .danger_seal_with_flags(inner, flags)
        .unwrap();
    assert_eq!(record, seal_raw(key, seq, flags, inner));
    record
}

#[test]
fn record_vectors() {
    let key = seed("record key 1");
    let other = seed("record key 2");
    let manifest = Message::Manifest(sample_manifest()).encode();
    let cases: [(u64, bool, Vec<u8>); 6] = [
        (0, false, vec![0x02]),
        (1, false, manifest),
        (2, true, vec![0x04]),
        (7, true, b"\x04hello".to_vec()),
        (3, false, [&[0x04u8][..], &[0xa5; 300]].concat()),
        ((1 << 32) + 1, false, vec![0x06]),
    ];
    let valid: Vec<Value> = cases
        .into_iter()
        .map(|(seq, is_final, inner)| {
            let mut sealer = RecordSealer::new(RecordKey::from_bytes(key), MAX_RECORD_BYTES)
                .danger_with_seq(seq);
            let record = sealer.seal(&inner, is_final).unwrap();
            assert_eq!(record, seal_raw(&key, seq, u8::from(is_final), &inner));
            let opened = RecordOpener::new(RecordKey::from_bytes(key))
                .with_seq(seq)
                .open(&record)
                .unwrap();
            assert_eq!(
                (opened.inner.as_slice(), opened.is_final),
                (&inner[..], is_final)
            );
            json!({"key": hex::encode(key), "seq": seq, "flags": u8::from(is_final),
                   "inner": hex::encode(&inner), "record": hex::encode(&record)})
        })
        .collect();

    let good = seal_raw(&key, 5, 0, b"\x04chunk");
    let flip = |i: usize| {
        let mut r = good.clone();
        r[i] ^= 0x01;
        r
    };
    let rejected = [
        (5, flip(1), "ciphertext byte flipped"),
        (5, flip(good.len() - 1), "tag byte flipped"),
        (
            5,
            flip(0),
            "encrypted flags byte flipped (FINAL set after sealing)",
        ),
        (
            4,
            good.clone(),
            "expected seq 4 (record sealed at 5: dropped record)",
        ),
        (
            6,
            good.clone(),
            "expected seq 6 (record sealed at 5: replay)",
        ),
        (
            5,
            seal_raw(&other, 5, 0, b"\x04chunk"),
            "sealed with another key",
        ),
        (
            5,
            seal_flags(&key, 5, 0x02, b"\x04chunk"),
            "unknown flag bit 0x02, validly sealed",
        ),
        (
            5,
            seal_flags(&key, 5, 0x81, b"\x04chunk"),
            "unknown flag bit 0x80, validly sealed",
        ),
        (5, good[..good.len() - 6].to_vec(), "truncated"),
        (
            5,
            good[..16].to_vec(),
            "16 bytes: shorter than flags and tag",
        ),
        (
            5,
            gcm_raw(&key, 5, &[]),
            "16 bytes: empty plaintext (no flags byte), validly sealed",
        ),
        (5, Vec::new(), "empty"),
        (
            5,
            vec![0; MAX_RECORD_BYTES + 1],
            "262145 bytes: larger than MAX_RECORD_BYTES",
        ),
    ];
    let rejected: Vec<Value> = rejected
        .into_iter()
        .map(|(seq, record, why)| {
            let err = RecordOpener::new(RecordKey::from_bytes(key))
                .with_seq(seq)
                .open(&record)
                .expect_err(why);
            assert_eq!(err.code(), ErrorCode::RecordRejected);
            json!({"key": hex::encode(key), "seq": seq, "record": hex::encode(&record), "why": why})
        })
        .collect();
    check_or_write(
        "records.json",
        &json!({"valid": valid, "rejected": rejected}),
    );
}

fn sample_manifest() -> Manifest {
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

fn device(name: &str) -> Message {
    Message::Device(DeviceInfo {
        name: DeviceName::parse(name).unwrap(),
    })
}

fn message_json(msg: &Message) -> Value {
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
            json!({"type": "accept", "resume": claims.iter().map(|c| json!({
            "index": c.index, "offset": c.offset, "proof": b64::encode(&c.proof)
        })).collect::<Vec<_>>()})
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
    }
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
    ]
    .into_iter()
    .chain(large_offer_parts())
    .collect::<Vec<_>>();
    let valid: Vec<Value> = messages
        .iter()
        .map(|msg| {
            let inner = msg.encode();
            assert_eq!(&Message::decode(&inner).unwrap(), msg);
            json!({"message": message_json(msg), "inner": hex::encode(&inner)})
        })
        .collect();

    let manifest = |json: &str| [&[0x01u8][..], json.as_bytes()].concat();
    let dev = |json: &str| [&[0x07u8][..], json.as_bytes()].concat();
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
    let invalid: Vec<Value> = invalid
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
    check_or_write(
        "transfer.json",
        &json!({"valid": valid, "invalid": invalid}),
    );
}

#[test]
fn name_vectors() {
    let valid = [
        "a",
        "a.txt",
        "résumé.pdf",
        "日本.txt",
        ".hidden",
        "a..b",
        "name with spaces.txt",
        "emoji 🎉.png",
        "console.log",
        "COM10",
        "LPT0",
        "CONSOLE",
        "x.CON",
        "con_backup",
    ];
    let long = "a".repeat(255);
    let multibyte_ok = "é".repeat(127) + "a";
    assert_eq!(multibyte_ok.len(), 255);
    let mut valid: Vec<String> = valid.iter().map(|s| (*s).to_owned()).collect();
    valid.extend([long.clone(), multibyte_ok.clone()]);
    for name in &valid {
        assert_eq!(SafeName::parse(name).unwrap().as_str(), name);
    }
    let invalid = [
        (String::new(), "empty"),
        ("../x".to_owned(), "parent path"),
        ("/etc/passwd".to_owned(), "absolute path"),
        ("a/b".to_owned(), "slash"),
        ("a\\b".to_owned(), "backslash"),
        ("C:\\x".to_owned(), "drive and backslash"),
        ("C:x".to_owned(), "drive prefix"),
        ("a:b".to_owned(), "colon (alternate data stream)"),
        (".".to_owned(), "dot"),
        ("..".to_owned(), "dot dot"),
        ("a.".to_owned(), "trailing dot"),
        ("a ".to_owned(), "trailing space"),
        ("a\u{0}b".to_owned(), "NUL"),
        ("a\nb".to_owned(), "newline"),
        ("a\u{1f}b".to_owned(), "U+001F"),
        ("a\u{7f}b".to_owned(), "DEL"),
        ("a\u{85}b".to_owned(), "U+0085 (C1 control)"),
        ("a\u{9f}b".to_owned(), "U+009F (C1 control)"),
        ("con".to_owned(), "reserved, lowercase"),
        ("CON".to_owned(), "reserved"),
        ("CON.txt".to_owned(), "reserved with extension"),
        ("nul.tar.gz".to_owned(), "reserved with two extensions"),
        ("Aux".to_owned(), "reserved, mixed case"),
        ("prn.x".to_owned(), "reserved prn"),
        ("com1".to_owned(), "reserved com1"),
        ("COM9.log".to_owned(), "reserved COM9"),
        ("lpt1".to_owned(), "reserved lpt1"),
        ("LPT9".to_owned(), "reserved LPT9"),
        ("a".repeat(256), "256 bytes"),
        ("é".repeat(128), "256 bytes in 128 characters"),
    ];
    let invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(name, why)| {
            let err = SafeName::parse(&name).expect_err(why);
            assert_eq!(err.code(), ErrorCode::BadName);
            json!({"name": name, "why": why})
        })
        .collect();
    check_or_write("names.json", &json!({"valid": valid, "invalid": invalid}));
}

#[test]
fn error_vectors() {
    let all: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|code| json!({"code": code, "sentence": code.sentence()}))
        .collect();
    check_or_write("errors.json", &Value::Array(all));
}
