//! Projects: list the ones you belong to, create one (administrators), read one, and
//! change its settings (leads).

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::{Actor, Lead, Viewer};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric, SettingsPatch};
use plumbline_store::{NewProject, Project, ProjectSummary, Store};
use serde::Deserialize;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects", get(list::<S>).post(create::<S>))
        .route(
            "/api/v1/projects/{project}",
            get(get_one::<S>).patch(update::<S>),
        )
}

/// Projects the caller is a member of (every project for an administrator).
#[utoipa::path(get, operation_id = "list_projects", path = "/api/v1/projects", tag = "projects",
    responses((status = 200, description = "Projects with their item counts", body = [plumbline_store::ProjectSummary]),
              (status = 401, body = super::ErrorBody)))]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
) -> ApiResult<Json<Vec<ProjectSummary>>> {
    actor.require(plumbline_domain::Scope::Read)?;
    let all = state.store.list_projects().await?;
    if actor.user.is_admin {
        return Ok(Json(all));
    }
    let mut mine = Vec::new();
    for p in all {
        if state
            .store
            .member_role(p.project.id, actor.user.id)
            .await?
            .is_some()
        {
            mine.push(p);
        }
    }
    Ok(Json(mine))
}

/// A project to create: its name, settings (defaults for what is left out) and the
/// first rubric as TOML.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectBody {
    /// Unique name (letters, digits, space, `_`, `-`, `.`).
    pub name: String,
    /// Settings (see ProjectSettings); omitted fields take their defaults.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Option<serde_json::Value>,
    /// The rubric in TOML.
    pub rubric: String,
}

/// Creates a project (administrators).
#[utoipa::path(post, operation_id = "create_project", path = "/api/v1/projects", tag = "projects", request_body = NewProjectBody,
    responses((status = 201, description = "The project", body = plumbline_store::Project),
              (status = 409, description = "Name taken", body = super::ErrorBody),
              (status = 422, description = "Invalid name, settings or rubric", body = super::ErrorBody)))]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Project>)> {
    actor.require_admin()?;
    let body: NewProjectBody = json_body(&bytes)?;
    let name = ProjectName::parse(&body.name).map_err(ApiError::Invalid)?;
    let settings: ProjectSettings = match body.settings {
        Some(v) => {
            serde_json::from_value(v).map_err(|e| ApiError::Invalid(format!("settings: {e}")))?
        }
        None => ProjectSettings::default(),
    };
    settings
        .validate()
        .map_err(|e| ApiError::Invalid(format!("settings.{e}")))?;
    let rubric =
        Rubric::from_toml(&body.rubric).map_err(|e| ApiError::Invalid(format!("rubric: {e}")))?;
    let project = state
        .store
        .create_project(
            Some(actor.user.id),
            NewProject {
                name,
                settings,
                rubric,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project with its settings.
#[utoipa::path(get, operation_id = "get_project", path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "The project", body = plumbline_store::Project),
              (status = 404, body = super::ErrorBody)))]
pub async fn get_one<S: Store>(viewer: Viewer) -> ApiResult<Json<Project>> {
    Ok(Json(viewer.project.clone()))
}

/// The settings to change, and only those: `overlap`, `gold_rate`, `lease_seconds`,
/// `qualification_size`, `qualification_pass`, `min_experts`, `max_overlap`,
/// `min_gold_accuracy`, `decision_threshold`, `ranking_agreement`, `rating_spread`, `edge_case_quotas` (replaced whole) (`null` returns `min_experts` or
/// `max_overlap` to automatic). Any other field is refused.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SettingsBody {
    /// Judgments wanted per item, 1 to 100.
    overlap: Option<u32>,
    /// Share of served work that is hidden gold, at least 0 and below 1.
    gold_rate: Option<f64>,
    /// Lease length in seconds, 10 to 604800.
    lease_seconds: Option<u32>,
    /// Gold items judged before regular work, 0 (none) to 1000.
    qualification_size: Option<u32>,
    /// Share of the qualification set to get right, 0 to 1.
    qualification_pass: Option<f64>,
    /// Expert judgments per item, at most `max_overlap`; `null`: automatic.
    min_experts: Option<u32>,
    /// Most judgments per item with escalation, `overlap` to 100; `null`: automatic.
    max_overlap: Option<u32>,
    /// Hidden-gold accuracy below which an annotator is on probation, 0 (off) to 1.
    min_gold_accuracy: Option<f64>,
    /// Least posterior of a decided label, above 0.5 and at most 1.
    decision_threshold: Option<f64>,
    /// Largest normalised Kendall distance at which rankings agree, 0 to 1.
    ranking_agreement: Option<f64>,
    /// Largest score spread at which ratings agree, 0 to 100.
    rating_spread: Option<u32>,
    /// Edge-case quotas, replaced whole: `[{"tag": "edge:…", "min_share": 0.05}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    edge_case_quotas: Option<Vec<serde_json::Value>>,
}

/// Changes some of a project's settings (leads). The result is checked as a whole: a
/// value out of its range changes nothing and is refused with its `field` named.
#[utoipa::path(patch, operation_id = "update_project_settings", path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    request_body = SettingsBody,
    responses((status = 200, description = "The project with its new settings", body = plumbline_store::Project),
              (status = 400, description = "Not a JSON object", body = super::ErrorBody),
              (status = 403, body = super::ErrorBody),
              (status = 422, description = "A setting out of its range, or unknown; `field` names it", body = super::ErrorBody)))]
pub async fn update<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    bytes: axum::body::Bytes,
) -> ApiResult<Json<Project>> {
    if bytes.is_empty() {
        return Err(ApiError::BadRequest(
            "the request needs a JSON object of the settings to change".into(),
        ));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::BadRequest("the request body is not UTF-8".into()))?;
    let patch = SettingsPatch::from_json(text).map_err(|e| {
        if e.field.is_empty() {
            ApiError::BadRequest(format!("request body: {}", e.reason))
        } else {
            ApiError::Field(e)
        }
    })?;
    let project = state
        .store
        .update_settings(Some(lead.actor.user.id), lead.project.id, patch)
        .await?;
    Ok(Json(project))
}
