//! Pairing by code with the `pairwise` binary (§2.1, issue 15): `send --code` shows a code,
//! `receive CODE` types it, both show the six-digit number and ask whether it matches; a "yes"
//! on both pairs them and the file arrives intact, a "no" pairs nothing and writes nothing. A
//! code nobody shows is `code-unknown`, a mistyped one `bad-code`.
//!
//! The tests that talk to a real `pairwise serve` are `#[ignore]`d and run inside a private
//! network namespace: `tests/e2e/netns.sh cargo test -p pairwise-cli --test cli_code --
//! --ignored` (scripts/test-all.sh does).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};

use pairwise_cli::config::ConfigDir;
use pairwise_cli::keystore::Keystore;
use support::{Running, assert_isolated, first_line, pairwise, serve, stderr};

const NOW: u64 = 1_764_000_000;

/// The number a side showed: the digits after "Check that the other screen shows: ".
fn number(out: &Output) -> String {
    let screen = stderr(out);
    let line = screen
        .lines()
        .find_map(|l| l.strip_prefix("Check that the other screen shows: "))
        .unwrap_or_else(|| panic!("no number shown: {screen}"));
    line.trim().to_owned()
}

fn paired_devices(config: &Path) -> usize {
    Keystore::open(&ConfigDir::at(config), NOW)
        .unwrap()
        .devices()
        .len()
}

/// `send --code FILE` with `send_answer` on its stdin, and `receive CODE --yes` (the files
/// are accepted without a question: the numbers are the only one) with `receive_answer`;
/// returns both outputs.
fn exchange(
    tmp: &Path,
    url: &str,
    file: &Path,
    send_answer: &str,
    receive_answer: &str,
) -> (Output, Output) {
    let mut sender = pairwise(
        &tmp.join("a"),
        &["send", "--code", file.to_str().unwrap(), "--server", url],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    sender
        .stdin
        .take()
        .unwrap()
        .write_all(send_answer.as_bytes())
        .unwrap();
    let code = first_line(sender.stdout.take().unwrap());
    let code = code.trim();
    assert!(
        code.len() == 9 && code.as_bytes()[4] == b' ',
        "the code as shown: {code:?}"
    );
    let sender = Running(Some(sender));
    let dir = tmp.join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let mut receiver = pairwise(
        &tmp.join("b"),
        &[
            "receive",
            code,
            "--yes",
            "--dir",
            dir.to_str().unwrap(),
            "--server",
            url,
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    receiver
        .stdin
        .take()
        .unwrap()
        .write_all(receive_answer.as_bytes())
        .unwrap();
    let receiver = Running(Some(receiver));
    (sender.output(), receiver.output())
}

#[test]
#[ignore = "needs a server and WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn a_code_typed_and_two_yeses_pair_and_the_file_arrives() {
    assert_isolated("cli_code");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let file = tmp.path().join("photo.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let (sent, received) = exchange(tmp.path(), &url, &file, "y\n", "yes\n");
    let both = format!("send: {}\nreceive: {}", stderr(&sent), stderr(&received));
    assert!(sent.status.success(), "{both}");
    assert!(received.status.success(), "{both}");
    assert_eq!(number(&sent), number(&received));
    assert!(stderr(&sent).contains("Do the numbers match? [y/N]"));
    assert_eq!(
        std::fs::read(tmp.path().join("in/photo.bin")).unwrap(),
        bytes
    );
    assert_eq!(paired_devices(&tmp.path().join("a")), 1);
    assert_eq!(paired_devices(&tmp.path().join("b")), 1);
}

#[test]
#[ignore = "needs a server and WebRTC: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn a_no_pairs_nothing_and_writes_nothing() {
    assert_isolated("cli_code");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let file = tmp.path().join("secret.txt");
    std::fs::write(&file, b"not for a stranger").unwrap();
    let (sent, received) = exchange(tmp.path(), &url, &file, "n\n", "y\n");
    assert!(!sent.status.success());
    assert!(
        stderr(&sent).contains("The numbers on the two screens did not match"),
        "{}",
        stderr(&sent)
    );
    assert!(!received.status.success(), "{}", stderr(&received));
    assert_eq!(std::fs::read_dir(tmp.path().join("in")).unwrap().count(), 0);
    assert_eq!(paired_devices(&tmp.path().join("a")), 0);
    assert_eq!(paired_devices(&tmp.path().join("b")), 0);

    // The end of input is a "no" too, on the side that typed the code.
    let tmp = tempfile::tempdir().unwrap();
    let (sent, received) = exchange(tmp.path(), &url, &file, "y\n", "");
    assert!(!received.status.success());
    assert!(
        stderr(&received).contains("did not match"),
        "{}",
        stderr(&received)
    );
    assert!(!sent.status.success(), "{}", stderr(&sent));
    assert_eq!(std::fs::read_dir(tmp.path().join("in")).unwrap().count(), 0);
    assert_eq!(paired_devices(&tmp.path().join("a")), 0);
}

#[test]
#[ignore = "needs a server: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn a_code_nobody_shows_is_code_unknown() {
    assert_isolated("cli_code");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let out = pairwise(
        &tmp.path().join("b"),
        &["pair", "1234", "5678", "--server", &url],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("No device is showing this code"),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs a server: runs inside tests/e2e/netns.sh (scripts/test-all.sh does)"]
fn timeout_bounds_the_wait_for_the_code() {
    assert_isolated("cli_code");
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, url) = serve(tmp.path());
    let out = pairwise(
        &tmp.path().join("a"),
        &["pair", "--code", "--server", &url, "--timeout", "2"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No device typed the code within --timeout"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mistyped_code_is_bad_code_before_any_connection() {
    let tmp = tempfile::tempdir().unwrap();
    for typed in ["1234 567", "1234 56789", "１２３４５６７８"] {
        let out = pairwise(
            &tmp.path().join("b"),
            // Nothing listens there: the code is refused before any connection.
            &["receive", typed, "--server", "http://127.0.0.1:9"],
        )
        .output()
        .unwrap();
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("That is not a pairing code"),
            "{typed}: {}",
            stderr(&out)
        );
    }
}
