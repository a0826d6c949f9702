//! `plumbline serve`.

use anyhow::Context;
use clap::Args;
use plumbline_store::Store;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PLUMBLINE_LISTEN", default_value = "127.0.0.1:7433")]
    listen: String,
}

pub async fn run<S: Store>(store: S, args: ServeArgs) -> anyhow::Result<ExitCode> {
    serve(store, &args.listen).await
}

/// Binds `listen` and serves until Ctrl-C.
pub async fn serve<S: Store>(store: S, listen: &str) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!(
        "plumbline listening on http://{} ({})",
        listener.local_addr()?,
        store.backend()
    );
    plumbline_server::serve(listener, store, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
