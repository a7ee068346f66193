//! The embedded relay against webrtc-rs's TURN client on loopback: STUN answers, minted
//! credentials allocate, expired or foreign ones do not, and the caps hold. (Relaying data
//! needs public addresses: the NAT lab, `tests/nat/`, moves files through it.)

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use turn::client::{Client, ClientConfig};

use super::*;
use crate::ice::IceConfig;

async fn relay(limits: RelayLimits) -> (EmbeddedRelay, TurnSecret) {
    let secret = TurnSecret::new(b"test-secret".to_vec());
    let relay = EmbeddedRelay::start(
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
        secret.clone(),
        limits,
    )
    .await
    .unwrap();
    (relay, secret)
}

async fn client(server: SocketAddr, username: &str, password: &str) -> Client {
    let conn = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let c = Client::new(ClientConfig {
        stun_serv_addr: server.to_string(),
        turn_serv_addr: server.to_string(),
        username: username.to_owned(),
        password: password.to_owned(),
        realm: REALM.to_owned(),
        software: String::new(),
        rto_in_ms: 100,
        conn: Arc::new(conn),
        vnet: None,
    })
    .await
    .unwrap();
    c.listen().await.unwrap();
    c
}

fn minted(secret: &TurnSecret, ttl: Duration) -> (String, String) {
    let config = IceConfig {
        stun: vec![],
        turn: vec!["turn:127.0.0.1:1".into()],
        secret: Some(secret.clone()),
        ttl,
    };
    let server = config.mint(SystemTime::now()).pop().unwrap();
    (server.username.unwrap(), server.credential.unwrap())
}

#[tokio::test]
async fn answers_stun_binding_requests() {
    let (relay, _) = relay(RelayLimits::default()).await;
    let c = client(relay.local_addr(), "", "").await;
    let mapped = tokio::time::timeout(Duration::from_secs(5), c.send_binding_request())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mapped.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    c.close().await.unwrap();
    relay.close().await;
}

#[tokio::test]
async fn minted_credentials_allocate_and_others_are_refused() {
    let (relay, secret) = relay(RelayLimits::default()).await;
    let (user, pass) = minted(&secret, Duration::from_secs(60));
    let c = client(relay.local_addr(), &user, &pass).await;
    let conn = c.allocate().await.expect("a minted credential allocates");
    assert_eq!(
        conn.local_addr().unwrap().ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    );
    c.close().await.unwrap();

    // The right form, the wrong secret.
    let other = TurnSecret::new(b"other".to_vec());
    let (user, pass) = minted(&other, Duration::from_secs(60));
    let c = client(relay.local_addr(), &user, &pass).await;
    assert!(
        c.allocate().await.is_err(),
        "a foreign credential must not allocate"
    );
    c.close().await.unwrap();

    // Minted with this secret but expired (expiry in the past).
    let user = format!("{}:old", unix(SystemTime::now()) - 1);
    let pass = secret.password(&user);
    let c = client(relay.local_addr(), &user, &pass).await;
    assert!(
        c.allocate().await.is_err(),
        "an expired credential must not allocate"
    );
    c.close().await.unwrap();
    relay.close().await;
}

#[tokio::test]
async fn one_credential_allocates_from_at_most_the_capped_number_of_addresses() {
    let limits = RelayLimits {
        addrs_per_credential: 2,
        ..RelayLimits::default()
    };
    let (relay, secret) = relay(limits).await;
    let (user, pass) = minted(&secret, Duration::from_secs(60));
    let mut clients = Vec::new();
    for _ in 0..2 {
        let c = client(relay.local_addr(), &user, &pass).await;
        c.allocate().await.expect("within the cap");
        clients.push(c);
    }
    let c = client(relay.local_addr(), &user, &pass).await;
    assert!(
        c.allocate().await.is_err(),
        "a third address is past the cap"
    );
    // Another connection's credential is not affected.
    let (user2, pass2) = minted(&secret, Duration::from_secs(60));
    let c2 = client(relay.local_addr(), &user2, &pass2).await;
    c2.allocate().await.expect("another credential allocates");
    for c in clients.into_iter().chain([c, c2]) {
        c.close().await.unwrap();
    }
    relay.close().await;
}

