//! Pairing by code in the terminal (§2.1): shows the code (`send --code`, `pair --code`,
//! `receive --code`) or types it (`receive CODE`, `pair CODE`), then shows the six-digit number
//! and asks the person whether the other screen shows the same. There is no flag to skip the
//! question: the comparison is what keeps a server in the middle out.

use std::io::{BufRead as _, Write as _};

use pairwise_proto::code::CodeNumber;
use pairwise_proto::identity::IdentitySecret;
use serde_json::json;
use tokio::sync::oneshot;

use super::super::common::bind_for;
use crate::cli::PeerArgs;
use crate::progress::Progress;
use crate::session::{CodeInvitation, Established, parse_code};
use crate::signaling::Server;
use crate::transfer::TransferFailure;

/// Shows a fresh code and pairs with the device that types it.
pub(super) async fn show_code_and_pair(
    server: &Server,
    peer: &PeerArgs,
    progress: &mut Progress,
    identity: IdentitySecret,
) -> Result<Established, TransferFailure> {
    let bind =
        bind_for(server.url(), peer.bind).map_err(|e| TransferFailure::Local(format!("{e:#}")))?;
    let waiting = CodeInvitation::new(identity).open(server).await?;
    let code = waiting.code();
    // The code is machine output (stdout), like a link; the instructions are for people.
    if peer.json {
        progress.event("code", "", json!({"code": code.to_string()}));
    } else {
        eprintln!(
            "Type this code on the other device (`pairwise receive CODE`, or \"Pair by code\" \
             in the web app):"
        );
        println!("{code}");
    }
    Ok(waiting.pair(bind, |n| ask(progress, n)).await?)
}

/// Types `text` as a code and pairs with the device that shows it.
pub(super) async fn type_code(
    text: &str,
    server: &Server,
    peer: &PeerArgs,
    progress: &mut Progress,
    identity: IdentitySecret,
) -> Result<Established, TransferFailure> {
    let code = parse_code(text)?;
    let bind =
        bind_for(server.url(), peer.bind).map_err(|e| TransferFailure::Local(format!("{e:#}")))?;
    let asked = |n| ask(progress, n);
    Ok(crate::session::type_code(server, code, identity, bind, asked).await?)
}

/// Shows the number and asks, on stdin (a terminal or a pipe), whether the other screen shows
/// it: one line, "y" or "yes" (any case) is yes; anything else, or the end of input, is no.
/// The line is read on a thread of its own, so the exchange goes on meanwhile (the other side
/// may leave); the thread ends with the process.
fn ask(progress: &mut Progress, number: CodeNumber) -> oneshot::Receiver<bool> {
    progress.event(
        "code-number",
        &format!("Check that the other screen shows: {number}"),
        json!({"number": number.digits()}),
    );
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        eprint!("Do the numbers match? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        let yes = matches!(read, Ok(n) if n > 0)
            && matches!(line.trim().to_lowercase().as_str(), "y" | "yes");
        let _ = tx.send(yes);
    });
    rx
}
