use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;

fn node(c: char) -> NodeId {
    Member::parse(&format!("{}:0", c.to_string().repeat(16)))
        .unwrap()
        .node
}

fn member(c: char, conn: u64) -> Member {
    Member {
        node: node(c),
        conn: ConnId(conn),
    }
}

fn handle(id: u64) -> (PeerHandle, mpsc::Receiver<Frame>) {
    let (tx, rx) = mpsc::channel(8);
    let handle = PeerHandle {
        id: ConnId(id),
        outbox: tx,
        cancel: CancellationToken::new(),
        evict: CancellationToken::new(),
    };
    (handle, rx)
}

fn room() -> RoomId {
    RoomId::parse("abcdefghijklmnopqrstuv").unwrap()
}

fn frames(rx: &mut mpsc::Receiver<Frame>) -> Vec<String> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|f| f.text().to_owned())
        .collect()
}

/// A renewal that started after everything so far.
fn later() -> Instant {
    Instant::now() + std::time::Duration::from_secs(1)
}

const JOINED: &str = r#"{"type":"joined","peers":1,"ice":[]}"#;
const PEER_JOINED: &str = r#"{"type":"peer-joined"}"#;
const PEER_LEFT: &str = r#"{"type":"peer-left"}"#;

#[test]
fn joined_comes_first_even_when_the_peer_answers_before_the_script_does() {
    let local = Local::new(node('a'));
    let (h, mut rx) = handle(1);
    local.begin_join(&room(), h);
    let b = member('b', 9);
    assert!(local.handle(ConnId(1), b.clone(), Event::PeerJoined));
    assert!(local.handle(ConnId(1), b.clone(), Event::Relay(Frame::relay("1"))));
    assert!(frames(&mut rx).is_empty(), "nothing before joined");
    local.finish_join(ConnId(1), None, Frame::from_node(JOINED));
    assert_eq!(
        frames(&mut rx),
        [JOINED, PEER_JOINED, r#"{"type":"relay","body":1}"#]
    );
    assert_eq!(local.peer(ConnId(1), &room()), Some(b));
}

#[test]
fn frames_from_anyone_but_the_peer_are_dropped() {
    let local = Local::new(node('a'));
    let (h, mut rx) = handle(1);
    local.begin_join(&room(), h);
    local.finish_join(ConnId(1), Some(member('b', 9)), Frame::from_node(JOINED));
    local.handle(ConnId(1), member('c', 3), Event::Relay(Frame::relay("1")));
    local.handle(ConnId(1), member('c', 3), Event::PeerLeft);
    local.handle(ConnId(1), member('b', 9), Event::Relay(Frame::relay("2")));
    assert_eq!(frames(&mut rx), [JOINED, r#"{"type":"relay","body":2}"#]);
    assert!(!local.handle(ConnId(2), member('b', 9), Event::PeerJoined));
}

#[test]
fn a_new_peer_without_the_old_ones_leave_reads_as_left_then_joined() {
    let local = Local::new(node('a'));
    let (h, mut rx) = handle(1);
    local.begin_join(&room(), h);
    local.finish_join(ConnId(1), Some(member('b', 9)), Frame::from_node(JOINED));
    local.handle(ConnId(1), member('c', 3), Event::PeerJoined);
    local.handle(ConnId(1), member('c', 3), Event::PeerJoined);
    assert_eq!(frames(&mut rx), [JOINED, PEER_LEFT, PEER_JOINED]);
}

#[test]
fn a_renewal_says_peer_left_for_a_remote_peer_that_stopped_renewing() {
    let local = Local::new(node('a'));
    let (h, mut rx) = handle(1);
    local.begin_join(&room(), h);
    local.finish_join(ConnId(1), Some(member('b', 9)), Frame::from_node(JOINED));
    let before = Instant::now();
    local.renewed(&room(), &[member('a', 1)], &[member('b', 9)], &[], later());
    assert_eq!(frames(&mut rx), [JOINED], "still there");
    local.renewed(&room(), &[member('a', 1)], &[], &[], later());
    assert_eq!(frames(&mut rx), [PEER_LEFT]);
    local.renewed(&room(), &[member('a', 1)], &[], &[], later());
    assert!(frames(&mut rx).is_empty(), "only once");
    // A peer learned of after the renewal started may have joined after its script ran.
    local.handle(ConnId(1), member('c', 3), Event::PeerJoined);
    local.renewed(&room(), &[member('a', 1)], &[], &[], before);
    assert_eq!(frames(&mut rx), [PEER_JOINED]);
}

#[test]
fn a_connection_that_lost_its_lease_is_evicted_and_joining_ones_are_not_renewed() {
    let local = Local::new(node('a'));
    let (h1, _rx1) = handle(1);
    let (h2, _rx2) = handle(2);
    let (evict1, evict2) = (h1.evict.clone(), h2.evict.clone());
    local.begin_join(&room(), h1);
    local.begin_join(&room(), h2);
    local.finish_join(ConnId(1), None, Frame::from_node(JOINED));
    assert_eq!(
        local.joined_rooms().into_iter().collect::<Vec<_>>(),
        [(room(), vec![member('a', 1)])]
    );
    assert_eq!(local.rooms(), 1);
    local.renewed(
        &room(),
        &[member('a', 1)],
        &[],
        &[member('a', 1), member('a', 2)],
        later(),
    );
    assert!(evict1.is_cancelled());
    assert!(!evict2.is_cancelled(), "its script has not answered yet");
    assert_eq!(local.remove(ConnId(1)), Some((room(), None)));
    assert_eq!(local.remove(ConnId(1)), None);
}
