//! A client's text frame as the server reads it ([`ClientFrame::parse`], what the server's
//! WebSocket session calls on every frame) and as the typed [`ClientToServer::parse`] reads it.
//!
//! Checks: no panic; the two parsers agree (the server's is documented "as strictly as" the
//! typed one); a relayed body reaches the peer byte for byte, as the same value where
//! serde_json can hold it; what parses re-encodes to a frame that parses to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::signal::{ClientFrame, ClientToServer, ServerToClient, relay_frame};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // A WebSocket text frame is UTF-8 by the time the server sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let frame = ClientFrame::parse(text);
    let typed = ClientToServer::parse(text);
    match &frame {
        Ok(ClientFrame::Join { room }) => {
            assert_eq!(typed, Ok(ClientToServer::Join { room: room.clone() }));
        }
        Ok(ClientFrame::Relay { body }) => {
            // The server relays the body byte for byte, inside the peer's `relay` frame.
            let relayed = relay_frame(body);
            assert!(relayed.contains(body));
            // It checks only that the body is one JSON value: it keeps, say, `1e400`, which
            // serde_json cannot hold (signal/tests.rs pins this). A body it can hold reaches
            // the peer as the same value, and the typed parser agrees.
            match serde_json::from_str::<Value>(body) {
                Ok(value) => {
                    let peer: ServerToClient =
                        serde_json::from_str(&relayed).expect("the peer's relay frame parses");
                    assert_eq!(
                        peer,
                        ServerToClient::Relay {
                            body: value.clone()
                        }
                    );
                    assert_eq!(typed, Ok(ClientToServer::Relay { body: value }));
                }
                Err(_) => assert!(typed.is_err()),
            }
        }
        Err(e) => {
            assert!(
                typed.is_err(),
                "typed parser accepts what the server refuses ({e})"
            );
            assert_eq!(typed.as_ref().map_err(|e| e.code()).err(), Some(e.code()));
        }
    }
    if let Ok(msg) = typed {
        let again = serde_json::to_string(&msg).expect("a parsed message serialises");
        assert_eq!(ClientToServer::parse(&again), Ok(msg));
    }
});
