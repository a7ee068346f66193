//! The `pairwise` binary in a terminal (issue 15): `--no-qr` prints only the link, and the QR
//! code otherwise shown fits an 80×24 terminal; `--timeout` bounds every wait, also for a QR
//! code or a link, with a sentence and exit 6; `receive` asks before writing a newly paired
//! device's files, and with no terminal to ask on (and no `--yes`) declines them.
//!
//! These tests talk to a real `pairwise serve`, so they are `#[ignore]`d and run inside a
//! private network namespace: `tests/e2e/netns.sh cargo test -p pairwise-cli --test
//! cli_terminal -- --ignored` (scripts/test-all.sh does).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Running, assert_isolated, first_line, pairwise, serve, stderr};

const HALF_BLOCKS: [char; 3] = ['█', '▀', '▄'];
/// Black on white, as `term_qr` draws.
const QR_COLOURS: &str = "\x1b[38;5;16;48;5;231m";

/// Starts `pairwise pair --server URL EXTRA...`, waits for the link it prints on stdout, then
/// stops it and returns the link and what it wrote on stderr.
fn link_and_screen(url: &str, extra: &[&str]) -> (String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut shows = pairwise(&tmp.path().join("a"), &["pair", "--server", url])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let link = first_line(shows.stdout.take().unwrap());
    let out = Running(Some(shows)).kill();
    (link.trim().to_owned(), stderr(&out))
}

#[test]
#[ignore = "needs a server: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn no_qr_prints_the_link_and_no_block_characters() {
    assert_isolated("cli_terminal");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());

    let (link, screen) = link_and_screen(&url, &["--no-qr"]);
    assert!(link.starts_with(&format!("{url}#pair=")), "{link}");
    assert!(!screen.contains(HALF_BLOCKS), "{screen}");
    assert!(!screen.contains(QR_COLOURS), "{screen:?}");
    assert!(
        screen.contains("Open this link on the other device:"),
        "{screen}"
    );

    // Without it, the code is there: black on white, at most 24 lines.
    let (link, screen) = link_and_screen(&url, &[]);
    assert!(link.contains("#pair="), "{link}");
    let qr_lines = screen.lines().filter(|l| l.contains(HALF_BLOCKS)).count();
    assert!((1..=24).contains(&qr_lines), "{qr_lines} lines: {screen}");
    assert!(screen.contains(QR_COLOURS), "{screen:?}");
}

#[test]
#[ignore = "needs a server: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn timeout_bounds_the_wait_for_a_qr_code_or_a_link() {
    assert_isolated("cli_terminal");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, b"x").unwrap();
    let file = file.to_str().unwrap();
    let dir = tmp.path().to_str().unwrap();
    // A link whose device is in the room but never answers: stopped (SIGSTOP), its
    // connection to the server still open.
    let mut stopped = pairwise(
        &tmp.path().join("a"),
        &["pair", "--server", &url, "--no-qr"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let link = first_line(stopped.stdout.take().unwrap()).trim().to_owned();
    let pid = stopped.id().to_string();
    let _stopped = Running(Some(stopped));
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );

    for (args, sentence) in [
        (
            vec!["send", file],
            "No device opened the link within --timeout",
        ),
        (vec!["pair"], "No device opened the link within --timeout"),
        (
            vec!["receive", "--dir", dir],
            "No device opened the link within --timeout",
        ),
        (
            vec!["receive", &link, "--dir", dir],
            "The device that made the link did not answer within --timeout",
        ),
    ] {
        let started = Instant::now();
        let out = pairwise(&tmp.path().join("c"), &args)
            .args(["--server", &url, "--timeout", "2", "--no-qr"])
            .output()
            .unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(6), "{args:?}: {text}");
        assert!(text.contains(sentence), "{args:?}: {text}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
#[ignore = "needs a server: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn a_link_whose_device_is_gone_says_so_at_once() {
    assert_isolated("cli_terminal");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let (link, _) = link_and_screen(&url, &["--no-qr"]);
    let out = pairwise(
        &tmp.path().join("b"),
        &["receive", &link, "--timeout", "30"],
    )
    .arg("--dir")
    .arg(tmp.path())
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("This pairing link has expired"),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn receive_without_a_terminal_or_yes_declines_and_the_sender_is_told() {
    assert_isolated("cli_terminal");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let file = tmp.path().join("secret.txt");
    std::fs::write(&file, b"not for you\n").unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();

    let mut sending = pairwise(
        &tmp.path().join("a"),
        &["send", "--server", &url, "--no-qr"],
    )
    .args(["--timeout", "60"])
    .arg(&file)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let link = first_line(sending.stdout.take().unwrap());
    let sending = Running(Some(sending));
    // stdin is /dev/null: nobody can answer "Accept?".
    let got = pairwise(&tmp.path().join("b"), &["receive", link.trim(), "--dir"])
        .arg(&inbox)
        .output()
        .unwrap();
    let sent = sending.output();
    let (got_text, sent_text) = (stderr(&got), stderr(&sent));
    assert!(
        got_text.contains("sends 1 file(s), 12 B:\n  secret.txt  12 B"),
        "the offer is shown: {got_text}"
    );
    assert!(
        got_text.contains("Declining: there is no terminal to ask on.")
            && got_text.contains("--yes"),
        "{got_text}"
    );
    assert!(!got.status.success(), "{got_text}");
    assert_eq!(
        sent.status.code(),
        Some(3),
        "the sender is told: {sent_text}"
    );
    assert!(sent_text.to_lowercase().contains("declined"), "{sent_text}");
    assert_eq!(
        std::fs::read_dir(&inbox).unwrap().count(),
        0,
        "nothing written"
    );
}
