//! Gold: leads list every version, add a new version for an item (validated against
//! the current rubric; older versions become inactive), and reset qualifications.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::Lead;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::UserId;
use plumbline_store::{GoldRecord, NewGold, Store};
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
            "/api/v1/projects/{project}/qualifications/{user}/reset",
            post(reset_qualification::<S>),
        )
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
