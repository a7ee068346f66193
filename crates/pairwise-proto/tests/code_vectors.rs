//! Shared test vectors `testdata/vectors/code.json`: pairing by code (`docs/protocol.md` §2.1).
//!
//! - `codes`: random bytes to a code (rejection sampling), typed text to a code or `bad-code`,
//!   a code to its room;
//! - `exchange`: two full exchanges from fixed keys, every body, the commitment, `th_c`, the
//!   number and the secret `s`;
//! - `refused`: bodies one side must refuse at a given point, with the error code, and
//!   `ignored`: repeats it must ignore.
//!
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it checks the file is exactly
//! what the implementation produces. `web/test` replays it against the page's code exchange.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

mod common;

use pairwise_proto::b64;
use pairwise_proto::code::{
    CodeBody, CodeExchange, CodeTranscript, Commitment, PairingCode, code_secrets,
};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::identity::{HandshakeNonce, IdentitySecret};
use pairwise_proto::signal::ServerToClient;
use serde_json::{Value, json};

use crate::common::{check_or_write, party, scalar, seed};

fn codes() -> Value {
    let u32s = |vals: &[u32]| -> Vec<u8> { vals.iter().flat_map(|v| v.to_be_bytes()).collect() };
    let random_cases: Vec<(Vec<u8>, &str)> = vec![
        (u32s(&[48_219_377]), "below 10^8: the value itself"),
        (u32s(&[0]), "zero: all digits zero-padded"),
        (u32s(&[148_219_377]), "taken: the value mod 10^8"),
        (u32s(&[4_199_999_999]), "the largest value taken"),
        (
            u32s(&[4_200_000_000, 12_345]),
            "the smallest value skipped, then the next 4 bytes",
        ),
        (u32s(&[u32::MAX, 4_250_000_000, 7]), "two skipped"),
        (u32s(&[u32::MAX]), "all skipped: no code, draw again"),
        (vec![0, 0, 1], "fewer than 4 bytes: no code"),
        (
            vec![0, 0, 0, 1, 0xff],
            "trailing bytes after a taken value are unused",
        ),
        (seed("code random 1").to_vec(), "32 random bytes"),
        (seed("code random 2").to_vec(), "32 random bytes"),
    ];
    let random: Vec<Value> = random_cases
        .into_iter()
        .map(|(bytes, why)| {
            let code = PairingCode::from_random(&bytes).map(|c| c.to_string());
            json!({"random": hex::encode(&bytes), "code": code, "why": why})
        })
        .collect();
    let typed_cases = [
        ("48219377", "eight digits"),
        ("4821 9377", "as shown"),
        ("4821-9377", "a dash"),
        (
            " 48 21-93 77 ",
            "spaces and dashes anywhere, also at the ends",
        ),
        ("4821--9377", "two dashes"),
        ("00000000", "all zeros"),
        ("4821937", "7 digits"),
        ("482193770", "9 digits"),
        ("4821 937a", "a letter"),
        ("4821_9377", "an underscore"),
        ("4821.9377", "a dot"),
        ("4821\t9377", "a tab"),
        ("4821\u{a0}9377", "a no-break space"),
        (
            "\u{ff14}\u{ff18}\u{ff12}\u{ff11}\u{ff19}\u{ff13}\u{ff17}\u{ff17}",
            "full-width digits",
        ),
        (
            "\u{664}\u{668}\u{662}\u{661}\u{669}\u{663}\u{667}\u{667}",
            "Arabic-Indic digits",
        ),
        ("+48219377", "a plus sign"),
        ("", "empty"),
        (" - ", "only separators"),
    ];
    let typed: Vec<Value> = typed_cases
        .into_iter()
        .map(|(text, why)| match PairingCode::parse(text) {
            Ok(code) => json!({"typed": text, "code": code.digits(), "why": why}),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::BadCode);
                json!({"typed": text, "error": e.code(), "why": why})
            }
        })
        .collect();
    let rooms: Vec<Value> = ["48219377", "00000000", "99999999", "12345678"]
        .into_iter()
        .map(|c| {
            let code = PairingCode::parse(c).unwrap();
            json!({"code": code.digits(), "shown": code.to_string(), "room": code.room().as_str()})
        })
        .collect();
    json!({"random": random, "typed": typed, "rooms": rooms})
}

fn joined(peers: usize) -> ServerToClient {
    ServerToClient::Joined {
        peers,
        ice: Vec::new(),
    }
}

