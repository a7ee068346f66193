//! Native peers pair through the real signaling server and talk over WebRTC: a record, a
//! hostile manifest (refused, nothing written), and duplicate names (kept side by side); and
//! remembered devices (§10): they reconnect without a link and exchange names first, a stranger
//! holding the record but another key is answered `not-paired`, and a forgotten device is told.
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
use pairwise_cli::signaling::Server;
use pairwise_cli::tls::client::Trust;
use pairwise_proto::link::PairingLink;

mod support;

use support::assert_isolated;

const BIND: &str = "127.0.0.1:0";

async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(pairwise_server::run(
        listener,
        pairwise_server::Config::default(),
        std::future::pending(),
    ));
    Server::new(format!("http://{addr}"), Trust::System)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn two_native_peers_pair_and_exchange_a_record() {
    let (a, mut b) = paired().await;
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

/// Pairs two native peers through a fresh in-process server.
async fn paired() -> (
    pairwise_cli::session::Established,
    pairwise_cli::session::Established,
) {
    assert_isolated("native_pairing");
    let origin = server().await;
    let bind: SocketAddr = BIND.parse().expect("addr");
    let invitation = Invitation::new();
    let url = invitation.url(origin.url());
    let link = PairingLink::parse_fragment(url.split_once('#').expect("fragment").1).expect("link");
    let (a, b) = tokio::time::timeout(Duration::from_secs(30), async {
        let waiting = invitation.open(&origin).await.expect("initiator joins");
        tokio::join!(waiting.pair(bind), respond(&origin, link, bind))
    })
    .await
    .expect("pairing finishes");
    match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => panic!(
            "pairing failed: initiator {:?}, responder {:?}",
            a.err(),
            b.err()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn hostile_manifest_names_are_refused_and_nothing_is_written() {
    use pairwise_cli::files::Inbox;
    use pairwise_cli::progress::Progress;
    use pairwise_cli::transfer::{self, TransferFailure};
    use pairwise_proto::error::ErrorCode;
    use pairwise_proto::transfer::Message;

    let long = "a".repeat(10_000);
    for name in [
        "../evil",
        "/etc/passwd",
        "C:\\evil",
        "con",
        "a\u{0}b",
        long.as_str(),
    ] {
        let root = tempfile::tempdir().expect("tempdir");
        let inbox_dir = root.path().join("inbox");
        std::fs::create_dir(&inbox_dir).expect("mkdir");
        eprintln!("case {:?}", name.chars().take(20).collect::<String>());
        let (mut hostile, victim) = paired().await;
        let max = hostile.peer.max_message_size().await.expect("max");
        let (mut seal, mut open) = hostile.session.into_records(max);
        // A hand-made manifest: what a malicious or buggy peer could send.
        let json = serde_json::json!({"files": [{"name": name, "size": 1, "type": ""}]});
        let mut inner = vec![0x01];
        inner.extend_from_slice(json.to_string().as_bytes());
        let record = seal.seal(&inner, false).expect("seal");
        hostile.peer.send(record.into()).await.expect("send");

        let inbox = Inbox::open(&inbox_dir).expect("inbox");
        let mut progress = Progress::new(true, 0);
        let result = tokio::time::timeout(
            Duration::from_secs(20),
            transfer::receive(victim, &inbox, &mut progress),
        )
        .await
        .expect("the receiver decides quickly");
        let code = match result {
            Err(TransferFailure::Session(e)) => {
                assert!(
                    matches!(e.code, ErrorCode::BadName | ErrorCode::PeerMisbehaved),
                    "{name:?}: {e}"
                );
                e.code
            }
            other => panic!("{name:?}: expected a refusal, got {other:?}"),
        };
        // The victim said why before it closed (§6.1): its first record is `close` with the
        // code, so the hostile side can tell a refusal from a drop.
        let told = loop {
            match tokio::time::timeout(Duration::from_secs(5), hostile.events.recv()).await {
                Ok(Some(PeerEvent::Message(record))) => break record,
                Ok(Some(_)) => {}
                other => panic!("{name:?}: no close record came ({other:?})"),
            }
        };
        let mut buf = Vec::from(told);
        let opened = open
            .open_in_place(&mut buf)
            .expect("the close record opens");
        assert!(!opened.is_final);
        assert_eq!(
            Message::decode(&buf[opened.inner]).expect("a valid message"),
            Message::Close(Some(code)),
            "{name:?}"
        );
        let mut left: Vec<_> = walk(root.path());
        left.sort();
        assert_eq!(
            left,
            vec![inbox_dir.clone()],
            "{name:?}: nothing written anywhere"
        );
        let _ = hostile.peer.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn duplicate_names_are_kept_side_by_side_and_existing_files_untouched() {
    use pairwise_cli::files::Inbox;
    use pairwise_cli::progress::Progress;
    use pairwise_cli::transfer::{self, Outgoing};

    let src = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(src.path().join("one")).expect("mkdir");
    std::fs::create_dir(src.path().join("two")).expect("mkdir");
    let p1 = src.path().join("one").join("same.txt");
    let p2 = src.path().join("two").join("same.txt");
    std::fs::write(&p1, b"first").expect("write");
    std::fs::write(&p2, b"second").expect("write");
    let dest = tempfile::tempdir().expect("tempdir");
    std::fs::write(dest.path().join("same.txt"), b"mine").expect("write");

    let (sender, receiver) = paired().await;
    let files = vec![
        Outgoing::new(&p1).expect("ok"),
        Outgoing::new(&p2).expect("ok"),
    ];
    let inbox = Inbox::open(dest.path()).expect("inbox");
    let (mut ps, mut pr) = (Progress::new(true, 0), Progress::new(true, 0));
    let (sent, got) = tokio::join!(
        transfer::send(sender, &files, &mut ps),
        transfer::receive(receiver, &inbox, &mut pr)
    );
    sent.expect("sent");
    let saved = got.expect("received");
    assert!(
        saved.iter().all(|s| s.renamed),
        "both names were taken, both were renamed"
    );
    let read = |n: &str| std::fs::read(dest.path().join(n)).expect(n);
    assert_eq!(read("same.txt"), b"mine", "the existing file is untouched");
    assert_eq!(read("same (1).txt"), b"first");
    assert_eq!(read("same (2).txt"), b"second");
}

/// Every path under `dir` (directories and files), recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// Two devices with kept identities, paired once: `(identity A, identity B, what A keeps of B,
/// what B keeps of A)`.
async fn remembered_pair(
    origin: &Server,
) -> (
    pairwise_proto::identity::IdentitySecret,
    pairwise_proto::identity::IdentitySecret,
    pairwise_proto::handshake::RememberedPeer,
    pairwise_proto::handshake::RememberedPeer,
) {
    use pairwise_cli::session::respond_as;
    use pairwise_proto::handshake::RememberedPeer;
    use pairwise_proto::identity::IdentitySecret;

    let fresh = || IdentitySecret::new(p256::SecretKey::random(&mut rand_core::OsRng));
    let (id_a, id_b) = (fresh(), fresh());
    let bind: SocketAddr = BIND.parse().expect("addr");
    let invitation = Invitation::with_identity(id_a.clone());
    let url = invitation.url(origin.url());
    let link = PairingLink::parse_fragment(url.split_once('#').expect("fragment").1).expect("link");
    let (a, b) = tokio::time::timeout(Duration::from_secs(30), async {
        let waiting = invitation.open(origin).await.expect("initiator joins");
        tokio::join!(
            waiting.pair(bind),
            respond_as(origin, link, id_b.clone(), bind)
        )
    })
    .await
    .expect("pairing finishes");
    let (a, b) = (a.expect("A pairs"), b.expect("B pairs"));
    assert_eq!(a.session.pairing_key(), b.session.pairing_key());
    assert_eq!(a.session.peer_identity(), &id_b.public());
    let a_keeps = RememberedPeer::new(id_b.public(), a.session.pairing_key().clone());
    let b_keeps = RememberedPeer::new(id_a.public(), b.session.pairing_key().clone());
    let _ = (a.peer.close().await, b.peer.close().await);
    (id_a, id_b, a_keeps, b_keeps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn remembered_devices_reconnect_without_a_link_and_exchange_names_first() {
    use pairwise_cli::session::reconnect;
    use pairwise_cli::transfer::Channel;
    use pairwise_proto::device::DeviceName;

    assert_isolated("native_pairing");
    let origin = server().await;
    let (id_a, id_b, a_keeps, b_keeps) = remembered_pair(&origin).await;
    let bind: SocketAddr = BIND.parse().expect("addr");
    let (a, b) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(
            reconnect(&origin, &a_keeps, &id_a, bind),
            reconnect(&origin, &b_keeps, &id_b, bind)
        )
    })
    .await
    .expect("reconnection finishes");
    let (a, b) = (a.expect("A reconnects"), b.expect("B reconnects"));
    assert_eq!(a.session.peer_identity(), &id_b.public());
    assert_eq!(b.session.peer_identity(), &id_a.public());
    let name = |n: &str| DeviceName::parse(n).expect("name");
    let (mut ca, mut cb) = tokio::join!(
        async {
            Channel::open(a, Some(&name("Alpha")))
                .await
                .expect("A's channel")
        },
        async {
            Channel::open(b, Some(&name("Beta")))
                .await
                .expect("B's channel")
        }
    );
    let (na, nb) = tokio::join!(
        ca.wait_peer_name(Duration::from_secs(10)),
        cb.wait_peer_name(Duration::from_secs(10))
    );
    assert_eq!(na.expect("A hears").expect("a name"), name("Beta"));
    assert_eq!(nb.expect("B hears").expect("a name"), name("Alpha"));
    tokio::join!(ca.close(), cb.close());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn a_stranger_with_the_record_gets_not_paired_and_the_device_keeps_waiting() {
    // Both key orders: a stranger whose key sorts like B's expects A's hello role; one whose
    // key sorts the other way sees A's hello with the "wrong" role before A's not-paired.
    for stranger_takes_b_role in [true, false] {
        stranger_case(stranger_takes_b_role).await;
    }
}

async fn stranger_case(stranger_takes_b_role: bool) {
    use pairwise_cli::session::reconnect;
    use pairwise_proto::error::ErrorCode;
    use pairwise_proto::handshake::reconnect_role;
    use pairwise_proto::identity::IdentitySecret;

    assert_isolated("native_pairing");
    let origin = server().await;
    let (id_a, id_b, a_keeps, b_keeps) = remembered_pair(&origin).await;
    let bind: SocketAddr = BIND.parse().expect("addr");
    let b_role = reconnect_role(&id_b.public(), &id_a.public()).expect("distinct keys");
    let wrong = loop {
        let k = IdentitySecret::new(p256::SecretKey::random(&mut rand_core::OsRng));
        let role = reconnect_role(&k.public(), &id_a.public()).expect("distinct keys");
        if (role == b_role) == stranger_takes_b_role {
            break k;
        }
    };
    let waiting_a = reconnect(&origin, &a_keeps, &id_a, bind);
    let stranger = reconnect(&origin, &b_keeps, &wrong, bind);
    let (a, s) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(8), waiting_a),
        tokio::time::timeout(Duration::from_secs(30), stranger)
    );
    let err = s
        .expect("the stranger is answered")
        .expect_err("and refused");
    assert_eq!(
        err.code,
        ErrorCode::UnknownDevice,
        "stranger takes B's role: {stranger_takes_b_role}: {err}"
    );
    assert!(a.is_err(), "A keeps waiting for the real device: {a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
async fn a_forgotten_device_is_told_with_a_notice_it_can_verify() {
    use pairwise_cli::session::{reconnect, tell_forgotten};
    use pairwise_proto::error::ErrorCode;

    assert_isolated("native_pairing");
    let origin = server().await;
    let (id_a, id_b, a_keeps, b_keeps) = remembered_pair(&origin).await;
    let bind: SocketAddr = BIND.parse().expect("addr");
    // A forgot B and keeps a tombstone (a_keeps); B still has its record of A.
    let own = id_a.public();
    let (told, b) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(
            tell_forgotten(&origin, &a_keeps, &own),
            reconnect(&origin, &b_keeps, &id_b, bind)
        )
    })
    .await
    .expect("both finish");
    told.expect("A told B");
    let err = b.expect_err("B is refused");
    assert_eq!(err.code, ErrorCode::Forgotten, "{err}");
}
