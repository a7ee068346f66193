//! Running the real `pairwise` binary from tests: a command with no setting taken from the
//! environment, a server on a free loopback port, and children that are killed when a test
//! fails.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "shared by several test files, each using a part; failures fail the test"
)]

use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_pairwise");

/// `pairwise --config CONFIG ARGS...`, with no setting taken from the environment and stdin
/// not a terminal.
pub(crate) fn pairwise(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(config).args(args);
    for var in [
        "PAIRWISE_CONFIG",
        "PAIRWISE_NAME",
        "PAIRWISE_SERVER",
        "PAIRWISE_SERVER_CERT",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Standard error as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Refuses to run where the machine has interfaces other than loopback and the namespace's
/// link-local veth pair: these tests must never reach beyond loopback.
pub(crate) fn assert_isolated(test: &str) {
    let dev = std::fs::read_to_string("/proc/net/dev").expect("read /proc/net/dev");
    let foreign: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(str::trim))
        .filter(|name| !["lo", "anc0", "anc1"].contains(name))
        .collect();
    assert!(
        foreign.is_empty(),
        "refusing to run outside a private network namespace (found {foreign:?}); run: \
         tests/e2e/netns.sh cargo test -p pairwise-cli --test {test} -- --ignored"
    );
}

/// A child killed when dropped (a failed assertion leaves no process behind).
#[derive(Debug)]
pub(crate) struct Running(pub(crate) Option<Child>);

impl Running {
    /// Waits for the child and returns its output.
    pub(crate) fn output(mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }

    /// Waits for the child and returns its output, failing the test if it failed.
    pub(crate) fn succeeds(self, what: &str) -> Output {
        let out = self.output();
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        out
    }

    /// Kills the child and returns what it wrote.
    pub(crate) fn kill(mut self) -> Output {
        let mut child = self.0.take().unwrap();
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The first line of `out` within 60 s.
pub(crate) fn first_line(out: impl Read + Send + 'static) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("a line in time")
}

/// `pairwise serve` on a free loopback port, without relay; returns it and its URL.
pub(crate) fn serve(dir: &Path) -> (Running, String) {
    let mut serve = pairwise(&dir.join("serve"), &["serve"]);
    let mut serve = serve
        .args(["--listen", "127.0.0.1:0", "--no-relay"])
        .env_remove("PAIRWISE_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(serve.stdout.take().unwrap());
    let url = line
        .trim()
        .strip_prefix("Pairwise is serving on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Running(Some(serve)), url)
}
