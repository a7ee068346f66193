//! Spike driver for `pairwise_cli::peer::NativePeer` (run it inside `tests/e2e/netns.sh`).
//!
//! ```text
//! native_peer_spike local  [--bytes N] [--msg N] [--sockbuf N|default] [--limit N]
//! native_peer_spike answer --expect N [--sockbuf ..] [--limit ..]     (browser offers)
//! native_peer_spike offer  --send N [--msg N] [--idle SECS] [--sockbuf ..] [--limit ..]  (native offers)
//! ```
//!
//! `local` connects two peers in this process and sends `--bytes` from one to the other.
//! `answer`/`offer` speak JSON lines: stdout carries `{"type":"offer"|"answer","sdp"}`,
//! `{"type":"candidate","candidate":{..}}`, `{"type":"open",..}` and a final
//! `{"type":"received"|"sent",..}` report; stdin takes the remote `offer`/`answer`,
//! `candidate` lines (candidate `null` = end) and `{"type":"quit"}`.
//! Reports include SHA-256 of the bytes, MB/s (10^6 B/s, first to last byte at the receiver)
//! and the namespace's UDP `RcvbufErrors`/`SndbufErrors` deltas from `/proc/net/snmp`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use pairwise_cli::peer::{NativePeer, NativePeerOptions, PeerEvent, Role};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::mpsc;

struct Args {
    mode: String,
    bytes: u64,
    msg: usize,
    /// Seconds the open channel stays idle before the offerer sends (ICE consent check).
    idle: u64,
    options: NativePeerOptions,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_default();
    let mut args = Args {
        mode,
        bytes: 256 << 20,
        msg: 256 << 10,
        idle: 0,
        options: NativePeerOptions::default(),
    };
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bytes" | "--expect" | "--send" => args.bytes = value.parse()?,
            "--msg" => args.msg = value.parse()?,
            "--idle" => args.idle = value.parse()?,
            "--limit" => args.options.send_buffer_limit = value.parse()?,
            "--sockbuf" if value == "default" => args.options.socket_buffer_bytes = None,
            "--sockbuf" => args.options.socket_buffer_bytes = Some(value.parse()?),
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(args)
}

/// UDP counters of this network namespace.
fn udp_snmp() -> HashMap<String, i64> {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("Udp:")).collect();
    match lines.as_slice() {
        [names, values, ..] => names
            .split_whitespace()
            .zip(values.split_whitespace())
            .skip(1)
            .filter_map(|(n, v)| Some((n.to_owned(), v.parse().ok()?)))
            .collect(),
        _ => HashMap::new(),
    }
}

fn snmp_delta(before: &HashMap<String, i64>) -> Value {
    let after = udp_snmp();
    let d = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    json!({ "RcvbufErrors": d("RcvbufErrors"), "SndbufErrors": d("SndbufErrors"), "InErrors": d("InErrors") })
}

/// Deterministic test data (xorshift64), message by message.
struct Pattern(u64);

impl Pattern {
    fn chunk(&mut self, len: usize) -> Bytes {
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            v.extend_from_slice(&self.0.to_le_bytes());
        }
        v.truncate(len);
        Bytes::from(v)
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs.max(1e-9) / 1e6
}

/// Sends `total` bytes of the pattern; returns (sha256, seconds).
async fn send_all(peer: &NativePeer, total: u64, msg: usize) -> Result<(String, f64)> {
    let msg = msg.min(peer.max_message_size().await?);
    let mut pattern = Pattern(0x9E37_79B9_7F4A_7C15);
    let mut hasher = Sha256::new();
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let len = msg.min(usize::try_from(total - sent).unwrap_or(msg));
        let chunk = pattern.chunk(len);
        hasher.update(&chunk);
        peer.send(chunk).await?;
        sent += len as u64;
    }
    Ok((hex(&hasher.finalize()), started.elapsed().as_secs_f64()))
}

/// Counts and hashes received messages.
struct Receiver {
    expect: u64,
    got: u64,
    hasher: Sha256,
    first: Option<Instant>,
}

impl Receiver {
    fn new(expect: u64) -> Self {
        Self {
            expect,
            got: 0,
            hasher: Sha256::new(),
            first: None,
        }
    }

    /// Returns the report once everything arrived.
    fn take(&mut self, data: &[u8]) -> Option<Value> {
        let first = *self.first.get_or_insert_with(Instant::now);
        self.got += data.len() as u64;
        self.hasher.update(data);
        (self.got >= self.expect).then(|| {
            let secs = first.elapsed().as_secs_f64();
            let hasher = std::mem::take(&mut self.hasher);
            json!({ "bytes": self.got, "sha256": hex(&hasher.finalize()), "secs": secs, "mbps": mbps(self.got, secs) })
        })
    }
}

fn out(v: Value) {
    println!("{v}");
}

const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

