//! Projects: list the ones you belong to, create one (administrators), read one.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::{Actor, Viewer};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
use plumbline_store::{NewProject, Project, ProjectSummary, Store};
use serde::Deserialize;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects", get(list::<S>).post(create::<S>))
        .route("/api/v1/projects/{project}", get(get_one::<S>))
}

/// Projects the caller is a member of (every project for an administrator).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, description = "Projects with their item counts", body = Object),
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
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProjectBody,
    responses((status = 201, description = "The project", body = Object),
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
#[utoipa::path(get, path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "The project", body = Object),
              (status = 404, body = super::ErrorBody)))]
pub async fn get_one<S: Store>(viewer: Viewer) -> ApiResult<Json<Project>> {
    Ok(Json(viewer.project.clone()))
}
