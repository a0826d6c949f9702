//! Plumbline's HTTP server: the JSON API under `/api/v1` (see [`api`], with its
//! OpenAPI document at `/api/v1/openapi.json`), `/healthz`, `/metrics`, sessions and
//! access administration.
//!
//! Architecture invariant: only this crate knows HTTP. The server takes an
//! already-bound listener and a shutdown future, so tests bind port 0 and stop cleanly.
#![forbid(unsafe_code)]

pub mod access_api;
pub mod api;
pub mod auth;
pub mod headers;
pub mod invitations;
pub mod login_guard;
pub mod metrics;
pub mod session;
pub mod ui;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_store::Store;
use serde::Serialize;
use std::future::Future;
use tokio::net::TcpListener;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState<S> {
    /// The database.
    pub store: S,
    /// Session lifetimes and cookie flags.
    pub session: session::SessionConfig,
    /// Where `POST .../releases` writes releases (one new directory each).
    pub releases_dir: std::path::PathBuf,
    /// The login budgets of this process.
    pub login_guard: std::sync::Arc<login_guard::LoginGuard>,
    /// Largest audio file `POST .../media` accepts, in bytes.
    pub max_media_bytes: u64,
}

impl<S: Store> AppState<S> {
    /// State over `store` with default settings.
    pub fn new(store: S) -> Self {
        AppState {
            store,
            session: session::SessionConfig::default(),
            releases_dir: std::path::PathBuf::from("releases"),
            login_guard: Default::default(),
            max_media_bytes: plumbline_store::DEFAULT_MAX_MEDIA_BYTES,
        }
    }
}

/// Every route of the server.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::handler))
        .merge(api::routes())
        .merge(session::routes().layer(axum::middleware::from_fn(api::limit_error)))
        .merge(access_api::routes().layer(axum::middleware::from_fn(api::limit_error)))
        .merge(invitations::routes().layer(axum::middleware::from_fn(api::limit_error)))
        .merge(ui::routes())
        .route_layer(axum::middleware::from_fn(metrics::record))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve<S: Store>(
    listener: TcpListener,
    state: AppState<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address reaches handlers (the login throttle is per client address).
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    backend: &'static str,
    version: &'static str,
}

async fn healthz<S: Store>(State(state): State<AppState<S>>) -> (StatusCode, Json<Health>) {
    let (code, status) = match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    };
    (
        code,
        Json(Health {
            status,
            backend: state.store.backend(),
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
}
