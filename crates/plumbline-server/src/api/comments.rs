//! The comment thread of an item: its reviewers and leads, and its annotators once they
//! have submitted a judgment of it. Blindness first: to anyone else (an annotator who
//! has not judged the item included) the thread is not there at all, 404, so nobody
//! learns before judging that others discussed the item.
//!
//! Reading the thread is not audited, as reading the item itself is not; adding to it
//! is (`comment.add`).

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::{Member, Viewer};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use plumbline_domain::{CommentBody, ProjectRole, Scope};
use plumbline_store::{ItemComment, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Routes of this resource (JSON bodies).
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route(
        "/api/v1/projects/{project}/items/{item}/comments",
        get(list::<S>).post(add::<S>),
    )
}

/// Whether `who` may read and add to the thread of `item`: reviewers and leads (with
/// the `review` scope) always, annotators (with `annotate`) once they have submitted a
/// judgment of it. An unknown item is `false`, like one the caller may not discuss.
pub(crate) async fn may_discuss<S: Store>(
    store: &S,
    who: &Member,
    item: &str,
) -> Result<bool, StoreError> {
    if who.role >= ProjectRole::Reviewer && who.actor.scopes.contains(Scope::Review) {
        return Ok(true);
    }
    if who.role >= ProjectRole::Annotator && who.actor.scopes.contains(Scope::Annotate) {
        return match store.judgments_of(who.project.id, item).await {
            Ok(judgments) => Ok(judgments.iter().any(|j| j.user == Some(who.actor.user.id))),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        };
    }
    Ok(false)
}

/// Refuses as not found unless `who` may discuss `item`.
async fn discussing<S: Store>(state: &AppState<S>, who: &Member, item: &str) -> ApiResult<()> {
    if may_discuss(&state.store, who, item).await? {
        Ok(())
    } else {
        Err(ApiError::Store(StoreError::NotFound(format!(
            "item `{item}`"
        ))))
    }
}

/// The thread of an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentsReply {
    /// Its comments, oldest first.
    pub comments: Vec<ItemComment>,
}

/// A new comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// The text: not blank, at most 5,000 characters, no control characters but line
    /// breaks and tabs. Stored trimmed.
    pub body: String,
}

/// The comments on an item, oldest first.
#[utoipa::path(get, operation_id = "list_item_comments", path = "/api/v1/projects/{project}/items/{item}/comments", tag = "items",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id")),
    responses((status = 200, description = "The thread", body = CommentsReply),
              (status = 404, description = "No such item, or one the caller may not discuss (an annotator before judging it)", body = super::ErrorBody)))]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Viewer,
    Path((_, item)): Path<(String, String)>,
) -> ApiResult<Json<CommentsReply>> {
    discussing(&state, &who, &item).await?;
    let comments = state.store.comments_of_item(who.project.id, &item).await?;
    Ok(Json(CommentsReply { comments }))
}

/// Adds a comment to an item's thread (audited as `comment.add`).
#[utoipa::path(post, operation_id = "add_item_comment", path = "/api/v1/projects/{project}/items/{item}/comments", tag = "items",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id")),
    request_body = NewCommentBody,
    responses((status = 201, description = "Added", body = ItemComment),
              (status = 400, description = "Not JSON, or an unknown field", body = super::ErrorBody),
              (status = 404, description = "No such item, or one the caller may not discuss (an annotator before judging it)", body = super::ErrorBody),
              (status = 413, body = super::ErrorBody),
              (status = 422, description = "The text is blank, too long, or has a control character", body = super::ErrorBody)))]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    who: Viewer,
    Path((_, item)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<ItemComment>)> {
    discussing(&state, &who, &item).await?;
    let body: NewCommentBody = json_body(&bytes)?;
    let text = CommentBody::parse(&body.body).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let comment = state
        .store
        .add_comment(who.actor.user.id, who.project.id, &item, text)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}
