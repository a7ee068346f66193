//! Names as a person meets them in the `pairwise` binary (issue 15): an ambiguous `--to` lists
//! the devices it matches; `--name` is kept for later runs and `pairwise devices` shows it; and,
//! between two real CLIs, the offer names the sending device by the name it was given once, and
//! the receiving side keeps that name instead of a host name.
//!
//! The two-CLI test uses WebRTC, so it is `#[ignore]`d and runs inside a private network
//! namespace: `tests/e2e/netns.sh cargo test -p pairwise-cli --test cli_names -- --ignored`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::path::Path;
use std::process::{Output, Stdio};

use pairwise_cli::config::ConfigDir;
use pairwise_cli::keystore::{Keystore, device_id};
use pairwise_proto::device::DeviceName;
use pairwise_proto::identity::IdentitySecret;
use pairwise_proto::keys::PairingKey;

mod support;

use support::{Running, assert_isolated, first_line, pairwise, serve, stderr};

const NOW: u64 = 1_764_000_000;

fn run(config: &Path, args: &[&str]) -> Output {
    pairwise(config, args).output().unwrap()
}

/// A configuration directory holding paired devices called `names`.
fn paired_with(names: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let mut store = Keystore::open(&ConfigDir::at(&config), NOW).unwrap();
    store
        .update(NOW, |s| {
            for (i, name) in names.iter().enumerate() {
                let byte = u8::try_from(i).unwrap() + 1;
                let key = IdentitySecret::new(p256::SecretKey::from_slice(&[byte; 32]).unwrap());
                let identity = key.public();
                s.remember(&identity, &PairingKey::from_bytes([9; 32]), NOW);
                let name = DeviceName::parse(name).unwrap();
                s.seen(&device_id(&identity), Some(&name), NOW);
            }
        })
        .unwrap();
    (tmp, config)
}

#[test]
fn an_ambiguous_to_or_from_lists_the_devices_it_matches() {
    let (tmp, config) = paired_with(&["Chrome on Linux", "chrome on linux", "Pixel 8"]);
    let store = Keystore::open(&ConfigDir::at(&config), NOW).unwrap();
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, b"x").unwrap();
    let file = file.to_str().unwrap();
    let dir = tmp.path().to_str().unwrap();
    for args in [
        vec!["send", "--to", "Chrome on Linux", file],
        vec!["receive", "--from", "CHROME ON LINUX", "--dir", dir],
    ] {
        let out = run(&config, &args);
        let text = stderr(&out);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(
            text.contains("matches more than one paired device:"),
            "{text}"
        );
        for d in &store.devices()[..2] {
            let line = format!("\n  {}  (id {})\n", d.name, d.short_id());
            assert!(text.contains(&line), "{line:?} in {text}");
        }
        assert!(!text.contains("Pixel 8"), "only the matches: {text}");
        // The person can pick one by the id the list shows.
        assert!(text.contains("Use its id"), "{text}");
    }
}

#[test]
fn the_name_given_with_name_is_kept_and_devices_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, b"x").unwrap();
    let file = file.to_str().unwrap();
    let shown = |config: &Path| stderr(&run(config, &["devices"]));
    assert!(
        shown(&config).contains("(the host name; give it another with --name"),
        "{}",
        shown(&config)
    );
    // `--name` on a run that goes no further (no paired devices) is kept all the same.
    let out = run(
        &config,
        &["send", "--to", "x", "--name", "Work laptop", file],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("This device is now called \"Work laptop\""),
        "{}",
        stderr(&out)
    );
    assert!(shown(&config).contains("This device: \"Work laptop\" (set with --name)."));
    // The same name again says nothing new; another replaces it.
    let out = run(
        &config,
        &["send", "--to", "x", "--name", "Work laptop", file],
    );
    assert!(!stderr(&out).contains("now called"), "{}", stderr(&out));
    run(&config, &["send", "--to", "x", "--name", "Büro", file]);
    assert!(shown(&config).contains("This device: \"Büro\""));
    // A name the protocol refuses is refused before anything is kept.
    let out = run(
        &config,
        &["send", "--to", "x", "--name", "a\u{202e}b", file],
    );
    assert!(stderr(&out).contains("--name"), "{}", stderr(&out));
    assert!(shown(&config).contains("This device: \"Büro\""));
}

#[test]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn the_offer_names_the_sender_by_the_name_it_kept() {
    assert_isolated("cli_names");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (_serve, url) = serve(tmp.path());

    // Pair once, each with a name given on this run only.
    let mut shows = pairwise(&a, &["pair", "--server", &url, "--name", "Alpha"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let link = first_line(shows.stdout.take().unwrap());
    let shows = Running(Some(shows));
    let opens = pairwise(&b, &["pair", link.trim(), "--name", "Beta"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Running(Some(opens)).succeeds("B pairs");
    shows.succeeds("A pairs");

    // Later runs give no --name: the kept names are what the other side sees.
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, b"kept names\n").unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let wait = ["--server", &url, "--timeout", "90"];
    let receiving = pairwise(&b, &["receive", "--from", "alpha", "--dir"])
        .arg(&inbox)
        .args(wait)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let receiving = Running(Some(receiving));
    let sending = pairwise(&a, &["send", "--to", "beta", "--json"])
        .args(wait)
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sent = Running(Some(sending)).succeeds("A sends");
    let got = receiving.succeeds("B receives");
    let text = stderr(&got);
    assert!(
        text.contains("\"Alpha\" sends 1 file(s), 11 B:"),
        "the offer names the sender: {text}"
    );
    assert_eq!(
        std::fs::read(inbox.join("notes.txt")).unwrap(),
        b"kept names\n"
    );
    let events = String::from_utf8_lossy(&sent.stdout);
    let offered = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "offered")
        .unwrap_or_else(|| panic!("an offered event: {events}"));
    assert_eq!(offered["to"], "Beta", "{offered}");
    // B still calls A by the name A kept, not by A's host name.
    let listed = run(&b, &["devices", "--json"]);
    let devices: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(devices[0]["name"], "Alpha", "{devices}");
}
