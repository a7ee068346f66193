//! Ctrl-C during a transfer: instead of dying mid-stream, the transfer sends `cancel` (§6) so
//! the other side stops and removes its partial data, then ends with
//! [`super::TransferFailure::Interrupted`] (exit code 130). A second Ctrl-C exits at once.

use std::time::Duration;

use tokio::sync::watch;

/// How long the `cancel` record may take to go out before the process exits anyway.
pub(super) const CANCEL_WAIT: Duration = Duration::from_secs(1);

/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED_EXIT: u8 = 130;

/// Whether Ctrl-C was pressed since [`Interrupt::watch`].
#[derive(Debug)]
pub(super) struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// Starts listening for Ctrl-C (SIGINT); from now on it no longer ends the process by
    /// itself, until pressed a second time.
    pub(super) fn watch() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(INTERRUPTED_EXIT));
                }
            }
        });
        Self(rx)
    }

    /// Whether Ctrl-C was pressed.
    pub(super) fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once Ctrl-C is pressed (never, if listening failed).
    pub(super) async fn wait(&mut self) {
        if self.0.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
