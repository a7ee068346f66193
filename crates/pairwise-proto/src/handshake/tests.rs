use serde_json::json;

use super::*;
use crate::identity::{EphemeralSecret, IdentitySecret};

fn key(byte: u8) -> PublicKey {
    IdentitySecret::new(p256::SecretKey::from_slice(&[byte; 32]).unwrap()).public()
}

fn hello_json() -> serde_json::Value {
    json!({
        "kind": "hello",
        "v": 1,
        "role": "initiator",
        "identity": String::from(key(1)),
        "ephemeral": String::from(key(2)),
        "nonce": b64::encode(&[3; 32]),
    })
}

#[test]
fn hello_parses_and_round_trips() {
    let body = hello_json();
    let parsed = PeerSignal::parse(&body).unwrap();
    let PeerSignal::Hello(hello) = &parsed else {
        panic!("not a hello");
    };
    assert_eq!(hello.role, Role::Initiator);
    assert_eq!(parsed.to_value(), body);
}

#[test]
fn hello_with_bad_fields_is_malformed() {
    let cases: [(&str, serde_json::Value); 7] = [
        ("v", json!(2)),
        ("role", json!("observer")),
        ("identity", json!(b64::encode(&[4; 65]))),
        ("ephemeral", json!("not base64!")),
        ("nonce", json!(b64::encode(&[3; 31]))),
        ("nonce", json!(b64::encode(&[3; 33]))),
        ("extra", json!(1)),
    ];
    for (field, value) in cases {
        let mut body = hello_json();
        body[field] = value;
        let err = PeerSignal::parse(&body).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PeerMisbehaved, "{field}");
    }
    let mut body = hello_json();
    body.as_object_mut().unwrap().remove("nonce");
    assert!(PeerSignal::parse(&body).is_err());
}

#[test]
fn other_bodies_parse_strictly() {
    let ok = [
        json!({"kind":"offer","sdp":"v=0"}),
        json!({"kind":"answer","sdp":"v=0"}),
        json!({"kind":"candidate","candidate":null}),
        json!({"kind":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}}),
        json!({"kind":"confirm","mac":b64::encode(&[0; 32])}),
    ];
    for body in ok {
        assert_eq!(PeerSignal::parse(&body).unwrap().to_value(), body);
    }
    let bad = [
        json!({"kind":"offer"}),
        json!({"kind":"offer","sdp":"v=0","x":1}),
        json!({"kind":"candidate"}),
        json!({"kind":"candidate","candidate":"candidate:1"}),
        json!({"kind":"candidate","candidate":[]}),
        json!({"kind":"candidate","candidate":{"sdpMid":"0"}}),
        json!({"kind":"candidate","candidate":null,"sdpMid":"0"}),
        json!({"kind":"confirm","mac":b64::encode(&[0; 31])}),
        json!({"kind":"confirm","mac":b64::encode(&[0; 32]),"x":1}),
        json!({"kind":"bye"}),
        json!("hello"),
    ];
    for body in bad {
        assert!(PeerSignal::parse(&body).is_err(), "{body}");
    }
}

#[test]
fn fingerprint_is_normalised() {
    let fp = sdp_fingerprint("v=0\r\na=fingerprint:SHA-256 ab:Cd\r\n").unwrap();
    assert_eq!(fp.as_str(), "sha-256 AB:CD");
    assert_eq!(sdp_fingerprint("v=0\r\n"), Err(BadSdp::NoFingerprint));
}

#[test]
fn hello_from_the_wrong_role_is_refused() {
    let secret = |b| p256::SecretKey::from_slice(&[b; 32]).unwrap();
    let init = InitiatorAwaitHello::start(
        crate::keys::PairingSecret::from_bytes([0; 32]),
        IdentitySecret::new(secret(1)),
        EphemeralSecret::new(secret(2)),
        HandshakeNonce::from_bytes([0; 32]),
    );
    let hello = Hello {
        v: V1,
        role: Role::Initiator,
        identity: key(3),
        ephemeral: key(4),
        nonce: HandshakeNonce::from_bytes([1; 32]),
    };
    let err = init.handle_hello(hello).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::UnexpectedRole {
            expected: Role::Responder,
            got: Role::Initiator
        }
    );
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
}
