use clap::Parser as _;

use std::time::Duration;

use super::*;
use crate::cli::{Cli, Command};

fn plan(args: &[&str]) -> anyhow::Result<Plan> {
    let cli = Cli::try_parse_from(["pairwise", "serve"].iter().chain(args))?;
    match cli.command {
        Command::Serve(args) => Plan::from_args(&args),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn plain_serve_is_http_on_loopback_8080() {
    let p = plan(&[]).unwrap();
    assert_eq!(
        p,
        Plan {
            listen: "127.0.0.1:8080".parse().unwrap(),
            tls: TlsMode::Off,
            lan: false,
            ice: IcePlan::StunOnly { stun: vec![] },
        }
    );
}

#[test]
fn the_embedded_relay_runs_off_loopback_unless_turn_or_no_relay() {
    let embedded = plan(&["--listen", "203.0.113.1:8080", "--insecure-http"]).unwrap();
    assert!(
        matches!(
            embedded.ice,
            IcePlan::Embedded {
                port: None,
                public_ip: None,
                ..
            }
        ),
        "{embedded:?}"
    );
    let lan = plan(&["--lan"]).unwrap();
    assert!(
        matches!(
            lan.ice,
            IcePlan::Embedded {
                rate: 50_000_000,
                ports: (49152, 65535),
                ..
            }
        ),
        "{lan:?}"
    );
    let unpaced = plan(&["--lan", "--relay-rate", "0"]).unwrap();
    assert!(matches!(unpaced.ice, IcePlan::Embedded { rate: 0, .. }));
    let off = plan(&["--lan", "--no-relay", "--stun", "stun:198.51.100.7:3478"]).unwrap();
    assert_eq!(
        off.ice,
        IcePlan::StunOnly {
            stun: vec!["stun:198.51.100.7:3478".into()]
        }
    );
    let on_loopback_with_public_ip = plan(&["--public-ip", "203.0.113.1"]).unwrap();
    assert!(matches!(
        on_loopback_with_public_ip.ice,
        IcePlan::Embedded { .. }
    ));
    let coturn = plan(&[
        "--lan",
        "--turn",
        "turn:203.0.113.1:3478?transport=tcp",
        "--turn-secret-file",
        "/run/secret",
        "--turn-ttl",
        "60",
    ])
    .unwrap();
    assert_eq!(
        coturn.ice,
        IcePlan::External {
            stun: vec![],
            turn: vec!["turn:203.0.113.1:3478?transport=tcp".into()],
            secret_file: Some("/run/secret".into()),
            ttl: Duration::from_secs(60),
        }
    );
}

#[test]
fn bad_ice_options_are_refused_with_a_sentence() {
    let err = plan(&["--lan", "--turn", "turn:203.0.113.1:3478"]).unwrap_err();
    assert!(err.to_string().contains("--turn-secret-file"), "{err}");
    let err = plan(&["--lan", "--turn", "http://x", "--turn-secret-file", "f"]).unwrap_err();
    assert!(err.to_string().contains("turn:"), "{err}");
    assert!(plan(&["--lan", "--relay-ports", "50000-49999"]).is_err());
    assert!(plan(&["--lan", "--relay-ports", "0-10"]).is_err());
    assert!(matches!(
        plan(&["--lan", "--relay-ports", "50000-50009"])
            .unwrap()
            .ice,
        IcePlan::Embedded {
            ports: (50000, 50009),
            ..
        }
    ));
    let err = plan(&["--lan", "--stun", "turn:x"]).unwrap_err();
    assert!(err.to_string().contains("stun:"), "{err}");
    assert!(
        plan(&["--lan", "--turn-ttl", "5"]).is_err(),
        "a TTL under 10 s is refused"
    );
}

#[test]
fn lan_is_https_on_every_address_port_8443_unless_listen_is_given() {
    let p = plan(&["--lan"]).unwrap();
    assert_eq!(p.listen, "0.0.0.0:8443".parse::<SocketAddr>().unwrap());
    assert_eq!(p.tls, TlsMode::Generated);
    let p = plan(&["--lan", "--listen", "127.0.0.1:0"]).unwrap();
    assert_eq!(p.listen, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
}

#[test]
fn own_certificate_implies_tls_and_needs_both_files() {
    let p = plan(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
    assert_eq!(
        p.tls,
        TlsMode::Files {
            cert: "c.pem".into(),
            key: "k.pem".into()
        }
    );
    assert!(
        plan(&["--tls-cert", "c.pem"]).is_err(),
        "--tls-key is required"
    );
    assert!(
        plan(&["--tls-key", "k.pem"]).is_err(),
        "--tls-cert is required"
    );
}

#[test]
fn plain_http_to_other_devices_is_refused_with_the_reason_and_the_ways_out() {
    for listen in ["0.0.0.0:8080", "192.168.1.20:8080", "[::]:8080"] {
        let err = plan(&["--listen", listen]).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("refusing to serve plain http on {listen}:")),
            "{err}"
        );
        assert!(err.contains("WebCrypto"), "{err}");
        assert!(err.contains("--lan") && err.contains("--tls"), "{err}");
        assert!(err.contains("--insecure-http"), "{err}");
    }
    let p = plan(&["--listen", "0.0.0.0:8080", "--insecure-http"]).unwrap();
    assert_eq!(p.tls, TlsMode::Off);
    assert!(
        plan(&["--listen", "[::1]:0"]).is_ok(),
        "IPv6 loopback is fine"
    );
    assert!(
        plan(&["--insecure-http", "--tls"]).is_err(),
        "contradictory flags"
    );
}

fn identity() -> ServerIdentity {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path());
    let names = CertNames::for_machine(None, &[]);
    generated::load_or_create(&dir, &names, &[]).unwrap().0
}

#[test]
fn lan_announcement_lists_urls_shows_a_qr_code_of_the_first_and_the_fingerprint() {
    let id = identity();
    let urls = vec![
        "https://192.168.1.20:8443/".to_owned(),
        "https://10.0.0.5:8443/".to_owned(),
    ];
    let text = lan_announcement(&urls, None, &id, &TlsMode::Generated).unwrap();
    assert!(text.contains("  https://192.168.1.20:8443/\n  https://10.0.0.5:8443/\n"));
    assert!(text.contains(&term_qr::render(&urls[0]).unwrap()));
    assert!(text.contains(&id.fingerprint));
    assert!(text.contains("continue only if the SHA-256 fingerprint it shows is the one above"));
}

#[test]
fn lan_announcement_says_when_nobody_else_can_reach_the_server() {
    let id = identity();
    let text = lan_announcement(&[], None, &id, &TlsMode::Generated).unwrap();
    assert!(text.starts_with("No LAN address found"), "{text}");
    let text = lan_announcement(
        &[],
        Some("127.0.0.1:8443".parse().unwrap()),
        &id,
        &TlsMode::Generated,
    )
    .unwrap();
    assert!(
        text.starts_with("Listening on loopback only (127.0.0.1:8443)"),
        "{text}"
    );
}

#[test]
fn served_names_are_the_given_ones_and_this_machine() {
    let cli = Cli::try_parse_from([
        "pairwise",
        "serve",
        "--host",
        "pair.example.org",
        "--host",
        "a.example,b.example",
    ])
    .unwrap();
    let Command::Serve(args) = cli.command else {
        panic!("not serve")
    };
    assert_eq!(
        served_names(&args.hosts, Some("laptop")),
        [
            "pair.example.org",
            "a.example",
            "b.example",
            "laptop",
            "laptop.local"
        ]
    );
    assert_eq!(served_names(&[], Some("box.lan")), ["box.lan"]);
    assert!(served_names(&[], None).is_empty());
}
