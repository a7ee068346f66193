//! `pairwise pair [LINK]`: a pairing with no files, so both devices remember each other and
//! later need no QR code. It waits for the other device's name, which a transfer would carry
//! anyway, so the name is what the store shows from the start.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::common::{open_store, own_name, report, runtime, server};
use super::pairing::{NewPairing, note_name, pair_and_remember};
use crate::cli::PairArgs;
use crate::progress::Progress;

/// `pairwise pair [LINK]`: pairs, exchanges names, remembers the other device.
pub(crate) fn run(args: PairArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer, config)?;
    let mut store = open_store(config)?;
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let mut joined = String::new();
        let how = NewPairing::new(&args.link, args.code, &mut joined);
        let paired = pair_and_remember(
            how,
            &server,
            &args.peer,
            &mut store,
            &own_name,
            &mut progress,
        );
        let (mut channel, id) = match paired.await {
            Ok(c) => c,
            Err(code) => return Ok(code),
        };
        let name = channel.wait_peer_name(PAIR_NAME_WAIT).await;
        channel.close().await;
        match name {
            Ok(name) => {
                note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&mut progress, e.into())),
        }
    })
}

/// How long `pairwise pair` waits for the other device's name after pairing.
const PAIR_NAME_WAIT: Duration = Duration::from_secs(10);
