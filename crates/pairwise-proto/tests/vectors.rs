//! Shared test vectors in `testdata/vectors/*.json`: the pairing link, the handshake and SDP fingerprints
//! (records, transfer messages, names and errors have their own files).
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

use pairwise_proto::b64;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    DtlsFingerprint, InitiatorAwaitHello, PeerSignal, ResponderAwaitHello, TranscriptHash,
    sdp_fingerprint,
};
use pairwise_proto::identity::{HandshakeNonce, IdentitySecret, Ikm, PublicKey};
use pairwise_proto::keys::{KeySchedule, PairingSecret, SessionSalt};
use pairwise_proto::link::PairingLink;
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
        let fragment_v1 = link.fragment_v1();
        assert_eq!(PairingLink::parse_fragment(&fragment).unwrap(), link);
        assert_eq!(PairingLink::parse_fragment(&fragment_v1).unwrap(), link);
        valid.push(json!({
            "secret": hex::encode(secret),
            "identity_pub": hex::encode(identity.to_sec1()),
            "fragment": fragment,
            "fragment_v1": fragment_v1,
            "room": link.room().as_str(),
        }));
    }

    let identity = IdentitySecret::new(scalar("link 1 identity")).public();
    let (full, compressed) = (identity.to_sec1(), identity.to_sec1_compressed());
    let payload = |version: u8, key: &[u8]| {
        let mut p = vec![version];
        p.extend_from_slice(&seed("link 1 secret"));
        p.extend_from_slice(key);
        p
    };
    let good = payload(2, &compressed);
    let good_v1 = payload(1, &full);
    let frag = |p: &[u8]| format!("pair={}", b64::encode(p));
    let mut off_curve = full;
    off_curve[64] ^= 0x01;
    // 66 bytes are 88 characters with no spare bits, so the non-canonical case is a version 1
    // payload (98 bytes leave 2 spare bits in the last character).
    let mut noncanonical = frag(&good_v1);
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
        ("pair=".to_owned(), "empty payload"),
        (frag(&good[..65]), "version 2, 65 bytes: too short"),
        (
            frag(&[good.as_slice(), &[0]].concat()),
            "version 2, 67 bytes: too long",
        ),
        (frag(&good_v1[..97]), "version 1, 97 bytes: too short"),
        (
            frag(&[good_v1.as_slice(), &[0]].concat()),
            "version 1, 99 bytes: too long",
        ),
        (
            frag(&payload(2, &full)),
            "version 2 with an uncompressed key: 98 bytes",
        ),
        (
            frag(&payload(1, &compressed)),
            "version 1 with a compressed key: 66 bytes",
        ),
        (frag(&payload(3, &compressed)), "version 3"),
        (frag(&payload(0, &compressed)), "version 0"),
        (
            frag(&payload(2, &not_on_curve_x())),
            "version 2: no point on P-256 has this X",
        ),
        (
            frag(&payload(2, &[&[0x02u8][..], &[0xff; 32]].concat())),
            "version 2: X is not below the field prime",
        ),
        (
            frag(&payload(2, &[&[0x04u8][..], &compressed[1..]].concat())),
            "version 2: key prefix is not 0x02 or 0x03",
        ),
        (
            frag(&payload(1, &off_curve)),
            "version 1: public key is not a point on P-256",
        ),
        (
            frag(&payload(1, &[0u8; 65])),
            "version 1: public key is all zeros",
        ),
        (
            frag(&payload(1, &[&[0x02u8][..], &full[1..]].concat())),
            "version 1: public key prefix is not 0x04",
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

/// A compressed key (prefix 0x02) whose X has no Y on P-256: x³ − 3x + b is not a square.
fn not_on_curve_x() -> Vec<u8> {
    let mut key = vec![0x02u8];
    key.extend_from_slice(&seed("link: no point has this x"));
    while PublicKey::from_sec1_compressed(&key).is_ok() {
        key[32] = key[32].wrapping_add(1);
    }
    key
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
