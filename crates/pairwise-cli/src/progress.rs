//! What the terminal shows during a transfer: one line per file on stderr with bytes, percent,
//! rate and time left (redrawn a few times a second), or, with `--json`, one JSON event per line
//! on stdout for scripts.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use serde_json::json;

/// Redraws at most this often.
const REDRAW: Duration = Duration::from_millis(200);

/// Reports progress of one transfer.
#[derive(Debug)]
pub struct Progress {
    json: bool,
    tty: bool,
    started: Instant,
    last_draw: Option<Instant>,
    /// Bytes of all files so far.
    done: u64,
    total: u64,
}

impl Progress {
    /// A reporter for a transfer of `total` bytes.
    pub fn new(json: bool, total: u64) -> Self {
        Self {
            json,
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_draw: None,
            done: 0,
            total,
        }
    }

    /// A one-off event (`paired`, `offer`, `saved`, ...), as a sentence or a JSON line.
    pub fn event(&mut self, kind: &str, text: &str, fields: serde_json::Value) {
        self.clear_line();
        if self.json {
            let mut obj = json!({ "event": kind });
            if let (Some(o), Some(f)) = (obj.as_object_mut(), fields.as_object()) {
                o.extend(f.clone());
            }
            println!("{obj}");
        } else {
            eprintln!("{text}");
        }
    }

    /// `n` more bytes of file `name` moved.
    pub fn advance(&mut self, name: &str, n: u64) {
        self.done += n;
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now - t < REDRAW) && self.done < self.total {
            return;
        }
        self.last_draw = Some(now);
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = self.done as f64 / secs;
        if self.json {
            println!(
                "{}",
                json!({"event": "progress", "file": name, "bytes": self.done,
                       "total": self.total, "rate": rate.round()})
            );
        } else if self.tty {
            let pct = (self.done * 100).checked_div(self.total).unwrap_or(100);
            let left = self.total.saturating_sub(self.done) as f64 / rate.max(1.0);
            eprint!(
                "\r\x1b[2K{name}  [{}]  {} of {}  {pct}%  {}/s  {} left",
                bar(pct),
                bytes(self.done),
                bytes(self.total),
                bytes(rate as u64),
                duration(left)
            );
            let _ = std::io::stderr().flush();
        }
    }

    /// Whether events go out as JSON lines.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Bytes moved so far (every byte, also those not yet redrawn).
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Average rate so far, in bytes per second.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    fn clear_line(&self) {
        if self.tty && !self.json && self.last_draw.is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}

/// A 20-cell bar for `pct` percent, e.g. `#########...........`.
fn bar(pct: u64) -> String {
    let full = (pct.min(100) / 5) as usize;
    format!("{}{}", "#".repeat(full), ".".repeat(20 - full))
}

/// A byte count in decimal units, e.g. `64.0 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(64 * 1024 * 1024), "67.1 MB");
        assert_eq!(duration(5.4), "5s");
        assert_eq!(duration(125.0), "2m05s");
        assert_eq!(duration(7300.0), "2h01m");
        assert_eq!(bar(0), "....................");
        assert_eq!(bar(52), "##########..........");
        assert_eq!(bar(100), "####################");
    }
}
