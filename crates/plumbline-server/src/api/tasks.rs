//! The annotator's loop: take the next task, submit (or resubmit inside the lease) its
//! judgment, or skip it with a reason.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::Annotator;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use plumbline_domain::{AssignmentId, JudgmentId};
use plumbline_store::{Next, Store, Submission, SubmitOutcome, Task};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/tasks/next", post(next::<S>))
        .route(
            "/api/v1/projects/{project}/tasks/{assignment}/submit",
            post(submit::<S>),
        )
        .route(
            "/api/v1/projects/{project}/tasks/{assignment}/skip",
            post(skip::<S>),
        )
}

/// A leased task as the annotator sees it: the item with its candidates in display
/// order. Hidden gold looks exactly the same.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// Submit and skip name this.
    pub assignment: i64,
    /// The item's own id.
    pub item: String,
    /// Task kind.
    pub task: plumbline_domain::TaskKind,
    /// The item, candidates reordered into the display order.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    /// Candidate ids as shown (left to right); payloads name ids, never positions.
    pub display_order: Vec<String>,
    /// The rubric version to judge under.
    pub rubric_version: i32,
    /// When the lease ends (Unix ms); a submission after it gets 409.
    pub expires_at: i64,
}

impl TaskView {
    fn from_task(t: Task) -> ApiResult<TaskView> {
        let mut content: serde_json::Value = serde_json::from_str(&t.body).map_err(|e| {
            ApiError::Store(plumbline_store::StoreError::Database(format!(
                "stored item is unreadable: {e}"
            )))
        })?;
        if let Some(cands) = content.get_mut("candidates").and_then(|c| c.as_array_mut()) {
            let pos = |c: &serde_json::Value| {
                let id = c.get("id").and_then(|v| v.as_str()).unwrap_or("");
                t.display_order.iter().position(|d| d == id)
            };
            cands.sort_by_key(|c| pos(c));
        }
        Ok(TaskView {
            assignment: t.assignment.0,
            item: t.item,
            task: t.task,
            content,
            display_order: t.display_order,
            rubric_version: t.rubric_version.0,
            expires_at: t.expires_at,
        })
    }
}

/// The answer of `next`: a task, or none with the reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NextReply {
    /// The task, or null.
    pub task: Option<TaskView>,
    /// True when the task is a lease the annotator already held (after a reload or a
    /// lost answer), not a new one.
    pub resumed: bool,
    /// Why there is none: `{"reason": "drained" | "missing_expertise" | …}` with the
    /// reason's details (`required`, `min_accuracy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub reason: Option<plumbline_store::NoTask>,
    /// A sentence for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The annotator's task: the live lease they already hold in the project (true), else
/// a new lease (false). Shared by the API and the judging page, so a reload or a retried
/// request gets the same assignment back instead of a second lease. Two `next` calls
/// racing for one annotator may still both lease; the overlap and "never twice" hold
/// either way (they are checked on the leased rows), and the spare lease is held until
/// it is submitted, skipped or expires.
pub async fn resume_or_lease<S: Store>(
    store: &S,
    user: plumbline_domain::UserId,
    project: plumbline_domain::ProjectId,
) -> Result<(Next, bool), plumbline_store::StoreError> {
    let (next, resumed) = store.held_or_next(user, project).await?;
    if !resumed {
        crate::metrics::count_lease(matches!(next, Next::Task(_)));
    }
    Ok((next, resumed))
}

/// Gives the annotator's held lease back, else leases the next task.
#[utoipa::path(post, operation_id = "next_task", path = "/api/v1/projects/{project}/tasks/next", tag = "tasks",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "A task (`resumed: true` when it is the live lease the caller already holds), or `task: null` with the reason", body = NextReply),
              (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn next<S: Store>(
    State(state): State<AppState<S>>,
    who: Annotator,
) -> ApiResult<Json<NextReply>> {
    let (next, resumed) = resume_or_lease(&state.store, who.actor.user.id, who.project.id).await?;
    Ok(Json(match next {
        Next::Task(t) => NextReply {
            task: Some(TaskView::from_task(*t)?),
            resumed,
            reason: None,
            message: None,
        },
        Next::None(why) => NextReply {
            task: None,
            resumed: false,
            message: Some(why.message()),
            reason: Some(why),
        },
    }))
}

/// A judgment: the payload of the item's task kind and the time on task.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The payload (DESIGN.md "Judgment payloads"); its kind comes from the item.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
    /// Milliseconds on task as the client measured them; default: since the lease.
    #[serde(default)]
    pub time_ms: Option<i64>,
}

