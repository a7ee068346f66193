//! Rebuilds the server when anything under `web/` changes, so the embedded app (rust-embed)
//! always matches the files, new files included.

fn main() {
    println!("cargo:rerun-if-changed=../../web");
}
