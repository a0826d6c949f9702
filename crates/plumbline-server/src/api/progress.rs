//! Project progress: items by state, judgments, leases, per-annotator counts. Reviewers,
//! leads and admins see the project's figures; anyone else sees how many items there
//! are and their own row without gold figures: an annotator who could watch gold counts
//! or item states move around their own submission would learn which of their tasks
//! were hidden gold and whether the others agreed.

use super::ApiResult;
use crate::AppState;
use crate::auth::Viewer;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_domain::{ProjectRole, UserId};
use plumbline_store::{AnnotatorProgress, Progress, Store};
use serde::Serialize;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/api/v1/projects/{project}/progress", get(progress::<S>))
}

/// Progress as the caller may see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProgressReply {
    /// A reviewer's, lead's or admin's: the whole project, every annotator.
    Project(Progress),
    /// Anyone else's: the size of the project and their own figures.
    Own(OwnProgress),
}

/// The project's size and the caller's own figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnProgress {
    /// Items of the project (gold excluded), without their states.
    pub items: ItemTotal,
    /// The caller's own row, if they have one.
    pub annotators: Vec<OwnRow>,
}

/// How many items a project has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemTotal {
    /// Items, gold excluded.
    pub total: i64,
}

/// An annotator's own counts, without gold figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnRow {
    /// Who.
    pub user: UserId,
    /// Name.
    pub name: String,
    /// Judgments submitted (all purposes).
    pub judgments: i64,
    /// Live leases.
    pub leased: i64,
    /// Skips.
    pub skipped: i64,
    /// Leases that expired.
    pub expired: i64,
    /// Overrides of the priority rule.
    pub priority_inversions: i64,
}

impl OwnProgress {
    /// What `user` may see of `progress`.
    pub fn of(progress: Progress, user: UserId) -> OwnProgress {
        OwnProgress {
            items: ItemTotal {
                total: progress.items.total(),
            },
            annotators: progress
                .annotators
                .into_iter()
                .filter(|a| a.user == user)
                .map(OwnRow::from)
                .collect(),
        }
    }
}

impl From<AnnotatorProgress> for OwnRow {
    fn from(a: AnnotatorProgress) -> Self {
        OwnRow {
            user: a.user,
            name: a.name,
            judgments: a.judgments,
            leased: a.leased,
            skipped: a.skipped,
            expired: a.expired,
            priority_inversions: a.priority_inversions,
        }
    }
}

/// Whether `role` sees the whole project's progress (every annotator, gold, states).
pub fn sees_everyone(role: ProjectRole) -> bool {
    role >= ProjectRole::Reviewer
}

/// Progress of a project.
#[utoipa::path(get, operation_id = "get_progress", path = "/api/v1/projects/{project}/progress", tag = "progress",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Counts: the whole project for reviewers and leads; for anyone else the number of items and their own row, without gold figures", body = ProgressReply),
              (status = 404, body = super::ErrorBody)))]
pub async fn progress<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
) -> ApiResult<Json<ProgressReply>> {
    let progress = state.store.progress(viewer.project.id).await?;
    Ok(Json(if sees_everyone(viewer.role) {
        ProgressReply::Project(progress)
    } else {
        ProgressReply::Own(OwnProgress::of(progress, viewer.actor.user.id))
    }))
}