async fn local(args: Args) -> Result<()> {
    let snmp = udp_snmp();
    let setup = Instant::now();
    let (a, mut ea) =
        NativePeer::with_options(Role::Offerer, LOOPBACK, args.options.clone()).await?;
    let (b, mut eb) =
        NativePeer::with_options(Role::Answerer, LOOPBACK, args.options.clone()).await?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let offer = a.create_offer().await?;
    let answer = b.accept_offer(&offer).await?;
    a.accept_answer(&answer).await?;

    // a's events: candidates to b; open starts the sender.
    let (opened_tx, mut opened_rx) = mpsc::channel::<()>(1);
    {
        let b = Arc::clone(&b);
        tokio::spawn(async move {
            while let Some(ev) = ea.recv().await {
                match ev {
                    PeerEvent::LocalCandidate(c) => {
                        if let Err(e) = b.add_remote_candidate(&c).await {
                            eprintln!("b.add_remote_candidate: {e:#}");
                        }
                    }
                    PeerEvent::ChannelOpen => {
                        let _ = opened_tx.send(()).await;
                    }
                    other => eprintln!("offerer: {other:?}"),
                }
            }
        });
    }
    let sender = {
        let a = Arc::clone(&a);
        tokio::spawn(async move {
            opened_rx.recv().await;
            eprintln!("open after {:?}", setup.elapsed());
            send_all(&a, args.bytes, args.msg).await
        })
    };
    let mut rx = Receiver::new(args.bytes);
    let report = loop {
        match eb.recv().await {
            Some(PeerEvent::LocalCandidate(c)) => a.add_remote_candidate(&c).await?,
            Some(PeerEvent::Message(m)) => {
                if let Some(r) = rx.take(&m) {
                    break r;
                }
            }
            Some(PeerEvent::ChannelOpen) => {}
            Some(other) => bail!("answerer: {other:?}"),
            None => bail!("answerer events ended"),
        }
    };
    let (sha_sent, send_secs) = sender.await??;
    out(json!({
        "type": "local", "received": report, "sentSha256": sha_sent, "sendSecs": send_secs,
        "match": report["sha256"] == sha_sent, "msg": args.msg,
        "sockbuf": args.options.socket_buffer_bytes, "limit": args.options.send_buffer_limit,
        "udp": snmp_delta(&snmp),
    }));
    a.close().await?;
    b.close().await?;
    Ok(())
}

/// `answer` and `offer` modes: JSON lines with a browser on the other side.
async fn stdio(args: Args) -> Result<()> {
    let snmp = udp_snmp();
    let role = if args.mode == "offer" {
        Role::Offerer
    } else {
        Role::Answerer
    };
    let (peer, mut events) = NativePeer::with_options(role, LOOPBACK, args.options.clone()).await?;
    let peer = Arc::new(peer);
    if role == Role::Offerer {
        out(json!({ "type": "offer", "sdp": peer.create_offer().await? }));
    }
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut rx = Receiver::new(args.bytes);
    let (done_tx, mut done_rx) = mpsc::channel::<Value>(1);
    loop {
        tokio::select! {
            line = stdin.next_line() => {
                let Some(line) = line? else { break };
                let v: Value = serde_json::from_str(&line).context("stdin line")?;
                match v["type"].as_str() {
                    Some("offer") => {
                        let sdp = v["sdp"].as_str().unwrap_or_default();
                        out(json!({ "type": "answer", "sdp": peer.accept_offer(sdp).await? }));
                    }
                    Some("answer") => peer.accept_answer(v["sdp"].as_str().unwrap_or_default()).await?,
                    Some("candidate") if v["candidate"].is_null() => {}
                    Some("candidate") => peer.add_remote_candidate(&v["candidate"].to_string()).await?,
                    Some("quit") => break,
                    other => bail!("unexpected stdin message {other:?}"),
                }
            }
            ev = events.recv() => match ev {
                Some(PeerEvent::LocalCandidate(c)) => {
                    let c: Value = serde_json::from_str(&c)?;
                    out(json!({ "type": "candidate", "candidate": c }));
                }
                Some(PeerEvent::ChannelOpen) => {
                    out(json!({ "type": "open", "maxMessageSize": peer.max_message_size().await? }));
                    if role == Role::Offerer {
                        let (peer, done_tx, total, msg) = (Arc::clone(&peer), done_tx.clone(), args.bytes, args.msg);
                        let idle = std::time::Duration::from_secs(args.idle);
                        tokio::spawn(async move {
                            tokio::time::sleep(idle).await;
                            let report = match send_all(&peer, total, msg).await {
                                Ok((sha, secs)) => json!({ "type": "sent", "bytes": total, "sha256": sha, "secs": secs, "mbps": mbps(total, secs) }),
                                Err(e) => json!({ "type": "error", "error": format!("{e:#}") }),
                            };
                            let _ = done_tx.send(report).await;
                        });
                    }
                }
                Some(PeerEvent::Message(m)) => {
                    if let Some(mut r) = rx.take(&m) {
                        r["type"] = json!("received");
                        r["udp"] = snmp_delta(&snmp);
                        out(r);
                    }
                }
                Some(PeerEvent::Closed) => { out(json!({ "type": "closed" })); }
                Some(PeerEvent::Failed(e)) => { out(json!({ "type": "failed", "error": e })); }
                None => break,
            },
            Some(mut report) = done_rx.recv() => {
                report["udp"] = snmp_delta(&snmp);
                out(report);
            }
        }
    }
    peer.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args()?;
    match args.mode.as_str() {
        "local" => local(args).await,
        "answer" | "offer" => stdio(args).await,
        _ => bail!(
            "usage: native_peer_spike local|answer|offer [--bytes|--expect|--send N] [--msg N] [--sockbuf N|default] [--limit N]"
        ),
    }
}
