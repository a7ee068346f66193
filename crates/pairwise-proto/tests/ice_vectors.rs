//! `testdata/vectors/ice.json`: which ICE servers of a `joined` frame a client uses (§4.1).
//! Built from the implementation and compared with the file (or written with
//! `PAIRWISE_WRITE_VECTORS=1`); `web/test/ice.test.js` checks the same file.

mod common;

use pairwise_proto::limits::{MAX_ICE_SERVERS, MAX_ICE_URL_BYTES, MAX_ICE_URLS};
use pairwise_proto::signal::ice_from_value;
use serde_json::{Value, json};

use crate::common::check_or_write;

#[test]
fn ice_vectors() {
    let stun = json!({"urls": ["stun:203.0.113.1:3478"]});
    let turn = json!({"urls": ["turn:203.0.113.1:3478?transport=udp", "turns:203.0.113.1:443?transport=tcp"],
                      "username": "1700000000:abc", "credential": "g5HTmCBrPDhYXFpM/1dHUtfE+c4="});
    let long = format!("stun:{}", "h".repeat(MAX_ICE_URL_BYTES - 5 + 1));
    let at_cap = format!("stun:{}", "h".repeat(MAX_ICE_URL_BYTES - 5));
    let many: Vec<Value> = (0..MAX_ICE_SERVERS + 2)
        .map(|i| json!({"urls": [format!("stun:198.51.100.{i}:3478")]}))
        .collect();
    let cases: Vec<(&str, Value)> = vec![
        ("stun and turn", json!([stun, turn])),
        ("absent list is not an array", json!(null)),
        ("not an array", json!({"urls": ["stun:x"]})),
        (
            "turn without credentials",
            json!([{"urls": ["turn:203.0.113.1:3478"]}, stun]),
        ),
        (
            "unknown scheme",
            json!([{"urls": ["http://203.0.113.1/"]}, stun]),
        ),
        (
            "unknown field",
            json!([{"urls": ["stun:x"], "credentialType": "password"}, stun]),
        ),
        (
            "null fields count as absent",
            json!([{"urls": ["stun:x"], "username": null, "credential": null}]),
        ),
        (
            "stun with a user name only",
            json!([{"urls": ["stun:x"], "username": "u"}]),
        ),
        ("empty urls", json!([{"urls": []}, stun])),
        ("urls not a list", json!([{"urls": "stun:x"}, stun])),
        ("entry not an object", json!(["stun:x", 7, stun])),
        ("url at the cap", json!([{"urls": [at_cap]}])),
        ("url past the cap", json!([{"urls": [long]}, stun])),
        (
            "too many urls",
            json!([{"urls": vec!["stun:x"; MAX_ICE_URLS + 1]}, stun]),
        ),
        (
            "urls at the cap",
            json!([{"urls": vec!["stun:x"; MAX_ICE_URLS]}]),
        ),
        ("more entries than the cap", Value::Array(many)),
    ];
    let vectors: Vec<Value> = cases
        .into_iter()
        .map(|(why, ice)| {
            let usable = serde_json::to_value(ice_from_value(&ice)).unwrap_or_default();
            json!({"why": why, "ice": ice, "usable": usable})
        })
        .collect();
    assert_eq!(vectors[0]["usable"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        vectors
            .last()
            .and_then(|v| v["usable"].as_array())
            .map(Vec::len),
        Some(MAX_ICE_SERVERS)
    );
    check_or_write("ice.json", &Value::Array(vectors));
}
