//! `pairwise devices`: list the paired devices, rename, forget, or set auto-accept on one. Works
//! on the [`Keystore`] only; no network.

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use pairwise_proto::device::DeviceName;
use serde_json::json;

use super::common::{host_name, open_store};
use crate::cli::{DevicesAction, DevicesArgs, OnOff};
use crate::clock::unix_now;
use crate::config::ConfigDir;
use crate::keystore::own_name::kept_name;
use crate::keystore::{Keystore, PairedDevice};

/// Runs `pairwise devices [ACTION]`.
pub(crate) fn run(args: DevicesArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let action = args.action.unwrap_or(DevicesAction::List);
    if let DevicesAction::List = action {
        let dir = ConfigDir::resolve(config)?;
        if !args.json {
            print_own_name(&dir);
        }
        // Listing never makes an identity.
        if Keystore::is_empty_dir(&dir) {
            print_list(&[], args.json);
            return Ok(ExitCode::SUCCESS);
        }
    }
    let mut store = open_store(config)?;
    let now = unix_now();
    match action {
        DevicesAction::List => print_list(store.devices(), args.json),
        DevicesAction::Rename { name, new_name } => {
            let d = store.find(&name)?.clone();
            let new = DeviceName::parse(&new_name)
                .map_err(|e| anyhow!("cannot use {new_name:?} as a device name: {e}"))?;
            store.update(now, |s| s.rename(&d.id, new.clone()))?;
            eprintln!("Renamed {} to {new}.", d.name);
        }
        DevicesAction::Forget { name } => {
            let d = store.find(&name)?.clone();
            store.update(now, |s| s.forget(&d.id, now))?;
            eprintln!(
                "Forgot {} (id {}). It can no longer connect; it is told so the next time both \
                 are online within 30 days (`pairwise receive --paired` here).",
                d.name,
                d.short_id()
            );
        }
        DevicesAction::AutoAccept { name, state } => {
            let d = store.find(&name)?.clone();
            let on = state == OnOff::On;
            store.update(now, |s| s.set_auto_accept(&d.id, on))?;
            let what = if on {
                "are now accepted without asking"
            } else {
                "are asked for again"
            };
            eprintln!(
                "Files from {} {what} (`pairwise receive --paired`).",
                d.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what the other devices call this one, above the list (on stderr, so the table on
/// stdout stays as it was for scripts).
fn print_own_name(dir: &ConfigDir) {
    match kept_name(dir) {
        Some(name) => eprintln!("This device: \"{name}\" (set with --name)."),
        None => eprintln!(
            "This device: \"{}\" (the host name; give it another with --name, which is kept).",
            host_name()
        ),
    }
}

fn print_list(devices: &[PairedDevice], as_json: bool) {
    if as_json {
        let list: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "name": d.name.as_str(),
                    "name_set_by_user": d.name_set_by_user,
                    "created": d.created,
                    "last_seen": d.last_seen,
                    "auto_accept": d.auto_accept,
                })
            })
            .collect();
        println!("{}", json!(list));
        return;
    }
    if devices.is_empty() {
        eprintln!("No paired devices yet. Pair one with `pairwise pair` (or send with a QR code).");
        return;
    }
    let width = devices
        .iter()
        .map(|d| d.name.as_str().chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    println!(
        "{:<width$}  {:<8}  {:<16}  {:<16}  AUTO-ACCEPT",
        "NAME", "ID", "PAIRED", "LAST SEEN"
    );
    for d in devices {
        let pad = width.saturating_sub(d.name.as_str().chars().count());
        println!(
            "{}{}  {}  {:<16}  {:<16}  {}",
            d.name,
            " ".repeat(pad),
            d.short_id(),
            date(d.created),
            date(d.last_seen),
            if d.auto_accept { "on" } else { "off" }
        );
    }
}

/// `YYYY-MM-DD HH:MM` in UTC.
fn date(unix: u64) -> String {
    let t = i64::try_from(unix)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_minutes() {
        assert_eq!(date(0), "1970-01-01 00:00");
        assert_eq!(date(1_764_115_200 + 3_661), "2025-11-26 01:01");
    }
}