#[tokio::test]
async fn allocations_are_capped_in_all() {
    let limits = RelayLimits {
        max_allocations: 2,
        ..RelayLimits::default()
    };
    let (relay, secret) = relay(limits).await;
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (user, pass) = minted(&secret, Duration::from_secs(60));
        let c = client(relay.local_addr(), &user, &pass).await;
        c.allocate().await.expect("within the cap");
        clients.push(c);
    }
    let (user, pass) = minted(&secret, Duration::from_secs(60));
    let c = client(relay.local_addr(), &user, &pass).await;
    assert!(
        c.allocate().await.is_err(),
        "a third allocation is past the cap"
    );
    for c in clients.into_iter().chain([c]) {
        c.close().await.unwrap();
    }
    relay.close().await;
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn only_public_unicast_destinations_are_permitted() {
    for ip in ["203.0.113.7", "198.51.100.9", "8.8.8.8", "2001:db8::1"] {
        assert!(permitted(ip.parse().unwrap()), "{ip}");
    }
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
    ] {
        assert!(!permitted(ip.parse().unwrap()), "{ip}");
    }
    let _ = Ipv6Addr::LOCALHOST;
}

/// Two neighbouring UDP ports free on 127.0.0.1, below the kernel's ephemeral range
/// (32768-60999 by default): a fixed pair inside it was once taken by another test's
/// ephemeral socket in CI (Allocate answered 508).
fn free_pair() -> (u16, u16) {
    (20_000..32_000u16)
        .step_by(2)
        .find(|&p| {
            let a = std::net::UdpSocket::bind(("127.0.0.1", p));
            let b = std::net::UdpSocket::bind(("127.0.0.1", p + 1));
            a.is_ok() && b.is_ok()
        })
        .map(|p| (p, p + 1))
        .expect("two free ports below 32000")
}

#[tokio::test]
async fn relayed_ports_come_from_the_configured_range() {
    let (low, high) = free_pair();
    let limits = RelayLimits {
        ports: (low, high),
        ..RelayLimits::default()
    };
    let (relay, secret) = relay(limits).await;
    let mut clients = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..2 {
        let (user, pass) = minted(&secret, Duration::from_secs(60));
        let c = client(relay.local_addr(), &user, &pass).await;
        let conn = c.allocate().await.expect("a port is free");
        ports.push(conn.local_addr().unwrap().port());
        clients.push(c);
    }
    ports.sort_unstable();
    assert_eq!(ports, [low, high]);
    let (user, pass) = minted(&secret, Duration::from_secs(60));
    let c = client(relay.local_addr(), &user, &pass).await;
    assert!(c.allocate().await.is_err(), "the range is used up");
    for c in clients.into_iter().chain([c]) {
        c.close().await.unwrap();
    }
    relay.close().await;
}

#[tokio::test(start_paused = true)]
async fn the_pace_holds_an_allocation_to_its_rate_after_a_short_burst() {
    let pace = Pace::new(1_000_000);
    let t0 = Instant::now();
    // The burst (64 KiB at this rate) goes at once...
    pace.take(65_536).await;
    assert_eq!(Instant::now(), t0);
    // ...then 500 kB more take half a second.
    for _ in 0..5 {
        pace.take(100_000).await;
    }
    let took = Instant::now() - t0;
    assert!(
        took >= Duration::from_millis(490) && took <= Duration::from_millis(600),
        "{took:?}"
    );
    // Unpaced: never waits.
    let free = Pace::new(0);
    let t1 = Instant::now();
    free.take(100_000_000).await;
    assert_eq!(Instant::now(), t1);
}

#[tokio::test]
async fn a_relay_socket_ends_at_its_lifetime_and_drops_forbidden_destinations() {
    let permits = Arc::new(Semaphore::new(1));
    let conn = BoundedConn {
        socket: udp_socket("127.0.0.1:0".parse().unwrap()).unwrap(),
        pace: Pace::new(0),
        deadline: Instant::now() + Duration::from_millis(200),
        _permit: Arc::clone(&permits).try_acquire_owned().unwrap(),
    };
    assert_eq!(permits.available_permits(), 0);
    // A forbidden destination is dropped silently (not an error that would end the
    // allocation), and nothing is sent: the loopback listener below receives nothing.
    let listener = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    assert_eq!(
        conn.send_to(b"ping", listener.local_addr().unwrap())
            .await
            .unwrap(),
        4
    );
    let mut buf = [0u8; 16];
    let nothing =
        tokio::time::timeout(Duration::from_millis(100), listener.recv_from(&mut buf)).await;
    assert!(nothing.is_err(), "a packet to loopback left the relay");
    // Past its lifetime, receiving and sending fail, which ends the allocation.
    let mut buf = [0u8; 16];
    assert!(conn.recv_from(&mut buf).await.is_err());
    assert!(
        conn.send_to(b"x", "203.0.113.9:9".parse().unwrap())
            .await
            .is_err()
    );
    drop(conn);
    assert_eq!(
        permits.available_permits(),
        1,
        "the allocation's permit is back"
    );
}
