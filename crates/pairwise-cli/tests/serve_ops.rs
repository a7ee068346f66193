//! `pairwise serve` as operators and users meet it, as the real binaries on 127.0.0.1: a CLI
//! refused by the server's per-address session rate says so in a sentence of its own (not "lost
//! the connection") and exits with an error; a server never reached is said so in a terminal's
//! words (not the page's "reload the page"); `--log-format json` writes a JSON object per log
//! line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pairwise_cli::signaling::{Server, Signaling};
use pairwise_cli::tls::client::Trust;
use pairwise_proto::error::ErrorCode;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise");

/// A running `pairwise serve`, killed when dropped.
struct Serving {
    child: Child,
    url: String,
    _config: tempfile::TempDir,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line `out` gives within 30 s, read on a thread of its own (a pipe has no timeout).
fn first_line(
    out: impl std::io::Read + Send + 'static,
) -> Result<String, std::sync::mpsc::RecvTimeoutError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(Duration::from_secs(30))
}

/// `pairwise serve` on a free loopback port with `args`, once it printed its address.
fn serve(args: &[&str]) -> Serving {
    let config = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-relay", "--config"])
        .arg(config.path())
        .args(args)
        .env_remove("PAIRWISE_LISTEN")
        .env_remove("PAIRWISE_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pairwise serve");
    let line = first_line(child.stdout.take().unwrap()).expect("serve prints its address");
    let url = line
        .trim()
        .strip_prefix("Pairwise is serving on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Serving {
        child,
        url,
        _config: config,
    }
}

#[test]
fn a_cli_over_the_session_rate_is_told_so_and_fails() {
    let server = serve(&["--joins-per-ip-minute", "1"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The one session this address may start this minute, held open meanwhile.
    let _first = runtime
        .block_on(Signaling::connect(&Server::new(&server.url, Trust::System)))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(home.path().join("config"))
        .args([
            "receive",
            "--server",
            &server.url,
            "--timeout",
            "30",
            "--dir",
        ])
        .arg(home.path())
        .env_remove("PAIRWISE_SERVER")
        .env_remove("PAIRWISE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused, yet it succeeded: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it gave up at once, not at its timeout"
    );
    assert!(
        stderr.contains(ErrorCode::RateLimited.sentence()),
        "the rate limit's own sentence: {stderr}"
    );
    assert!(
        !stderr.contains("connection to the server") && !stderr.contains("Could not reach"),
        "not a lost connection: {stderr}"
    );
}

#[test]
fn a_server_never_reached_is_said_so_in_terminal_words() {
    // Nothing listens on a port this test just had and closed again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(home.path().join("config"))
        .args(["receive", "--server", &format!("http://127.0.0.1:{port}")])
        .args(["--timeout", "20", "--dir"])
        .arg(home.path())
        .env_remove("PAIRWISE_SERVER")
        .env_remove("PAIRWISE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "no server, yet it succeeded: {stderr}"
    );
    assert!(
        stderr.contains("Could not reach the server. Check its address"),
        "the terminal's sentence for a server never reached: {stderr}"
    );
    assert!(
        !stderr.contains("reload the page"),
        "no page wording in a terminal: {stderr}"
    );
}

#[test]
fn serve_with_log_format_json_writes_a_json_object_per_line() {
    let config = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-relay"])
        .args(["--log-format", "json", "--config"])
        .arg(config.path())
        .env_remove("PAIRWISE_LISTEN")
        .env_remove("PAIRWISE_CONFIG")
        .env_remove("PAIRWISE_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pairwise serve");
    let line = first_line(child.stderr.take().unwrap());
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("serve logs as it starts");
    let event: serde_json::Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"));
    for field in ["timestamp", "level", "target", "message"] {
        assert!(event[field].is_string(), "{field} in {line}");
    }
}
