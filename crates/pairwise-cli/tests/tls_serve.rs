//! `pairwise serve` over HTTPS, as the real binary: the generated certificate is the only one
//! a client needs to trust, it is kept and reused, its key is private, the user's own files
//! work and bad ones are refused with a sentence, plain http to other devices is refused, and
//! the CLI's signaling reaches the server over `wss://` with `--server-cert` (and says what to
//! do without it).
//!
//! Only loopback is ever connected to. The refused non-loopback bind is checked by its message
//! alone: the server exits before it binds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on any error"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pairwise_cli::signaling::{Server, Signaling, SignalingError};
use pairwise_cli::tls::client::Trust;
use pairwise_cli::tls::{fingerprint, read_certificates};
use pairwise_proto::ids::RoomId;
use pairwise_proto::signal::ServerToClient;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise");

/// A running `pairwise serve`, killed when dropped.
struct Serving {
    child: Child,
    url: String,
    port: u16,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Serving {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env_remove("PAIRWISE_LISTEN")
        .env_remove("PAIRWISE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pairwise serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve prints its address");
    let url = line
        .trim()
        .strip_prefix("Pairwise is serving on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Serving { child, url, port }
}

/// `pairwise serve ARGS` that must fail: its output.
/// `serve --tls` on a free loopback port with the generated certificate kept in `cfg`.
fn serve_tls(cfg: &std::path::Path) -> Serving {
    let cfg = cfg.to_str().unwrap();
    serve(&["--tls", "--listen", "127.0.0.1:0", "--config", cfg])
}

fn serve_fails(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env_remove("PAIRWISE_LISTEN")
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve {args:?} should fail");
    out
}

/// A client that trusts exactly the certificates in `roots`.
fn client(roots: &[CertificateDer<'static>]) -> TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for cert in roots {
        store.add(cert.clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// GET `path` over TLS: status line, body, and the fingerprint of the certificate presented.
async fn get(
    connector: &TlsConnector,
    port: u16,
    path: &str,
) -> std::io::Result<(String, String, String)> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    let presented = fingerprint(&tls.get_ref().1.peer_certificates().unwrap()[0]);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned(), presented))
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn generated_certificate_is_the_only_trust_needed_and_is_kept_across_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let first = serve_tls(&cfg);
    assert!(first.url.starts_with("https://127.0.0.1:"), "{}", first.url);
    let cert_file = cfg.join("tls-cert.pem");
    let certs = read_certificates(&cert_file, "test").unwrap();
    assert_eq!(certs.len(), 1);
    let connector = client(&certs);

    let (status, body, presented) = get(&connector, first.port, "/").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        body.contains("<script type=\"module\" src=\"app.js\">"),
        "{body}"
    );
    assert_eq!(
        presented,
        fingerprint(&certs[0]),
        "the kept file is what is served"
    );
    let (status, body, _) = get(&connector, first.port, "/healthz").await.unwrap();
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 200 OK", "ok\n")
    );

    // Honest check of the check: a client trusting nothing refuses the server.
    let err = get(&client(&[]), first.port, "/healthz").await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    assert_eq!(mode(&cfg.join("tls-key.pem")), 0o600);
    assert_eq!(mode(&cfg), 0o700);
    drop(first);

    let second = serve_tls(&cfg);
    let (status, _, presented_again) = get(&connector, second.port, "/healthz").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        presented_again, presented,
        "a second start reuses the certificate"
    );
}

