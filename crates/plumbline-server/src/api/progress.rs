//! Project progress: items by state, judgments, leases, per-annotator counts.

use super::ApiResult;
use crate::AppState;
use crate::auth::Viewer;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_store::{Progress, Store};

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/api/v1/projects/{project}/progress", get(progress::<S>))
}

/// Progress of a project.
#[utoipa::path(get, path = "/api/v1/projects/{project}/progress", tag = "progress",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Counts", body = Object),
              (status = 404, body = super::ErrorBody)))]
pub async fn progress<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
) -> ApiResult<Json<Progress>> {
    Ok(Json(state.store.progress(viewer.project.id).await?))
}
