//! The `pairwise` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pairwise_cli::Cli::parse();
    pairwise_cli::main(cli)
}