/// The two sides of case `name`, joined (the initiator has queued its commit).
fn sides(name: &str) -> (CodeExchange, CodeExchange) {
    let (init, resp) = (party(name, "initiator"), party(name, "responder"));
    let mut i = CodeExchange::initiator(
        init.identity.public(),
        init.ephemeral,
        HandshakeNonce::from_bytes(init.nonce),
    );
    let mut r = CodeExchange::responder(resp.ephemeral, HandshakeNonce::from_bytes(resp.nonce));
    i.handle_server(0, &joined(2));
    r.handle_server(0, &joined(2));
    (i, r)
}

fn send(ex: &mut CodeExchange) -> CodeBody {
    let body = ex.poll_send().expect("a body to send");
    assert!(ex.poll_send().is_none());
    body
}

fn text(body: &CodeBody) -> String {
    serde_json::to_string(body).unwrap()
}

fn exchange(name: &str) -> Value {
    let code = PairingCode::from_random(&seed(&format!("{name} code"))).unwrap();
    let (init, resp) = (party(name, "initiator"), party(name, "responder"));
    let identity = init.identity.public();
    let (e_i, e_r) = (init.ephemeral.public(), resp.ephemeral.public());
    let (n_i, n_r) = (
        HandshakeNonce::from_bytes(init.nonce),
        HandshakeNonce::from_bytes(resp.nonce),
    );
    let (mut i, mut r) = sides(name);
    let commit_body = send(&mut i);
    r.handle_body(0, &commit_body.to_value());
    let key_body = send(&mut r);
    i.handle_body(0, &key_body.to_value());
    let open_body = send(&mut i);
    r.handle_body(0, &open_body.to_value());
    assert_eq!(i.number(), r.number());
    i.handle_answer(true);
    let match_body = send(&mut i);
    r.handle_answer(true);
    assert!(r.poll_outcome().is_none());
    r.handle_body(0, &match_body.to_value());
    let (link_i, link_r) = (
        i.poll_outcome().unwrap().unwrap(),
        r.poll_outcome().unwrap().unwrap(),
    );
    assert_eq!(link_i, link_r);

    // The same values, computed step by step as a checker would.
    let commit = Commitment::compute(&e_i, &n_i, &identity);
    assert_eq!(commit_body, CodeBody::CodeCommit { commit });
    let th = CodeTranscript::compute(&commit, &e_i, &n_i, &identity, &e_r, &n_r);
    let (number, secret) = code_secrets(&init.ephemeral, &e_r, &th);
    assert_eq!(Some(number), i.number());
    assert_eq!(&secret, link_r.secret());
    let ecdh = ecdh(name);
    for (b, t) in [
        (&commit_body, "code-commit"),
        (&key_body, "code-key"),
        (&open_body, "code-open"),
        (&match_body, "code-match"),
    ] {
        assert_eq!(b.kind(), t);
        assert_eq!(CodeBody::parse(&b.to_value()).unwrap(), *b);
    }
    json!({
        "name": name,
        "code": code.digits(),
        "room": code.room().as_str(),
        "initiator": init.json,
        "responder": resp.json,
        "bodies": {
            "code_commit": text(&commit_body),
            "code_key": text(&key_body),
            "code_open": text(&open_body),
            "code_match": text(&match_body),
        },
        "commit": hex::encode(commit.as_bytes()),
        "ecdh": hex::encode(ecdh),
        "th_c": hex::encode(th.as_bytes()),
        "number": number.digits(),
        "number_shown": number.to_string(),
        "secret": hex::encode(secret.as_bytes()),
        "identity_pub": hex::encode(identity.to_sec1()),
    })
}

/// `ECDH(E_i, E_r)` through the public p256 API, independent of the crate's own.
fn ecdh(name: &str) -> [u8; 32] {
    let e_i = scalar(&format!("{name} initiator ephemeral"));
    let e_r = scalar(&format!("{name} responder ephemeral"));
    let shared = p256::ecdh::diffie_hellman(e_i.to_nonzero_scalar(), e_r.public_key().as_affine());
    (*shared.raw_secret_bytes()).into()
}

const CASE: &str = "code 1";

/// The bodies of [`CASE`]'s exchange, as JSON values.
fn case_bodies() -> [Value; 4] {
    let (mut i, mut r) = sides(CASE);
    let commit = send(&mut i).to_value();
    r.handle_body(0, &commit);
    let key = send(&mut r).to_value();
    i.handle_body(0, &key);
    let open = send(&mut i).to_value();
    [commit, key, open, json!({"kind": "code-match"})]
}

