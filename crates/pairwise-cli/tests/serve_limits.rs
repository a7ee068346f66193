//! `pairwise serve` raises its own open-file limit (issue 13): started with a soft limit of
//! 256 under a higher hard limit (`prlimit`, util-linux), the running server's soft limit is
//! the hard one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise");

/// (soft, hard) "Max open files" of a process, from /proc.
fn open_files(pid: &str) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .to_owned();
    let mut fields = line.split_whitespace().skip(3);
    (
        fields.next().unwrap().to_owned(),
        fields.next().unwrap().to_owned(),
    )
}

#[test]
fn serve_raises_its_open_file_limit_to_the_hard_limit() {
    let (_, hard) = open_files("self");
    let Ok(hard_n) = hard.parse::<u64>() else {
        return; // unlimited: nothing to raise to
    };
    if hard_n <= 256 {
        return; // nothing above the soft limit the test sets
    }
    let cfg = tempfile::tempdir().unwrap();
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile=256:{hard}"))
        .arg(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-relay", "--config"])
        .arg(cfg.path())
        .env_remove("PAIRWISE_LISTEN")
        .env_remove("PAIRWISE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("prlimit (util-linux) runs pairwise serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    // prlimit execs the command: the child is the server.
    let limits = open_files(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.unwrap().starts_with("Pairwise is serving on "));
    let want = hard_n.min(1 << 20).to_string();
    assert_eq!(limits, (want, hard));
}
