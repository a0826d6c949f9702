//! The adjudication queue: reviewers see each disagreeing item with every judgment,
//! the annotators' verified expertise and gold accuracy, and decide with a rationale.

use super::{ApiResult, json_body, page_size};
use crate::AppState;
use crate::auth::Reviewer;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::{ProjectRole, Scope};
use plumbline_store::{AdjudicationCase, Decision, DecisionRecord, Store};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/adjudication", get(queue::<S>))
        .route(
            "/api/v1/projects/{project}/adjudication/{item}",
            post(decide::<S>),
        )
}

/// Page size of the queue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// At most this many items (default 100, at most 500).
    pub limit: Option<u32>,
}

/// Items waiting for a decision, oldest first.
#[utoipa::path(get, operation_id = "adjudication_queue", path = "/api/v1/projects/{project}/adjudication", tag = "adjudication",
    params(("project" = String, Path, description = "Project name"), QueueQuery),
    responses((status = 200, description = "The queue", body = [plumbline_store::AdjudicationCase]),
              (status = 403, body = super::ErrorBody)))]
pub async fn queue<S: Store>(
    State(state): State<AppState<S>>,
    reviewer: Reviewer,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<AdjudicationCase>>> {
    Ok(Json(
        state
            .store
            .adjudication_queue(reviewer.project.id, page_size(q.limit))
            .await?,
    ))
}

/// A decision on an item.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The decided judgment, a payload of the item's kind.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
    /// Why (required).
    pub rationale: String,
    /// Make the decision the item's gold (leads with the `admin` scope, as `POST /gold`).
    #[serde(default)]
    pub promote_to_gold: bool,
}

/// Decides an item of the queue.
#[utoipa::path(post, operation_id = "adjudicate", path = "/api/v1/projects/{project}/adjudication/{item}", tag = "adjudication",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id")),
    request_body = DecisionBody,
    responses((status = 200, description = "Decided", body = plumbline_store::DecisionRecord),
              (status = 409, description = "Not in the queue", body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn decide<S: Store>(
    State(state): State<AppState<S>>,
    reviewer: Reviewer,
    Path((_, item)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> ApiResult<Json<DecisionRecord>> {
    let body: DecisionBody = json_body(&bytes)?;
    if body.promote_to_gold {
        // What `POST /gold` needs: the lead role and the `admin` scope.
        reviewer
            .require(
                &state.store,
                ProjectRole::Lead,
                Scope::Admin,
                "promoting a decision to gold",
            )
            .await?;
    }
    Ok(Json(
        state
            .store
            .adjudicate(
                reviewer.actor.user.id,
                reviewer.project.id,
                Decision {
                    item,
                    payload: body.payload.get().to_owned(),
                    rationale: body.rationale,
                    promote_to_gold: body.promote_to_gold,
                },
            )
            .await?,
    ))
}
