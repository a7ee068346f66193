//! `pairwise serve`: runs the signaling server until Ctrl-C.

use anyhow::Context;
use pairwise_server::Config;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;

/// Binds, prints the address people should open, and serves until Ctrl-C.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    rt.block_on(async {
        let listener = TcpListener::bind(args.listen).await.with_context(|| {
            format!(
                "could not listen on {}: is another server using that port?",
                args.listen
            )
        })?;
        let addr = listener
            .local_addr()
            .context("could not read the bound address")?;
        // stdout carries the URL (machine output); tests and scripts read it from there.
        println!("Pairwise is serving on http://{addr}/");
        tracing::info!(%addr, "listening");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        pairwise_server::run(listener, Config::default(), shutdown)
            .await
            .context("the server stopped with an error")
    })
}
