//! The `pairwise` binary.
fn main() {}
