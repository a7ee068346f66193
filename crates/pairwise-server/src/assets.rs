//! The web client (`web/`), embedded in the binary at build time so `pairwise serve` needs no
//! files beside it. Only what the browser loads is embedded: no tests, types or configs.

use rust_embed::Embed;

/// Files of `web/` that ship.
#[derive(Embed)]
#[folder = "../../web/"]
#[include = "*.html"]
#[include = "*.js"]
#[include = "*.css"]
#[include = "*.svg"]
#[include = "*.png"]
#[include = "*.webmanifest"]
#[exclude = "test/*"]
#[exclude = "node_modules/*"]
pub(crate) struct Web;