#[tokio::test]
async fn signaling_over_wss_trusts_server_cert_and_explains_a_refused_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let running = serve_tls(&cfg);
    let trust = Trust::pinned(&cfg.join("tls-cert.pem")).unwrap();
    let server = Server::new(running.url.clone(), trust);
    let room = RoomId::parse("abcdefghijklmnopqrstuv").unwrap();
    let mut a = Signaling::connect(&server).await.unwrap();
    let mut b = Signaling::connect(&server).await.unwrap();
    a.join(&room).await.unwrap();
    assert_eq!(
        a.recv().await.unwrap(),
        Some(ServerToClient::Joined {
            peers: 1,
            ice: vec![]
        })
    );
    b.join(&room).await.unwrap();
    assert_eq!(
        b.recv().await.unwrap(),
        Some(ServerToClient::Joined {
            peers: 2,
            ice: vec![]
        })
    );
    assert_eq!(a.recv().await.unwrap(), Some(ServerToClient::PeerJoined));

    let system = Server::new(running.url.clone(), Trust::System);
    let err = Signaling::connect(&system).await.unwrap_err();
    assert!(matches!(err, SignalingError::Tls { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("is not one this computer trusts"), "{text}");
    assert!(text.contains("--server-cert"), "{text}");
}

#[test]
fn cli_without_server_cert_says_the_certificate_is_untrusted_and_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let running = serve_tls(&cfg);
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, b"x").unwrap();
    // Fails at the signaling connection, before any WebRTC.
    // The sender's own config directory, so the test never writes to the user's.
    let sender_cfg = tmp.path().join("sender-cfg");
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&sender_cfg)
        .args(["send", "--server", &running.url])
        .arg(&file)
        .env_remove("PAIRWISE_SERVER_CERT")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not one this computer trusts"),
        "{stderr}"
    );
    assert!(stderr.contains("--server-cert"), "{stderr}");

    let out = Command::new(BIN)
        .arg("--config")
        .arg(&sender_cfg)
        .args(["send", "--server", &running.url, "--server-cert"])
        .arg(tmp.path().join("missing.pem"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.pem") && stderr.contains("--server-cert"),
        "{stderr}"
    );
}

/// A certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn own_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

#[tokio::test]
async fn own_certificate_files_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = own_pair(tmp.path(), "mine");
    let running = serve(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--config",
        tmp.path().join("unused").to_str().unwrap(),
    ]);
    assert!(running.url.starts_with("https://"), "{}", running.url);
    let certs = read_certificates(&cert, "test").unwrap();
    let (status, body, presented) = get(&client(&certs), running.port, "/healthz")
        .await
        .unwrap();
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 200 OK", "ok\n")
    );
    assert_eq!(presented, fingerprint(&certs[0]));
    assert!(
        !tmp.path().join("unused").exists(),
        "nothing is generated or kept"
    );
}

#[test]
fn bad_certificate_files_are_refused_with_a_sentence_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = own_pair(tmp.path(), "a");
    let (_, other_key) = own_pair(tmp.path(), "b");
    let not_pem = tmp.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let missing = tmp.path().join("missing.pem");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: [(&Path, &Path, &[&str]); 4] = [
        (
            &missing,
            &key,
            &["cannot read the certificate", "missing.pem", "--tls-cert"],
        ),
        (
            &not_pem,
            &key,
            &["not.pem holds no PEM certificate", "--tls-cert"],
        ),
        (
            &cert,
            &not_pem,
            &["not.pem holds no usable PEM private key", "--tls-key"],
        ),
        (
            &cert,
            &other_key,
            &["b-key.pem does not belong to the certificate", "a-cert.pem"],
        ),
    ];
    for (c, k, expected) in cases {
        let out = serve_fails(&[
            "--tls-cert",
            &s(c),
            "--tls-key",
            &s(k),
            "--listen",
            "127.0.0.1:0",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for e in expected {
            assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
        }
        assert!(
            out.stdout.is_empty(),
            "nothing served: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn plain_http_on_a_non_loopback_address_is_refused_before_binding() {
    let out = serve_fails(&["--listen", "0.0.0.0:0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to serve plain http on 0.0.0.0:0: browsers allow the cryptography Pairwise needs (WebCrypto) only on https:// pages or on localhost"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--lan") && stderr.contains("--insecure-http"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "it did not start serving");
}
