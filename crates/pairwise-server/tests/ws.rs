//! The signaling endpoint over real sockets on 127.0.0.1:0, with a real WebSocket client.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pairwise_proto::limits::MAX_SIGNAL_BYTES;
use pairwise_server::{AppState, Config, app};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ROOM: &str = "abcdefghijklmnopqrstuv";

async fn server() -> (SocketAddr, AppState) {
    server_with(Config::default()).await
}

async fn server_with(config: Config) -> (SocketAddr, AppState) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(&config);
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, state)
}

async fn client(addr: SocketAddr) -> Ws {
    connect_async(format!("ws://{addr}/ws")).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next text frame as JSON, or `None` when the server closed the connection.
async fn recv(ws: &mut Ws) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap();
        match frame {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// The status code and reason of the server's close, skipping frames before it.
async fn close_code(ws: &mut Ws) -> Option<(u16, String)> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap();
        match frame {
            Some(Ok(Message::Close(Some(f)))) => {
                return Some((f.code.into(), f.reason.to_string()));
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn join(ws: &mut Ws) -> Value {
    send(ws, json!({"type": "join", "room": ROOM})).await;
    recv(ws).await.unwrap()
}

#[tokio::test]
async fn two_peers_join_and_relay_bodies_both_ways() {
    let (addr, _) = server().await;
    let (mut a, mut b) = (client(addr).await, client(addr).await);
    assert_eq!(
        join(&mut a).await,
        json!({"type": "joined", "peers": 1, "ice": []})
    );
    assert_eq!(
        join(&mut b).await,
        json!({"type": "joined", "peers": 2, "ice": []})
    );
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-joined"}));
    send(
        &mut b,
        json!({"type": "relay", "body": {"kind": "hello", "x": [1, 2]}}),
    )
    .await;
    assert_eq!(
        recv(&mut a).await.unwrap(),
        json!({"type": "relay", "body": {"kind": "hello", "x": [1, 2]}})
    );
    send(&mut a, json!({"type": "relay", "body": "back"})).await;
    assert_eq!(
        recv(&mut b).await.unwrap(),
        json!({"type": "relay", "body": "back"})
    );
    b.close(None).await.unwrap();
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-left"}));
}

#[tokio::test]
async fn a_room_never_admits_a_third_peer() {
    let (addr, _) = server().await;
    let (mut a, mut b, mut c) = (client(addr).await, client(addr).await, client(addr).await);
    join(&mut a).await;
    join(&mut b).await;
    let reply = join(&mut c).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["code"], "room-full");
    assert_eq!(recv(&mut c).await, None, "the third peer is disconnected");
    // The pair is undisturbed: A still reaches B.
    assert_eq!(recv(&mut a).await.unwrap()["type"], "peer-joined");
    send(&mut a, json!({"type": "relay", "body": 1})).await;
    assert_eq!(
        recv(&mut b).await.unwrap(),
        json!({"type": "relay", "body": 1})
    );
}

#[tokio::test]
async fn malformed_message_gets_an_error_and_a_close_and_others_keep_working() {
    let (addr, _) = server().await;
    let mut bad = client(addr).await;
    let mut good = client(addr).await;
    join(&mut good).await;
    for text in [
        "not json",
        r#"{"type":"join","room":"x"}"#,
        r#"{"type":"nope"}"#,
    ] {
        let mut bad2 = client(addr).await;
        bad2.send(Message::text(text)).await.unwrap();
        let reply = recv(&mut bad2).await.unwrap();
        assert_eq!(reply["code"], "bad-message", "{text}");
        assert_eq!(
            close_code(&mut bad2).await,
            Some((1008, "bad message".into())),
            "{text}"
        );
    }
    bad.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(recv(&mut bad).await.unwrap()["code"], "bad-message");
    assert_eq!(
        close_code(&mut bad).await,
        Some((1008, "binary frame".into()))
    );
    // A new peer still pairs with the waiting one.
    let mut other = client(addr).await;
    assert_eq!(
        join(&mut other).await,
        json!({"type": "joined", "peers": 2, "ice": []})
    );
    assert_eq!(recv(&mut good).await.unwrap()["type"], "peer-joined");
}

#[tokio::test]
async fn oversized_message_gets_too_large_and_a_close() {
    let (addr, _) = server().await;
    let mut ws = client(addr).await;
    join(&mut ws).await;
    let body = "a".repeat(MAX_SIGNAL_BYTES);
    send(&mut ws, json!({"type": "relay", "body": body})).await;
    let reply = recv(&mut ws).await.unwrap();
    assert_eq!(reply["code"], "too-large");
    assert_eq!(
        close_code(&mut ws).await,
        Some((1009, "frame too large".into()))
    );
}

#[tokio::test]
async fn a_connection_that_never_joins_is_closed_at_the_deadline() {
    let (addr, state) = server_with(Config {
        join_deadline: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut idle = client(addr).await;
    let mut joined = client(addr).await;
    join(&mut joined).await;
    let t0 = std::time::Instant::now();
    assert_eq!(
        close_code(&mut idle).await,
        Some((1008, "no join in time".into()))
    );
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    // A connection that joined in time stays, past the deadline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state.rooms().len(), 1);
    send(&mut joined, json!({"type": "relay", "body": 1})).await;
    assert_eq!(recv(&mut joined).await.unwrap()["code"], "no-peer");
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped_and_the_other_told() {
    let (addr, _) = server_with(Config {
        send_timeout: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let mut reader = client(addr).await;
    join(&mut reader).await;
    // The stuck one joins, then never reads again.
    let mut stuck = client(addr).await;
    join(&mut stuck).await;
    assert_eq!(recv(&mut reader).await.unwrap()["type"], "peer-joined");
    // Large bodies until its socket buffers and the server's outbox are full: the server must
    // drop it rather than wait in a send forever (it used to: the room never learned it left).
    let body = "x".repeat(MAX_SIGNAL_BYTES - 1024);
    let t0 = std::time::Instant::now();
    let mut left = false;
    while t0.elapsed() < Duration::from_secs(20) {
        send(&mut reader, json!({"type": "relay", "body": body})).await;
        while let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::from_millis(1), reader.next()).await
        {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "peer-left" {
                left = true;
            }
        }
        if left {
            break;
        }
    }
    assert!(left, "the stuck peer was not dropped in {:?}", t0.elapsed());
    drop(stuck);
}

#[tokio::test]
async fn relay_before_join_or_alone_is_answered_not_fatal() {
    let (addr, state) = server().await;
    let mut ws = client(addr).await;
    send(&mut ws, json!({"type": "relay", "body": 1})).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "not-joined");
    join(&mut ws).await;
    send(&mut ws, json!({"type": "relay", "body": 1})).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "no-peer");
    assert_eq!(state.rooms().len(), 1);
    ws.close(None).await.unwrap();
    // Leaving removes the room.
    for _ in 0..50 {
        if state.rooms().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("room was not removed after its last peer left");
}

#[tokio::test]
async fn cross_origin_upgrade_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (addr, _) = server().await;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert!(connect_async(req).await.is_err());
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    assert!(connect_async(req).await.is_ok());
}

#[tokio::test]
async fn turn_credentials_come_only_with_joined_and_differ_per_connection() {
    use pairwise_server::ice::{IceConfig, TurnSecret, check_username};
    let secret = TurnSecret::new(b"shared with coturn".to_vec());
    let config = Config {
        ice: IceConfig {
            stun: vec!["stun:203.0.113.1:3478".into()],
            turn: vec!["turn:203.0.113.1:3478?transport=udp".into()],
            secret: Some(secret.clone()),
            ttl: Duration::from_secs(600),
        },
        ..Config::default()
    };
    let (addr, _) = server_with(config).await;
    // Before joining: an error, and nothing that looks like a credential.
    let mut a = client(addr).await;
    send(&mut a, json!({"type": "relay", "body": 1})).await;
    let before = recv(&mut a).await.unwrap();
    assert_eq!(before["code"], "not-joined");
    assert!(!before.to_string().contains("credential"), "{before}");

    let joined = join(&mut a).await;
    assert_eq!(joined["type"], "joined");
    let ice = joined["ice"].as_array().unwrap();
    assert_eq!(ice[0], json!({"urls": ["stun:203.0.113.1:3478"]}));
    let user = ice[1]["username"].as_str().unwrap().to_owned();
    assert_eq!(ice[1]["credential"], secret.password(&user).as_str());
    let now = std::time::SystemTime::now();
    assert!(check_username(&user, now).is_ok());
    assert!(
        check_username(&user, now + Duration::from_secs(601)).is_err(),
        "TTL"
    );

    let mut b = client(addr).await;
    let other = join(&mut b).await;
    assert_ne!(other["ice"][1]["username"], ice[1]["username"]);
    // Relayed bodies and peer events carry no credentials either.
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-joined"}));
}

/// DNS rebinding (issue 13): a page on `http://evil.example:P` whose name now points here
/// sends `Host: evil.example:P` and `Origin: http://evil.example:P`; an `https://` or
/// extension origin naming this host is not this server's page either.
#[tokio::test]
async fn rebound_names_and_foreign_origins_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (addr, _) = server().await;
    let port = addr.port();
    let upgrade = |host: String, origin: String| {
        let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
        req.headers_mut().insert("host", host.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        connect_async(req)
    };
    let evil = format!("evil.example:{port}");
    assert!(
        upgrade(evil.clone(), format!("http://{evil}"))
            .await
            .is_err()
    );
    for origin in [
        format!("chrome-extension://{addr}"),
        format!("ftp://{addr}"),
        "null".to_owned(),
    ] {
        assert!(
            upgrade(addr.to_string(), origin.clone()).await.is_err(),
            "{origin}"
        );
    }
    assert!(
        upgrade(addr.to_string(), format!("http://{addr}"))
            .await
            .is_ok()
    );
    assert!(
        upgrade(
            format!("localhost:{port}"),
            format!("http://localhost:{port}")
        )
        .await
        .is_ok()
    );

    // The page itself is not served to a rebound name.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let page = |host: &str| format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(page(&evil).as_bytes()).await.unwrap();
    let mut head = vec![0; 12];
    tcp.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 421");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(page(&addr.to_string()).as_bytes())
        .await
        .unwrap();
    tcp.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
}

/// Number inflation (issue 13): 64 KB of `1e15` was parsed into numbers and re-serialised as
/// `1000000000000000.0`, 65 505 bytes in and 248 849 out, past the 64 KiB limit of §8. The
/// body now reaches the peer byte for byte.
#[tokio::test]
async fn a_relay_body_reaches_the_peer_byte_for_byte() {
    let (addr, _) = server().await;
    let mut a = client(addr).await;
    let mut b = client(addr).await;
    join(&mut a).await;
    join(&mut b).await;
    assert_eq!(recv(&mut a).await.unwrap()["type"], "peer-joined");
    let head = r#"{"type":"relay","body":["#;
    let n = (MAX_SIGNAL_BYTES - head.len() - 2) / 5;
    let body = format!("[{}1e15]", "1e15,".repeat(n - 1));
    let frame = format!(r#"{{"type":"relay","body":{body}}}"#);
    assert!(frame.len() <= MAX_SIGNAL_BYTES, "{}", frame.len());
    a.send(Message::text(frame.clone())).await.unwrap();
    let got = loop {
        match tokio::time::timeout(Duration::from_secs(5), b.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => break t.to_string(),
            Ok(Some(Ok(_))) => {}
            other => panic!("no relay: {other:?}"),
        }
    };
    assert_eq!(got.len(), frame.len());
    assert_eq!(got, frame);
}

/// Idle sockets (issue 13): a client that answers the server's pings stays; one that holds its
/// socket open and silent (no pong, no frame) is closed with a status code.
#[tokio::test]
async fn a_silent_socket_is_closed_and_one_that_answers_pings_stays() {
    let (addr, _) = server_with(Config {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(350),
        ..Config::default()
    })
    .await;
    let mut alive = client(addr).await;
    let mut silent = client(addr).await;
    join(&mut alive).await;
    send(&mut silent, json!({"type": "join", "room": ROOM})).await;
    // `alive` reads (tungstenite answers each ping as it reads) for well past the timeout.
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    let mut pings = 0;
    while let Ok(frame) = tokio::time::timeout_at(until, alive.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Text(_))) => {}
            other => panic!("the answering client lost its socket: {other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings");
    // `silent` read nothing all along: the server closed it, with 1008 and a reason. Read as
    // raw bytes: answering the pings now would meet a closed socket and hide the close frame.
    let MaybeTlsStream::Plain(mut tcp) = silent.into_inner() else {
        panic!("plain TCP expected")
    };
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut raw)).await;
    let close = [&[0x88, 2 + 18, 0x03, 0xf0][..], b"no answer to pings"].concat();
    assert!(
        raw.windows(close.len()).any(|w| w == close),
        "no close frame 1008 in {raw:?}"
    );
}
