//! Operations through the real accept loop on 127.0.0.1: `/readyz`, `/metrics` and the drain
//! on shutdown (issue 13).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::get_from;
use futures_util::{SinkExt, StreamExt};
use pairwise_server::Config;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

const ROOM: &str = "abcdefghijklmnopqrstuv";

/// A server on 127.0.0.1 that drains when the returned sender fires; its task ends after.
async fn server() -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(pairwise_server::run(listener, Config::default(), async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

async fn get(addr: SocketAddr, path: &str) -> String {
    get_from("127.0.0.1", addr, path).await
}

#[tokio::test]
async fn metrics_count_connections_rooms_relays_and_rejections() {
    let (addr, _stop, _task) = server().await;
    let (mut a, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    let (mut b, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    for ws in [&mut a, &mut b] {
        ws.send(Message::text(
            json!({"type": "join", "room": ROOM}).to_string(),
        ))
        .await
        .unwrap();
    }
    let body = r#"{"kind":"x","n":12345}"#;
    a.send(Message::text(format!(
        r#"{{"type":"relay","body":{body}}}"#
    )))
    .await
    .unwrap();
    // b reads: joined, then the relay.
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(5), b.next())
            .await
            .unwrap();
    }
    // A request to a rebound name, refused and counted.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut refused = String::new();
    tcp.read_to_string(&mut refused).await.unwrap();
    assert!(refused.starts_with("HTTP/1.1 421"), "{refused}");

    let text = get(addr, "/metrics").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    for line in [
        "pairwise_ws_connections 2".to_owned(),
        "pairwise_rooms 1".to_owned(),
        "pairwise_relayed_messages_total 1".to_owned(),
        format!("pairwise_relayed_bytes_total {}", body.len()),
        "pairwise_rejections_total{reason=\"host\"} 1".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn on_shutdown_websockets_are_told_to_go_and_the_server_stops() {
    let (addr, stop, task) = server().await;
    assert!(get(addr, "/readyz").await.ends_with("ready\n"));
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    ws.send(Message::text(
        json!({"type": "join", "room": ROOM}).to_string(),
    ))
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    stop.send(()).unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(f)))) => break (u16::from(f.code), f.reason.to_string()),
            Some(Ok(_)) => {}
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(close, (1001, "server shutting down".to_owned()));
    let ended = tokio::time::timeout(Duration::from_secs(5), task).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "the server stopped: {ended:?}"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "and no longer listens"
    );
}
