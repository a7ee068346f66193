//! `pairwise serve --redis URL` with nothing at URL stops at once with a sentence naming it,
//! and never announces an address (a node that cannot reach its rooms must not look served).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pairwise");

#[test]
fn serve_with_an_unreachable_redis_names_it_and_exits() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let cfg = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-relay", "--redis"])
        .arg(format!("redis://127.0.0.1:{port}"))
        .arg("--config")
        .arg(cfg.path())
        .env_remove("PAIRWISE_LISTEN")
        .env_remove("PAIRWISE_REDIS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout, "", "no address announced");
    assert!(
        stderr.contains(&format!(
            "could not reach Redis at redis://127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
