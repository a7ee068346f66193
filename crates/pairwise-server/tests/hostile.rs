//! Hostile clients against the real accept loop ([`pairwise_server::run`]) on 127.0.0.1
//! (issue 13): half-sent requests and sockets that send nothing are closed after the
//! header-read timeout, and one address cannot take every connection slot.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{connect_from, get_from};
use pairwise_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn server(config: Config) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pairwise_server::run(
        listener,
        config,
        std::future::pending(),
    ));
    addr
}

/// How long until the server closes `tcp` (reads EOF or a reset), at most `limit`.
async fn closed_after(tcp: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), tcp.read(&mut buf)).await
        {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn half_sent_requests_and_silent_sockets_are_closed_after_the_header_timeout() {
    let addr = server(Config {
        header_read_timeout: Duration::from_millis(500),
        ..Config::default()
    })
    .await;
    let mut half = connect_from("127.0.0.1", addr).await;
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = connect_from("127.0.0.1", addr).await;
    let start = Instant::now();
    for tcp in [&mut half, &mut silent] {
        assert!(closed_after(tcp, Duration::from_secs(5)).await.is_some());
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "closed too early"
        );
    }
    // A kept-alive connection that sends no next request is closed the same way.
    let mut kept = connect_from("127.0.0.1", addr).await;
    kept.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert!(
        closed_after(&mut kept, Duration::from_secs(5))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn one_address_cannot_take_every_slot() {
    let addr = server(Config {
        max_per_ip: 8,
        ..Config::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut tcp = connect_from("127.0.0.1", addr).await;
        tcp.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(tcp);
    }
    let mut ninth = connect_from("127.0.0.1", addr).await;
    assert!(
        closed_after(&mut ninth, Duration::from_secs(2))
            .await
            .is_some(),
        "the ninth connection from one address is closed at once"
    );
    assert!(
        get_from("127.0.0.2", addr, "/healthz")
            .await
            .contains("200 OK"),
        "another address is served"
    );
    drop(held.pop());
    // The freed slot is counted back once the server notices the close.
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let reply = get_from("127.0.0.1", addr, "/healthz").await;
        if reply.contains("200 OK") {
            again = Some(reply);
            break;
        }
    }
    assert!(again.is_some(), "a closed connection gives its slot back");
}

#[tokio::test]
async fn websockets_count_against_the_address_cap_until_they_close() {
    use tokio_tungstenite::client_async;
    let addr = server(Config {
        max_per_ip: 3,
        ..Config::default()
    })
    .await;
    let ws = |from: &'static str| async move {
        let tcp = connect_from(from, addr).await;
        client_async(format!("ws://{addr}/ws"), tcp).await
    };
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(ws("127.0.0.1").await.unwrap().0);
    }
    assert!(
        ws("127.0.0.1").await.is_err(),
        "a fourth WebSocket from one address"
    );
    assert!(ws("127.0.0.2").await.is_ok(), "another address");
    drop(open.pop());
    let mut again = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if ws("127.0.0.1").await.is_ok() {
            again = true;
            break;
        }
    }
    assert!(again, "a closed WebSocket gives its slot back");
}

#[tokio::test]
async fn one_address_cannot_churn_through_sessions() {
    use futures_util::StreamExt;
    use tokio_tungstenite::client_async;
    use tokio_tungstenite::tungstenite::Message;
    let addr = server(Config {
        joins_per_ip_minute: 3,
        ..Config::default()
    })
    .await;
    let ws = |from: &'static str| async move {
        let tcp = connect_from(from, addr).await;
        client_async(format!("ws://{addr}/ws"), tcp).await
    };
    // Each session closed right away: the cap is on starting them, not on holding them.
    for _ in 0..3 {
        let (mut socket, _) = ws("127.0.0.1").await.unwrap();
        socket.close(None).await.unwrap();
    }
    // The fourth is upgraded (a browser can read nothing of a refused handshake), then told
    // why and closed with 1013, try again later.
    let (mut fourth, _) = ws("127.0.0.1").await.unwrap();
    let mut got = Vec::new();
    while let Some(Ok(msg)) = fourth.next().await {
        got.push(msg);
    }
    match got.as_slice() {
        [Message::Text(text), Message::Close(Some(close))] => {
            let error: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
            assert_eq!(error["type"], "error");
            assert_eq!(
                error["code"], "rate-limited",
                "the fourth session in a minute"
            );
            assert_eq!(u16::from(close.code), 1013);
        }
        other => panic!("the fourth session in a minute was not refused: {other:?}"),
    }
    assert!(ws("127.0.0.2").await.is_ok(), "another address");
    let metrics = get_from("127.0.0.1", addr, "/metrics").await;
    assert!(
        metrics.contains(r#"pairwise_rejections_total{reason="join-rate"} 1"#),
        "{metrics}"
    );
}
