//! Two native peers pair through the real signaling server and exchange a record over WebRTC.
//!
//! WebRTC tests must run inside a private network namespace (`tests/e2e/netns.sh`), so these
//! are `#[ignore]`d in a plain `cargo test`; `scripts/test-all.sh` runs them in the namespace
//! with `--ignored`, and each refuses to start outside one.
#![allow(
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::net::SocketAddr;
use std::time::Duration;

use pairwise_cli::peer::PeerEvent;
use pairwise_cli::session::{Invitation, respond};
use pairwise_proto::link::PairingLink;

const BIND: &str = "127.0.0.1:0";

/// Refuses to run where the machine has interfaces other than loopback and the namespace's
/// link-local veth pair: WebRTC must never reach beyond loopback here.
fn assert_isolated() {
    let dev = std::fs::read_to_string("/proc/net/dev").expect("read /proc/net/dev");
    let foreign: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(str::trim))
        .filter(|name| !["lo", "anc0", "anc1"].contains(name))
        .collect();
    assert!(
        foreign.is_empty(),
        "refusing to run WebRTC outside a private network namespace (found {foreign:?}); \
         run: tests/e2e/netns.sh cargo test -p pairwise-cli --test native_pairing -- --ignored"
    );
}

async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(pairwise_server::run(
        listener,
        pairwise_server::Config::default(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn two_native_peers_pair_and_exchange_a_record() {
    assert_isolated();
    let origin = server().await;
    let bind: SocketAddr = BIND.parse().expect("addr");
    let invitation = Invitation::new();
    let url = invitation.url(&origin);
    let fragment = url.split_once('#').expect("fragment").1;
    let link = PairingLink::parse_fragment(fragment).expect("link parses");

    let (a, b) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(invitation.pair(&origin, bind), respond(&origin, link, bind))
    })
    .await
    .expect("pairing finishes");
    let (a, mut b) = (a.expect("initiator pairs"), b.expect("responder pairs"));
    assert_eq!(a.session.sas(), b.session.sas(), "both show the same code");

    let max = a.peer.max_message_size().await.expect("max message size");
    let (mut seal, _) = a.session.into_records(max);
    let (_, mut open) = b.session.into_records(max);
    let record = seal.seal(b"hello over webrtc", true).expect("seal");
    a.peer.send(record.into()).await.expect("send");
    let got = loop {
        match tokio::time::timeout(Duration::from_secs(10), b.events.recv()).await {
            Ok(Some(PeerEvent::Message(m))) => break m,
            Ok(Some(PeerEvent::LocalCandidate(_) | PeerEvent::ChannelOpen)) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    };
    let opened = open.open(&got).expect("record opens");
    assert_eq!(opened.inner, b"hello over webrtc");
    assert!(opened.is_final);
}
