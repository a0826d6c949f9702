//! Rubric versions: read them; a lead adds a new version (which marks gold of older
//! versions as needing revalidation). `POST /api/v1/rubrics/convert` turns a rubric's
//! TOML into its JSON form and back through the domain's one parser, for the setup
//! page's structured editor (TOML stays what is stored and versioned).

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::{Actor, Lead, Viewer};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::{Rubric, RubricVersion};
use plumbline_store::{Store, StoredRubric};
use serde::{Deserialize, Serialize};

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(
            "/api/v1/projects/{project}/rubrics",
            get(list::<S>).post(add::<S>),
        )
        .route(
            "/api/v1/projects/{project}/rubrics/{version}",
            get(get_one::<S>),
        )
        .route("/api/v1/rubrics/convert", post(convert::<S>))
}

/// Every rubric version, oldest first.
#[utoipa::path(get, operation_id = "list_rubrics", path = "/api/v1/projects/{project}/rubrics", tag = "rubrics",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Rubric versions", body = [plumbline_store::StoredRubric])))]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
) -> ApiResult<Json<Vec<StoredRubric>>> {
    Ok(Json(state.store.rubric_versions(viewer.project.id).await?))
}

/// One rubric version (`current` for the current one).
#[utoipa::path(get, operation_id = "get_rubric", path = "/api/v1/projects/{project}/rubrics/{version}", tag = "rubrics",
    params(("project" = String, Path, description = "Project name"),
           ("version" = String, Path, description = "Version number or `current`")),
    responses((status = 200, description = "The rubric", body = plumbline_store::StoredRubric),
              (status = 404, body = super::ErrorBody)))]
pub async fn get_one<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
    Path((_, version)): Path<(String, String)>,
) -> ApiResult<Json<StoredRubric>> {
    let version = match version.as_str() {
        "current" => None,
        v => Some(RubricVersion(v.trim_start_matches('v').parse().map_err(
            |_| ApiError::BadRequest(format!("rubric version `{v}` is not a number or `current`")),
        )?)),
    };
    Ok(Json(state.store.rubric(viewer.project.id, version).await?))
}

/// A new rubric version, as TOML.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricBody {
    /// The rubric in TOML.
    pub toml: String,
}

/// Adds a rubric version (leads).
#[utoipa::path(post, operation_id = "add_rubric_version", path = "/api/v1/projects/{project}/rubrics", tag = "rubrics",
    params(("project" = String, Path, description = "Project name")),
    request_body = RubricBody,
    responses((status = 201, description = "The new version", body = plumbline_store::StoredRubric),
              (status = 409, description = "Identical to the current version", body = super::ErrorBody),
              (status = 422, description = "Invalid rubric", body = super::ErrorBody)))]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<StoredRubric>)> {
    let body: RubricBody = json_body(&bytes)?;
    let rubric =
        Rubric::from_toml(&body.toml).map_err(|e| ApiError::Invalid(format!("rubric: {e}")))?;
    let stored = state
        .store
        .add_rubric_version(Some(lead.actor.user.id), lead.project.id, rubric)
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// A rubric to convert: its TOML, or its JSON form (exactly one).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertBody {
    /// The rubric as TOML.
    #[serde(default)]
    pub toml: Option<String>,
    /// The rubric in its JSON form (as `GET …/rubrics/{version}` answers it).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rubric: Option<serde_json::Value>,
}

/// A validated rubric in both forms.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Converted {
    /// The JSON form (criteria sorted by priority).
    #[schema(value_type = Object)]
    pub rubric: Rubric,
    /// The same rubric as TOML.
    pub toml: String,
}

/// Validates a rubric given as TOML or as JSON and answers both forms; nothing is
/// stored.
#[utoipa::path(post, operation_id = "convert_rubric", path = "/api/v1/rubrics/convert", tag = "rubrics",
    request_body = ConvertBody,
    responses((status = 200, description = "The rubric, valid, as JSON and TOML", body = Converted),
              (status = 422, description = "Not a valid rubric, or not exactly one of `toml` and `rubric`", body = super::ErrorBody)))]
pub async fn convert<S: Store>(
    actor: Actor,
    bytes: axum::body::Bytes,
) -> ApiResult<Json<Converted>> {
    actor.require(plumbline_domain::Scope::Read)?;
    let body: ConvertBody = json_body(&bytes)?;
    let rubric = match (body.toml, body.rubric) {
        (Some(toml), None) => Rubric::from_toml(&toml),
        (None, Some(json)) => Rubric::from_json(&json.to_string()),
        _ => {
            return Err(ApiError::Invalid(
                "send exactly one of `toml` and `rubric`".into(),
            ));
        }
    }
    .map_err(|e| ApiError::Invalid(format!("rubric: {e}")))?;
    let toml = rubric.to_toml();
    Ok(Json(Converted { rubric, toml }))
}
