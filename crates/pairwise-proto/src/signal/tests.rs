use serde_json::json;

use super::*;

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
            ServerToClient::Joined { peers: 2 },
            json!({"type":"joined","peers":2}),
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