/// Runs `side` of [`CASE`] through `before`, then gives it `body`: the error code, or `None`
/// if it carried on.
fn outcome(side: &str, before: &[Value], body: &Value) -> Option<ErrorCode> {
    let (mut i, mut r) = sides(CASE);
    let ex = if side == "initiator" { &mut i } else { &mut r };
    while ex.poll_send().is_some() {}
    for b in before {
        ex.handle_body(0, b);
        while ex.poll_send().is_some() {}
        assert!(!ex.is_over(), "{b} is taken");
    }
    ex.handle_body(0, body);
    match ex.poll_outcome() {
        Some(Err(e)) => Some(e.code()),
        Some(Ok(_)) => panic!("{body} ended the exchange well"),
        None => None,
    }
}

fn refusals() -> (Vec<Value>, Vec<Value>) {
    let [commit, key, open, code_match] = case_bodies();
    let b64 = |bytes: &[u8]| json!(b64::encode(bytes));
    let with = |v: &Value, field: &str, new: Value| {
        let mut v = v.clone();
        v[field] = new;
        v
    };
    let without = |v: &Value, field: &str| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove(field);
        v
    };
    let key_pub = b64::decode(key["ephemeral"].as_str().unwrap()).unwrap();
    let mut off_curve = key_pub.clone();
    off_curve[64] ^= 1;
    let compressed = [&[0x02 + (key_pub[64] & 1)][..], &key_pub[1..33]].concat();
    let other_key = IdentitySecret::new(scalar("code other key"))
        .public()
        .to_sec1();
    let nonce_text = key["nonce"].as_str().unwrap().to_owned();
    let hello = json!({"kind": "hello", "v": 1, "role": "responder",
        "identity": b64::encode(&other_key), "ephemeral": key["ephemeral"], "nonce": nonce_text});
    let misbehaved = ErrorCode::PeerMisbehaved;
    let verify = ErrorCode::VerifyFailed;
    let cases: Vec<(&str, Vec<Value>, Value, ErrorCode, &str)> = vec![
        (
            "initiator",
            vec![],
            without(&key, "nonce"),
            misbehaved,
            "code-key without nonce",
        ),
        (
            "initiator",
            vec![],
            with(&key, "nonce", b64(&[5; 31])),
            misbehaved,
            "31-byte nonce",
        ),
        (
            "initiator",
            vec![],
            with(&key, "nonce", b64(&[5; 33])),
            misbehaved,
            "33-byte nonce",
        ),
        (
            "initiator",
            vec![],
            with(&key, "nonce", json!(format!("{nonce_text}="))),
            misbehaved,
            "padded base64url",
        ),
        (
            "initiator",
            vec![],
            with(
                &key,
                "nonce",
                json!(nonce_text.replace('-', "+").replace('_', "/") + "+"),
            ),
            misbehaved,
            "standard base64 alphabet",
        ),
        (
            "initiator",
            vec![],
            with(&key, "ephemeral", b64(&off_curve)),
            misbehaved,
            "ephemeral key not on P-256",
        ),
        (
            "initiator",
            vec![],
            with(&key, "ephemeral", b64(&compressed)),
            misbehaved,
            "compressed ephemeral key",
        ),
        (
            "initiator",
            vec![],
            with(&key, "ephemeral", b64(&[0; 65])),
            misbehaved,
            "ephemeral key all zeros",
        ),
        (
            "initiator",
            vec![],
            with(&key, "ephemeral", json!(null)),
            misbehaved,
            "ephemeral key null",
        ),
        (
            "initiator",
            vec![],
            with(&key, "extra", json!(1)),
            misbehaved,
            "an unknown field",
        ),
        (
            "initiator",
            vec![],
            with(&key, "identity", b64(&other_key)),
            misbehaved,
            "code-key with an identity",
        ),
        (
            "initiator",
            vec![],
            json!(["code-key", key["ephemeral"], key["nonce"]]),
            misbehaved,
            "an array, not an object",
        ),
        (
            "initiator",
            vec![],
            json!({"kind": "code-nonsense"}),
            misbehaved,
            "unknown kind",
        ),
        (
            "initiator",
            vec![],
            json!({"ephemeral": key["ephemeral"], "nonce": key["nonce"]}),
            misbehaved,
            "no kind",
        ),
        (
            "initiator",
            vec![],
            hello.clone(),
            misbehaved,
            "a hello before the exchange ended",
        ),
        (
            "initiator",
            vec![],
            commit.clone(),
            misbehaved,
            "code-commit to the initiator",
        ),
        (
            "initiator",
            vec![],
            open.clone(),
            misbehaved,
            "code-open to the initiator",
        ),
        (
            "initiator",
            vec![],
            code_match.clone(),
            misbehaved,
            "code-match to the initiator",
        ),
        (
            "initiator",
            vec![key.clone()],
            with(&key, "nonce", b64(&[6; 32])),
            misbehaved,
            "a second, different code-key",
        ),
        (
            "initiator",
            vec![key.clone()],
            hello.clone(),
            misbehaved,
            "a hello before this side's code-match",
        ),
        (
            "responder",
            vec![],
            open.clone(),
            misbehaved,
            "code-open before code-commit",
        ),
        (
            "responder",
            vec![],
            key.clone(),
            misbehaved,
            "code-key to the responder",
        ),
        (
            "responder",
            vec![],
            code_match.clone(),
            misbehaved,
            "code-match before code-commit",
        ),
        (
            "responder",
            vec![],
            with(&commit, "commit", b64(&[1; 31])),
            misbehaved,
            "31-byte commitment",
        ),
        (
            "responder",
            vec![],
            json!({"kind": "code-commit"}),
            misbehaved,
            "code-commit without commit",
        ),
        (
            "responder",
            vec![commit.clone()],
            with(&open, "identity", b64(&other_key)),
            verify,
            "code-open with another identity",
        ),
        (
            "responder",
            vec![commit.clone()],
            with(&open, "ephemeral", b64(&other_key)),
            verify,
            "code-open with another ephemeral key",
        ),
        (
            "responder",
            vec![commit.clone()],
            with(&open, "nonce", b64(&[6; 32])),
            verify,
            "code-open with another nonce",
        ),
        (
            "responder",
            vec![commit.clone()],
            without(&open, "identity"),
            misbehaved,
            "code-open without identity",
        ),
        (
            "responder",
            vec![commit.clone()],
            with(&commit, "commit", b64(&[1; 32])),
            misbehaved,
            "a second, different code-commit",
        ),
        (
            "responder",
            vec![commit.clone()],
            code_match.clone(),
            misbehaved,
            "code-match before code-open",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone()],
            with(&code_match, "x", json!(1)),
            misbehaved,
            "code-match with a field",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone()],
            with(&open, "nonce", b64(&[6; 32])),
            misbehaved,
            "a second, different code-open",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone()],
            hello,
            misbehaved,
            "a hello to the responder",
        ),
    ];
    let refused = cases
        .into_iter()
        .map(|(side, before, body, code, why)| {
            assert_eq!(outcome(side, &before, &body), Some(code), "{why}");
            json!({"why": why, "side": side, "before": before, "body": body, "code": code})
        })
        .collect();
    let repeats: Vec<(&str, Vec<Value>, Value, &str)> = vec![
        (
            "initiator",
            vec![key.clone()],
            key.clone(),
            "code-key again",
        ),
        (
            "responder",
            vec![commit.clone()],
            commit.clone(),
            "code-commit again",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone()],
            open.clone(),
            "code-open again",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone()],
            commit.clone(),
            "code-commit again, after code-open",
        ),
        (
            "responder",
            vec![commit.clone(), open.clone(), code_match.clone()],
            code_match,
            "code-match again (the person has not answered)",
        ),
    ];
    let ignored = repeats
        .into_iter()
        .map(|(side, before, body, why)| {
            assert_eq!(outcome(side, &before, &body), None, "{why}");
            json!({"why": why, "side": side, "before": before, "body": body})
        })
        .collect();
    (refused, ignored)
}

#[test]
fn code_vectors() {
    let exchanges = vec![exchange(CASE), exchange("code 2")];
    // Different keys, different numbers and secrets: nothing is constant by mistake.
    assert_ne!(exchanges[0]["secret"], exchanges[1]["secret"]);
    let (refused, ignored) = refusals();
    check_or_write(
        "code.json",
        &json!({
            "codes": codes(),
            "exchange": exchanges,
            "refused": refused,
            "ignored": ignored,
        }),
    );
}
