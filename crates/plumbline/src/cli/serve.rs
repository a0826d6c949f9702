//! `plumbline serve`.

use anyhow::Context;
use clap::Args;
use plumbline_server::AppState;
use plumbline_store::Store;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PLUMBLINE_LISTEN", default_value = "127.0.0.1:7433")]
    listen: String,
    /// Mark session cookies Secure (set when users reach the server over HTTPS,
    /// e.g. through a TLS-terminating proxy).
    #[arg(long, env = "PLUMBLINE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Take the client's address from the last `X-Forwarded-For` hop (set when a proxy
    /// of your own stands in front and appends it; otherwise a client could name any
    /// address and escape the per-address login throttle).
    #[arg(long, env = "PLUMBLINE_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// Directory under which `POST /api/v1/projects/{p}/releases` writes releases.
    #[arg(long, env = "PLUMBLINE_RELEASES_DIR", default_value = "releases")]
    releases_dir: std::path::PathBuf,
}

pub async fn run<S: Store>(store: S, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut state = AppState::new(store);
    state.session.secure_cookies = args.secure_cookies;
    state.session.trust_forwarded_for = args.trust_forwarded_for;
    state.releases_dir = args.releases_dir;
    serve(state, &args.listen).await
}

/// Binds `listen` and serves until Ctrl-C or SIGTERM.
pub async fn serve<S: Store>(state: AppState<S>, listen: &str) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!(
        "plumbline listening on http://{} ({})",
        listener.local_addr()?,
        state.store.backend()
    );
    plumbline_server::serve(listener, state, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
