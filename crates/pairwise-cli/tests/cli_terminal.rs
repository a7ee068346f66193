//! The `pairwise` binary in a terminal (issue 15): `--no-qr` prints only the link, and the QR
//! code otherwise shown fits an 80×24 terminal.
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

use std::process::Stdio;

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