/// The answer of a submission: that it was stored, and what the annotator's own
/// judgment is. Nothing about the item: its state afterwards would say whether the
/// others agreed (and, by not moving, that it was hidden gold), so a resubmission would
/// become an oracle.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitReply {
    /// The stored judgment.
    pub judgment: JudgmentId,
    /// True when it replaced the earlier submission of this assignment (history kept).
    pub resubmitted: bool,
    /// True when the judgment breaks the priority rule and was kept by an override.
    pub priority_inversion: bool,
    /// Time on task recorded, ms.
    pub time_ms: i64,
}

impl From<SubmitOutcome> for SubmitReply {
    fn from(o: SubmitOutcome) -> Self {
        SubmitReply {
            judgment: o.judgment,
            resubmitted: o.resubmitted,
            priority_inversion: o.priority_inversion,
            time_ms: o.time_ms,
        }
    }
}

fn assignment_id(raw: &str) -> ApiResult<AssignmentId> {
    raw.parse::<i64>()
        .map(AssignmentId)
        .map_err(|_| ApiError::BadRequest(format!("assignment `{raw}` is not a number")))
}

/// Submits (or, inside the lease, resubmits) the judgment of an assignment.
#[utoipa::path(post, operation_id = "submit_judgment", path = "/api/v1/projects/{project}/tasks/{assignment}/submit", tag = "tasks",
    params(("project" = String, Path, description = "Project name"),
           ("assignment" = i64, Path, description = "The assignment from `next`")),
    request_body = SubmitBody,
    responses((status = 200, description = "Stored: the judgment id, `resubmitted`, `priority_inversion` and `time_ms`; nothing about the item", body = SubmitReply),
              (status = 400, description = "Malformed JSON", body = super::ErrorBody),
              (status = 403, description = "Someone else's assignment", body = super::ErrorBody),
              (status = 409, description = "The lease has expired", body = super::ErrorBody),
              (status = 422, description = "Invalid payload or the priority rule (names the criterion)", body = super::ErrorBody)))]
pub async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    who: Annotator,
    Path((_, assignment)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> ApiResult<Json<SubmitReply>> {
    let assignment = assignment_id(&assignment)?;
    let body: SubmitBody = json_body(&bytes)?;
    if body
        .time_ms
        .is_some_and(|t| !(0..=7 * 24 * 3_600_000).contains(&t))
    {
        return Err(ApiError::Invalid(
            "time_ms must be between 0 and a week".into(),
        ));
    }
    let out = state
        .store
        .submit(
            who.actor.user.id,
            who.project.id,
            assignment,
            Submission {
                payload: body.payload.get().to_owned(),
                time_ms: body.time_ms,
            },
        )
        .await;
    crate::metrics::count_submit(out.is_ok());
    Ok(Json(out?.into()))
}

/// Why the annotator gives the task back.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// The reason (required).
    pub reason: String,
}

/// Skips a leased task with a reason.
#[utoipa::path(post, operation_id = "skip_task", path = "/api/v1/projects/{project}/tasks/{assignment}/skip", tag = "tasks",
    params(("project" = String, Path, description = "Project name"),
           ("assignment" = i64, Path, description = "The assignment from `next`")),
    request_body = SkipBody,
    responses((status = 204, description = "Skipped"),
              (status = 409, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn skip<S: Store>(
    State(state): State<AppState<S>>,
    who: Annotator,
    Path((_, assignment)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> ApiResult<axum::http::StatusCode> {
    let assignment = assignment_id(&assignment)?;
    let body: SkipBody = json_body(&bytes)?;
    state
        .store
        .skip(who.actor.user.id, who.project.id, assignment, body.reason)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
