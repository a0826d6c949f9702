//! Gold: leads list every version, add a new version for an item (validated against
//! the current rubric; older versions become inactive), decide proposed gold
//! (candidates an import marked as the right answer), and reset qualifications.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::{Lead, Reviewer};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::UserId;
use plumbline_store::{GoldCandidate, GoldRecord, NewGold, Store};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(
            "/api/v1/projects/{project}/gold",
            get(list::<S>).post(add::<S>),
        )
        .route(
            "/api/v1/projects/{project}/gold/candidates",
            get(list_candidates::<S>).post(propose_candidate::<S>),
        )
        .route(
            "/api/v1/projects/{project}/gold/candidates/{id}/accept",
            post(accept_candidate::<S>),
        )
        .route(
            "/api/v1/projects/{project}/gold/candidates/{id}/reject",
            post(reject_candidate::<S>),
        )
        .route(
            "/api/v1/projects/{project}/qualifications/{user}/reset",
            post(reset_qualification::<S>),
        )
}

/// Filter of the gold candidates.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CandidateQuery {
    /// Only candidates in this state: `pending`, `accepted` or `rejected`.
    pub state: Option<String>,
}

/// Proposed gold answers (an import's ground truth), oldest first; leads only.
#[utoipa::path(get, operation_id = "list_gold_candidates", path = "/api/v1/projects/{project}/gold/candidates", tag = "gold",
    params(("project" = String, Path, description = "Project name"), CandidateQuery),
    responses((status = 200, description = "Gold candidates, oldest first", body = [plumbline_store::GoldCandidate]),
              (status = 403, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn list_candidates<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Query(q): Query<CandidateQuery>,
) -> ApiResult<Json<Vec<GoldCandidate>>> {
    Ok(Json(
        state
            .store
            .gold_candidates(lead.project.id, q.state)
            .await?,
    ))
}

/// A reviewer proposes an answer as the item's gold (typically a judgment they would
/// adjudicate with, or a decision): validated against the item and the current rubric,
/// it waits as a pending candidate until a lead accepts or rejects it.
#[utoipa::path(post, operation_id = "propose_gold_candidate", path = "/api/v1/projects/{project}/gold/candidates", tag = "gold",
    params(("project" = String, Path, description = "Project name")),
    request_body = GoldBody,
    responses((status = 201, description = "The pending candidate", body = plumbline_store::GoldCandidate),
              (status = 404, body = super::ErrorBody),
              (status = 409, description = "The same proposal was made before", body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn propose_candidate<S: Store>(
    State(state): State<AppState<S>>,
    reviewer: Reviewer,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<GoldCandidate>)> {
    let body: GoldBody = json_body(&bytes)?;
    let candidate = state
        .store
        .propose_gold_candidate(
            reviewer.actor.user.id,
            reviewer.project.id,
            body.item,
            body.payload.get().to_owned(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(candidate)))
}

/// The lead's completed payload, when the proposed one is not a valid gold answer as
/// it stands (an import's payload usually lacks the rubric's criteria).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The payload to store instead of the proposed one, of the item's kind.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Box<RawValue>>,
}

/// Accepts a pending gold candidate: its payload (or the body's) becomes the item's new
/// gold version, validated against the item and the current rubric.
#[utoipa::path(post, operation_id = "accept_gold_candidate", path = "/api/v1/projects/{project}/gold/candidates/{id}/accept", tag = "gold",
    params(("project" = String, Path, description = "Project name"),
           ("id" = i64, Path, description = "Gold candidate id")),
    request_body(content = Option<AcceptBody>, description = "Optional: the payload to store instead of the proposed one"),
    responses((status = 201, description = "The new gold version", body = plumbline_store::GoldRecord),
              (status = 404, body = super::ErrorBody),
              (status = 409, description = "Decided already", body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn accept_candidate<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, id)): Path<(String, i64)>,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<GoldRecord>)> {
    let payload = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body: AcceptBody = json_body(&bytes)?;
        body.payload.map(|p| p.get().to_owned())
    };
    let gold = state
        .store
        .accept_gold_candidate(Some(lead.actor.user.id), lead.project.id, id, payload)
        .await?;
    Ok((StatusCode::CREATED, Json(gold)))
}

/// Rejects a pending gold candidate (kept, decided).
#[utoipa::path(post, operation_id = "reject_gold_candidate", path = "/api/v1/projects/{project}/gold/candidates/{id}/reject", tag = "gold",
    params(("project" = String, Path, description = "Project name"),
           ("id" = i64, Path, description = "Gold candidate id")),
    responses((status = 200, description = "The rejected candidate", body = plumbline_store::GoldCandidate),
              (status = 404, body = super::ErrorBody),
              (status = 409, description = "Decided already", body = super::ErrorBody)))]
pub async fn reject_candidate<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, id)): Path<(String, i64)>,
) -> ApiResult<Json<GoldCandidate>> {
    Ok(Json(
        state
            .store
            .reject_gold_candidate(Some(lead.actor.user.id), lead.project.id, id)
            .await?,
    ))
}

/// Filter of the gold listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GoldQuery {
    /// Only the gold of this item (its own id).
    pub item: Option<String>,
}

/// Every gold version (leads: gold answers never reach annotators).
#[utoipa::path(get, operation_id = "list_gold", path = "/api/v1/projects/{project}/gold", tag = "gold",
    params(("project" = String, Path, description = "Project name"), GoldQuery),
    responses((status = 200, description = "Gold versions, newest first per item", body = [plumbline_store::GoldRecord]),
              (status = 403, body = super::ErrorBody)))]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Query(q): Query<GoldQuery>,
) -> ApiResult<Json<Vec<GoldRecord>>> {
    Ok(Json(state.store.gold(lead.project.id, q.item).await?))
}

/// A gold judgment for an item.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoldBody {
    /// The item's own id.
    pub item: String,
    /// The reference payload, of the item's kind.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
}

/// Adds a gold version for an item.
#[utoipa::path(post, operation_id = "add_gold", path = "/api/v1/projects/{project}/gold", tag = "gold",
    params(("project" = String, Path, description = "Project name")),
    request_body = GoldBody,
    responses((status = 201, description = "The new gold version", body = plumbline_store::GoldRecord),
              (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<GoldRecord>)> {
    let body: GoldBody = json_body(&bytes)?;
    let gold = state
        .store
        .add_gold(
            Some(lead.actor.user.id),
            lead.project.id,
            NewGold {
                item: body.item,
                payload: body.payload.get().to_owned(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(gold)))
}

/// Lets an annotator take the qualification again.
#[utoipa::path(post, operation_id = "reset_qualification", path = "/api/v1/projects/{project}/qualifications/{user}/reset", tag = "gold",
    params(("project" = String, Path, description = "Project name"),
           ("user" = String, Path, description = "User name")),
    responses((status = 204, description = "Reset"), (status = 404, body = super::ErrorBody)))]
pub async fn reset_qualification<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user: UserId = state.store.user_by_name(&user).await?.id;
    if state
        .store
        .member_role(lead.project.id, user)
        .await?
        .is_none()
    {
        return Err(ApiError::Store(plumbline_store::StoreError::NotFound(
            "that member of this project".into(),
        )));
    }
    state
        .store
        .reset_qualification(Some(lead.actor.user.id), lead.project.id, user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
