use serde_json::json;

use super::*;
use crate::limits::{MAX_ICE_SERVERS, MAX_ICE_URL_BYTES, MAX_ICE_URLS};

#[test]
fn join_parses_and_round_trips_exact_json() {
    let text = r#"{"type":"join","room":"abcdefghijklmnopqrst-_"}"#;
    let msg = ClientToServer::parse(text).unwrap();
    assert_eq!(
        msg,
        ClientToServer::Join {
            room: RoomId::parse("abcdefghijklmnopqrst-_").unwrap()
        }
    );
    assert_eq!(serde_json::to_string(&msg).unwrap(), text);
}

#[test]
fn server_messages_have_exact_json() {
    let cases = [
        (
            ServerToClient::Joined {
                peers: 2,
                ice: vec![],
            },
            json!({"type":"joined","peers":2,"ice":[]}),
        ),
        (
            ServerToClient::Joined {
                peers: 1,
                ice: vec![
                    IceServer {
                        urls: vec!["stun:203.0.113.1:3478".into()],
                        username: None,
                        credential: None,
                    },
                    IceServer {
                        urls: vec!["turn:203.0.113.1:3478?transport=tcp".into()],
                        username: Some("1700000000:abc".into()),
                        credential: Some("g5HTmCBrPDhYXFpM/1dHUtfE+c4=".into()),
                    },
                ],
            },
            json!({"type":"joined","peers":1,"ice":[
                {"urls":["stun:203.0.113.1:3478"]},
                {"urls":["turn:203.0.113.1:3478?transport=tcp"],
                 "username":"1700000000:abc","credential":"g5HTmCBrPDhYXFpM/1dHUtfE+c4="}]}),
        ),
        (ServerToClient::PeerJoined, json!({"type":"peer-joined"})),
        (ServerToClient::PeerLeft, json!({"type":"peer-left"})),
        (
            ServerToClient::Relay {
                body: json!({"kind":"x"}),
            },
            json!({"type":"relay","body":{"kind":"x"}}),
        ),
        (
            ServerToClient::error(ErrorCode::RoomFull),
            json!({"type":"error","code":"room-full","message":ErrorCode::RoomFull.sentence()}),
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(serde_json::to_value(&msg).unwrap(), want);
    }
}

#[test]
fn unknown_type_field_or_bad_room_is_malformed() {
    for text in [
        r#"{"type":"leave"}"#,
        r#"{"type":"join","room":"abcdefghijklmnopqrst-_","extra":1}"#,
        r#"{"type":"join","room":"short"}"#,
        r#"{"type":"relay"}"#,
        r#"not json"#,
        r#"[]"#,
    ] {
        let err = ClientToServer::parse(text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadMessage, "{text}");
    }
}

#[test]
fn signal_at_the_cap_parses_and_one_past_is_too_large() {
    let frame = |len: usize| {
        let head = r#"{"type":"relay","body":""#;
        let tail = r#""}"#;
        format!("{head}{}{tail}", "a".repeat(len - head.len() - tail.len()))
    };
    assert!(ClientToServer::parse(&frame(MAX_SIGNAL_BYTES)).is_ok());
    let err = ClientToServer::parse(&frame(MAX_SIGNAL_BYTES + 1)).unwrap_err();
    assert_eq!(
        err,
        SignalError::TooLarge {
            len: MAX_SIGNAL_BYTES + 1,
            max: MAX_SIGNAL_BYTES
        }
    );
}

#[test]
fn a_joined_without_ice_parses_as_no_servers() {
    let msg: ServerToClient = serde_json::from_str(r#"{"type":"joined","peers":1}"#).unwrap();
    assert_eq!(
        msg,
        ServerToClient::Joined {
            peers: 1,
            ice: vec![]
        }
    );
}

#[test]
fn clients_keep_only_usable_ice_servers_up_to_the_cap() {
    let stun = |u: &str| IceServer {
        urls: vec![u.into()],
        username: None,
        credential: None,
    };
    let turn = |u: &str, user: Option<&str>| IceServer {
        urls: vec![u.into()],
        username: user.map(Into::into),
        credential: user.map(|_| "pw".into()),
    };
    assert!(stun("stun:h:3478").is_usable());
    assert!(turn("turns:h:443?transport=tcp", Some("1:a")).is_usable());
    assert!(
        !turn("turn:h:3478", None).is_usable(),
        "TURN needs credentials"
    );
    assert!(!stun("http://h/").is_usable());
    assert!(!stun(&format!("stun:{}", "h".repeat(MAX_ICE_URL_BYTES))).is_usable());
    assert!(
        !IceServer {
            urls: vec![],
            username: None,
            credential: None
        }
        .is_usable()
    );
    assert!(
        !IceServer {
            urls: vec!["stun:h".into(); MAX_ICE_URLS + 1],
            username: None,
            credential: None
        }
        .is_usable()
    );
    let mut many = vec![stun("ftp://x")];
    many.extend((0..MAX_ICE_SERVERS + 3).map(|i| stun(&format!("stun:h{i}"))));
    let kept = usable_ice_servers(&many);
    assert_eq!(kept.len(), MAX_ICE_SERVERS);
    assert_eq!(kept[0].urls, ["stun:h0"]);
}

#[test]
fn the_server_reads_frames_as_strictly_and_keeps_relay_bodies_as_received() {
    let room = r#"{"type":"join","room":"abcdefghijklmnopqrst-_"}"#;
    assert_eq!(
        ClientFrame::parse(room).unwrap(),
        ClientFrame::Join {
            room: RoomId::parse("abcdefghijklmnopqrst-_").unwrap()
        }
    );
    // Numbers, spacing and escapes stay as they came: nothing is rebuilt.
    let body = r#"{ "kind":"candidate", "n":[1e15,-0.0,1E400], "s":"\u00e9" }"#;
    let text = format!(r#"{{"type":"relay","body":{body}}}"#);
    assert_eq!(
        ClientFrame::parse(&text).unwrap(),
        ClientFrame::Relay { body }
    );
    assert_eq!(relay_frame(body), text);
    for text in [
        r#"{"type":"leave"}"#,
        r#"{"type":"join","room":"abcdefghijklmnopqrst-_","extra":1}"#,
        r#"{"type":"join","room":"abcdefghijklmnopqrst-_","body":1}"#,
        r#"{"type":"join","room":"short"}"#,
        r#"{"type":"join"}"#,
        r#"{"type":"relay"}"#,
        r#"{"type":"relay","body":1,"room":"abcdefghijklmnopqrst-_"}"#,
        r#"{"type":"relay","body":1,"body":2}"#,
        r#"{"type":"relay","body":[1,}"#,
        r#"{"type":"relay","body":1} x"#,
        r#"not json"#,
        r#"[]"#,
    ] {
        let err = ClientFrame::parse(text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadMessage, "{text}");
    }
    let big = format!(
        r#"{{"type":"relay","body":"{}"}}"#,
        "a".repeat(MAX_SIGNAL_BYTES)
    );
    assert_eq!(
        ClientFrame::parse(&big).unwrap_err().code(),
        ErrorCode::TooLarge
    );
}
