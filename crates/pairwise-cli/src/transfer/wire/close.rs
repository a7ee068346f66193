//! This side's `close` and the meaning of the peer's (§6.1).

use std::time::Duration;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::transfer::{Message, refused_as};

use super::Wire;
use crate::session::SessionError;
use crate::transfer::fail;

/// How long a `close` may take to be handed to the channel (§6.1): a peer that is gone must
/// not hold this side. The channel's own flush follows when it closes.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl Wire {
    /// Tells the peer the session ends because of `code`, a failure found in what it sent
    /// (§6.1), unless the session ended already. Nothing is sent after it.
    pub(in crate::transfer) async fn refuse(&mut self, code: ErrorCode) {
        self.send_close(Some(code)).await;
    }

    pub(super) async fn send_close(&mut self, code: Option<ErrorCode>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let close = Message::Close(code);
        let sent = tokio::time::timeout(CLOSE_WAIT, self.send_now(&close, false)).await;
        if !matches!(sent, Ok(Ok(()))) {
            tracing::debug!("the close record could not be sent");
        }
    }
}

/// The failure a peer's `close` means here (§6.1): `{}` ends the session like a channel that
/// closes (the transfer decides whether that was early), a code is a refusal.
pub(super) fn closed_by_peer(code: Option<ErrorCode>) -> SessionError {
    let Some(theirs) = code else {
        return fail(ErrorCode::PeerLeft, "the other device ended the session");
    };
    let name = serde_json::to_value(theirs).unwrap_or_default();
    fail(
        refused_as(theirs),
        format!(
            "the other device ended the session: {}",
            name.as_str().unwrap_or("?")
        ),
    )
}
