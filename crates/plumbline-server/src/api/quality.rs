//! Annotator quality for leads: the per-annotator table (reliability, gold accuracy,
//! bias with its test, inversions, probation), reinstatement of an annotator on
//! probation, and the models' leaderboard on the eval split. Annotators never see these
//! figures: they judge blind.

use super::ApiResult;
use crate::AppState;
use crate::auth::Lead;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_formats::eval::{EvalError, LabelOptions, Leaderboard, leaderboard as board_of};
use plumbline_formats::quality::{QualityReport, annotator_quality, reinstate as reinstate_one};
use plumbline_store::{Reinstatement, Store};
use serde::Deserialize;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/quality", get(quality::<S>))
        .route(
            "/api/v1/projects/{project}/annotators/{user}/reinstate",
            post(reinstate::<S>),
        )
        .route(
            "/api/v1/projects/{project}/leaderboard",
            get(leaderboard::<S>),
        )
}

/// Which votes decide the leaderboard's labels.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// Imported prior judgments vote too (each source one voter at reliability 0.7).
    #[serde(default)]
    pub include_external: bool,
}

/// The models' Bradley-Terry leaderboard on the eval split, from the experts' decided
/// labels: overall, per edge-case tag and per criterion, each strength with its 95 %
/// interval (leads), as `plumbline report` shows it.
#[utoipa::path(get, operation_id = "get_leaderboard", path = "/api/v1/projects/{project}/leaderboard", tag = "quality",
    params(("project" = String, Path, description = "Project name"), LeaderboardQuery),
    responses((status = 200, description = "Per model (the candidates' `model`): log-strength with its standard error and 95 % interval, wins and comparisons; a board with fewer than two models says why it is undefined", body = Leaderboard),
              (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody)))]
pub async fn leaderboard<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    query: Result<Query<LeaderboardQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Leaderboard>> {
    let Query(q) = query.map_err(|e| super::ApiError::BadRequest(e.body_text()))?;
    let labels = LabelOptions {
        include_external: q.include_external,
        threshold: None,
    };
    let board = board_of(&state.store, &lead.project, labels)
        .await
        .map_err(|e| match e {
            EvalError::Store(e) => super::ApiError::Store(e),
            other => {
                super::ApiError::Store(plumbline_store::StoreError::Database(other.to_string()))
            }
        })?;
    Ok(Json(board))
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
