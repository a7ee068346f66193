//! The commands that move files or manage pairings: `pairwise send`, `receive`, `pair` and
//! `devices`, one module each, owning that command's whole flow from its arguments to its exit
//! code (`pairwise serve` is `serve.rs`).
//!
//! What several of them share sits below them, so that a command never imports another:
//!
//! - [`pairing`]: a new pairing by QR code or link, and remembering the other device (`send`,
//!   `receive`, `pair`);
//! - [`remembered`]: meeting a remembered device again, reconnecting after a drop (`send --to`,
//!   `receive --from`, `receive --paired`);
//! - [`common`]: the server, this device's name and store, the local address, and turning a
//!   failure into a sentence and an exit code (all of them).

mod common;
pub(crate) mod devices;
pub(crate) mod pair;
mod pairing;
pub(crate) mod receive;
mod remembered;
pub(crate) mod send;
