//! Rooms on Redis across two server nodes in this process, each on its own runtime (so a node
//! can die at once, without leaving its rooms), on a real `redis-server`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

#[path = "../common/mod.rs"]
mod common;
mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use pairwise_server::rooms::{Broker, RedisOptions, RedisRooms};
use pairwise_server::{AppState, Config};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use server::RedisServer;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ROOM: &str = "abcdefghijklmnopqrstuv";

/// Short, so a dead node's peer hears of it quickly (the default is 30 s).
const LEASE: Duration = Duration::from_millis(1500);

/// One server node on Redis, on a runtime of its own: dropping it is the node dying (its
/// tasks stop where they are, its sockets close, nothing leaves its rooms).
struct Node {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Node {
    async fn start(redis: &RedisServer) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let options = RedisOptions {
            lease: LEASE,
            ..RedisOptions::new(redis.url())
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let rooms = RedisRooms::connect(&options).await.unwrap();
            let config = Config::default();
            let state = AppState::new(&config).with_broker(Broker::Redis(rooms));
            tx.send(listener.local_addr().unwrap()).unwrap();
            pairwise_server::serve(listener, state, &config, std::future::pending()).await
        });
        let addr = rx.await.expect("the node started");
        Self {
            addr,
            runtime: Some(runtime),
        }
    }

    async fn client(&self) -> Ws {
        connect_async(format!("ws://{}/ws", self.addr))
            .await
            .unwrap()
            .0
    }

    async fn get(&self, path: &str) -> String {
        common::get_from("127.0.0.1", self.addr, path).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// The next text frame as sent, or `None` when the server closed the connection.
async fn recv_text(ws: &mut Ws) -> Option<String> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s");
        match frame {
            Some(Ok(Message::Text(t))) => return Some(t.to_string()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn recv(ws: &mut Ws) -> Option<Value> {
    Some(serde_json::from_str(&recv_text(ws).await?).unwrap())
}

/// The status code and reason of the server's close, skipping frames before it.
async fn close_of(ws: &mut Ws) -> Option<(u16, String)> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a close within 5 s");
        match frame {
            Some(Ok(Message::Close(Some(f)))) => {
                return Some((f.code.into(), f.reason.to_string()));
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn join(ws: &mut Ws, room: &str) -> Value {
    send_text(ws, &json!({"type": "join", "room": room}).to_string()).await;
    recv(ws).await.unwrap()
}

fn joined(peers: usize) -> Value {
    json!({"type": "joined", "peers": peers, "ice": []})
}

/// Polls `path` on `node` until its status line starts with `status`.
async fn wait_status(node: &Node, path: &str, status: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let res = node.get(path).await;
        if res.starts_with(status) {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < within, "{path} is not {status}: {res}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn peers_on_two_nodes_meet_relay_byte_exact_and_a_third_is_refused() {
    let redis = RedisServer::start();
    let (n1, n2) = (Node::start(&redis).await, Node::start(&redis).await);
    let (mut a, mut b) = (n1.client().await, n2.client().await);
    assert_eq!(join(&mut a, ROOM).await, joined(1));
    assert_eq!(join(&mut b, ROOM).await, joined(2));
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-joined"}));

    // Bodies cross as the bytes sent: spacing, escapes and number spelling kept.
    let body = r#"{ "kind":"hello", "n": 1e15, "s":"\u00e9\"q\"\n", "x":[1 ,2] }"#;
    send_text(&mut b, &format!(r#"{{"type":"relay","body":{body}}}"#)).await;
    assert_eq!(
        recv_text(&mut a).await.unwrap(),
        format!(r#"{{"type":"relay","body":{body}}}"#)
    );
    let back = r#"[ "back", 0.10 ]"#;
    send_text(&mut a, &format!(r#"{{"type":"relay","body":{back}}}"#)).await;
    assert_eq!(
        recv_text(&mut b).await.unwrap(),
        format!(r#"{{"type":"relay","body":{back}}}"#)
    );

    for node in [&n1, &n2] {
        let mut third = node.client().await;
        let reply = join(&mut third, ROOM).await;
        assert_eq!(reply["code"], "room-full", "{reply}");
        assert_eq!(close_of(&mut third).await, Some((1008, "room full".into())));
    }

    b.close(None).await.unwrap();
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-left"}));
    // The place is free again, for a peer on either node.
    let mut c = n2.client().await;
    assert_eq!(join(&mut c, ROOM).await, joined(2));
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-joined"}));
    send_text(&mut c, r#"{"type":"relay","body":"hi"}"#).await;
    assert_eq!(
        recv(&mut a).await.unwrap(),
        json!({"type": "relay", "body": "hi"})
    );
    let metrics = n1.get("/metrics").await;
    for line in ["pairwise_redis_up 1", "pairwise_rooms 1"] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pairwise_redis_received_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
}

#[tokio::test]
async fn peers_joining_at_once_on_two_nodes_each_get_joined_first_and_one_room() {
    let redis = RedisServer::start();
    let (n1, n2) = (Node::start(&redis).await, Node::start(&redis).await);
    let rooms: Vec<String> = (0..40).map(|i| format!("{i:0>22}")).collect();
    let pairs = rooms.iter().map(|room| {
        let (n1, n2) = (&n1, &n2);
        async move {
            let (mut a, mut b) = (n1.client().await, n2.client().await);
            let (ja, jb) = tokio::join!(join(&mut a, room), join(&mut b, room));
            assert_eq!(ja["type"], "joined", "first frame {ja}");
            assert_eq!(jb["type"], "joined", "first frame {jb}");
            let mut peers = [ja["peers"].as_u64(), jb["peers"].as_u64()];
            peers.sort_unstable();
            assert_eq!(peers, [Some(1), Some(2)], "one joined first");
            // The first one hears of the second, and the two can talk.
            let (first, second) = if ja["peers"] == 1 {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            assert_eq!(recv(first).await.unwrap()["type"], "peer-joined");
            send_text(second, r#"{"type":"relay","body":"x"}"#).await;
            assert_eq!(recv(first).await.unwrap()["body"], "x");
        }
    });
    futures_util::future::join_all(pairs).await;
}

#[tokio::test]
async fn the_peer_of_a_node_that_dies_is_told_peer_left_and_its_pages_rejoin_elsewhere() {
    let redis = RedisServer::start();
    let (n1, n2) = (Node::start(&redis).await, Node::start(&redis).await);
    let (mut a, mut b) = (n1.client().await, n2.client().await);
    join(&mut a, ROOM).await;
    join(&mut b, ROOM).await;
    assert_eq!(recv(&mut a).await.unwrap()["type"], "peer-joined");
    // And a page waiting alone on the node that dies.
    let mut waiting = n2.client().await;
    assert_eq!(
        join(&mut waiting, "waiting-alone-on-node2").await,
        joined(1)
    );

    let t0 = Instant::now();
    drop(n2);
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-left"}));
    let took = t0.elapsed();
    // A dead node stops listening on its channel, so the survivor's next renewal (every
    // third of the lease) drops it without waiting for the lease to end.
    assert!(took < LEASE, "{took:?}");
    assert_eq!(
        recv(&mut waiting).await,
        None,
        "the dead node's pages lost it"
    );
    drop(b);

    // At once, well within the dead members' leases: the waiting page, back through the other
    // node, finds its room empty (not its former self in it), and a peer can join it; the
    // room of `a` has a free place again.
    let mut again = n1.client().await;
    assert_eq!(join(&mut again, "waiting-alone-on-node2").await, joined(1));
    let mut peer = n1.client().await;
    assert_eq!(join(&mut peer, "waiting-alone-on-node2").await, joined(2));
    assert_eq!(recv(&mut again).await.unwrap()["type"], "peer-joined");
    let mut c = n1.client().await;
    assert_eq!(join(&mut c, ROOM).await, joined(2));
    assert_eq!(recv(&mut a).await.unwrap()["type"], "peer-joined");
}

#[tokio::test]
async fn a_peer_whose_node_listens_but_stopped_renewing_is_gone_when_its_lease_ends() {
    let redis = RedisServer::start();
    let node = Node::start(&redis).await;
    // A node of our own making: it listens on its channel (so it is not dead) but never
    // renews, as a node cut off from Redis's commands would.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut listener = client.get_async_pubsub().await.unwrap();
    listener
        .subscribe("pw:node:0123456789abcdef")
        .await
        .unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
    let ends = secs * 1000 + micros / 1000 + 1000;
    let room = format!("pw:room:{ROOM}");
    let ghost = "0123456789abcdef:7";
    let _: () = redis::cmd("HSET")
        .arg(&room)
        .arg(ghost)
        .arg(ends)
        .query_async(&mut conn)
        .await
        .unwrap();

    let t0 = Instant::now();
    let mut a = node.client().await;
    assert_eq!(
        join(&mut a, ROOM).await,
        joined(2),
        "the other member counts"
    );
    // It can reach `a` in the nodes' own words, which the node checks against `a`'s peer.
    let members: Vec<String> = redis::cmd("HKEYS")
        .arg(&room)
        .query_async(&mut conn)
        .await
        .unwrap();
    let me = members.iter().find(|m| *m != ghost).unwrap();
    let (node_id, conn_id) = me.split_once(':').unwrap();
    for (from, body) in [("0123456789abcdef:8", "1"), (ghost, "2")] {
        let _: u64 = redis::cmd("PUBLISH")
            .arg(format!("pw:node:{node_id}"))
            .arg(format!(
                "R {conn_id} {from}\n{{\"type\":\"relay\",\"body\":{body}}}"
            ))
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(
        recv(&mut a).await.unwrap(),
        json!({"type": "relay", "body": 2}),
        "only the peer's frame"
    );
    assert_eq!(recv(&mut a).await.unwrap(), json!({"type": "peer-left"}));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "not before its lease ended: {took:?}"
    );
    assert!(took < Duration::from_millis(1000) + LEASE, "{took:?}");
}

#[tokio::test]
async fn without_redis_a_node_is_not_ready_refuses_joins_and_recovers() {
    let redis = RedisServer::start();
    let port = redis.port();
    let node = Node::start(&redis).await;
    wait_status(&node, "/readyz", "HTTP/1.1 200", Duration::from_secs(1)).await;
    let mut waiting = node.client().await;
    assert_eq!(join(&mut waiting, ROOM).await, joined(1));

    drop(redis);
    let took = wait_status(&node, "/readyz", "HTTP/1.1 503", Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(3), "noticed in {took:?}");
    assert!(node.get("/readyz").await.ends_with("redis unavailable\n"));
    assert!(
        node.get("/metrics")
            .await
            .contains("\npairwise_redis_up 0\n")
    );
    let mut refused = node.client().await;
    send_text(
        &mut refused,
        &json!({"type": "join", "room": ROOM}).to_string(),
    )
    .await;
    assert_eq!(
        close_of(&mut refused).await,
        Some((1013, "rooms unavailable, try again".into()))
    );

    // A new, empty Redis on the same port: the node is ready again, and the connection whose
    // room vanished with the old one is told to join again.
    let redis = RedisServer::start_on(port);
    wait_status(&node, "/readyz", "HTTP/1.1 200", Duration::from_secs(10)).await;
    assert_eq!(
        close_of(&mut waiting).await,
        Some((1013, "rooms unavailable, try again".into()))
    );
    let (mut a, mut b) = (node.client().await, node.client().await);
    assert_eq!(join(&mut a, ROOM).await, joined(1));
    assert_eq!(join(&mut b, ROOM).await, joined(2));
    drop(redis);
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_naming_the_url_without_its_password() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    let err = RedisRooms::connect(&RedisOptions::new(url))
        .await
        .expect_err("nothing listens there");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "could not reach Redis at redis://:***@127.0.0.1:{port}"
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    let err = RedisRooms::connect(&RedisOptions::new("http://127.0.0.1:1"))
        .await
        .expect_err("not a Redis URL");
    assert!(err.to_string().starts_with("bad Redis URL"), "{err}");
}
