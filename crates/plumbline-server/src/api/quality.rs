//! Annotator quality for leads: the per-annotator table (reliability, gold accuracy,
//! bias with its test, inversions, probation) and reinstatement of an annotator on
//! probation. Annotators never see these figures: they judge blind.

use super::ApiResult;
use crate::AppState;
use crate::auth::Lead;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_formats::quality::{QualityReport, annotator_quality, reinstate as reinstate_one};
use plumbline_store::{Reinstatement, Store};

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/quality", get(quality::<S>))
        .route(
            "/api/v1/projects/{project}/annotators/{user}/reinstate",
            post(reinstate::<S>),
        )
}

/// The quality of each annotator, and verified experts' share of the work (leads).
#[utoipa::path(get, operation_id = "get_quality", path = "/api/v1/projects/{project}/quality", tag = "quality",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Per annotator: reliability with its credible interval, gold accuracy with its Wilson interval, position and length bias with the binomial test's p, effect and flag, inversions, probation", body = plumbline_formats::quality::QualityReport),
              (status = 403, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody)))]
pub async fn quality<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
) -> ApiResult<Json<QualityReport>> {
    Ok(Json(annotator_quality(&state.store, &lead.project).await?))
}

/// Lifts an annotator's probation: from now on only the hidden gold they judge after
/// this counts (leads; audited as `annotator.reinstate`).
#[utoipa::path(post, operation_id = "reinstate_annotator", path = "/api/v1/projects/{project}/annotators/{user}/reinstate", tag = "quality",
    params(("project" = String, Path, description = "Project name"),
           ("user" = String, Path, description = "User name")),
    responses((status = 200, description = "The reinstatement, with the hidden-gold record it set aside", body = plumbline_store::Reinstatement),
              (status = 403, body = super::ErrorBody),
              (status = 404, description = "No such member", body = super::ErrorBody),
              (status = 409, description = "The annotator is not on probation", body = super::ErrorBody)))]
pub async fn reinstate<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, user)): Path<(String, String)>,
) -> ApiResult<Json<Reinstatement>> {
    let user = state.store.user_by_name(&user).await?;
    Ok(Json(
        reinstate_one(&state.store, Some(lead.actor.user.id), &lead.project, &user).await?,
    ))
}
