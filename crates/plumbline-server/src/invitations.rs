//! Invitations: an administrator creates a user without a password and hands them a
//! one-time link (`/invite/{secret}`) on which they choose their own, so no password
//! is ever chosen or shown by anyone else. The secret is 256 random bits, stored only
//! as its SHA-256; a link works once, for 72 hours, and issuing a new one for the user
//! revokes the old. The same issuing serves the API and `plumbline user invite`.

use crate::AppState;
use crate::auth::{Actor, AuthError, check_password, hash_password, token_hash};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use plumbline_domain::{ProjectRole, UserId};
use plumbline_store::{
    INVITATION_TTL_MS, Invitation, NewUser, Store, StoreError, User, now_ms, random_hex,
};
use serde::{Deserialize, Serialize};

/// Where an invitation's page lives, under the server's own address.
pub fn invite_path(secret: &str) -> String {
    format!("/invite/{secret}")
}

/// The rule for login names: 1 to 64 characters, no spaces or control characters.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err("name: 1 to 64 characters without spaces or control characters".into());
    }
    Ok(())
}

/// A link just issued: its secret (shown once, never stored) and the stored record.
pub struct Issued {
    /// The link's secret, 64 hex digits.
    pub secret: String,
    /// What the store keeps.
    pub invitation: Invitation,
}

/// Issues a new link for `user` (revoking any earlier unused one).
pub async fn issue<S: Store>(
    store: &S,
    actor: Option<UserId>,
    user: UserId,
) -> Result<Issued, StoreError> {
    let secret = random_hex(32)?;
    let invitation = store
        .create_invitation(
            actor,
            user,
            token_hash(&secret),
            now_ms() + INVITATION_TTL_MS,
        )
        .await?;
    Ok(Issued { secret, invitation })
}

/// Routes of invitations.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/users/invitations", post(invite::<S>))
        .route("/api/v1/users/{user}/invitations", post(reissue::<S>))
        .route("/api/v1/invitations/accept", post(accept::<S>))
}

/// A user to invite.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteBody {
    /// Login name (1 to 64 characters, no spaces).
    name: String,
    /// Make the user an instance administrator.
    #[serde(default)]
    admin: bool,
    /// A project to add them to at once (with `role`).
    #[serde(default)]
    project: Option<String>,
    /// Their role in `project`: `lead`, `reviewer`, `annotator` or `viewer`.
    #[serde(default)]
    role: Option<String>,
}

/// An issued link, shown this once: only its hash is stored.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct InvitationReply {
    /// The invited user (no password yet).
    user: User,
    /// The link's path on this server, `/invite/{secret}`.
    path: String,
    /// The full link, built from the request's `Host` (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// When the link stops working, Unix milliseconds (72 hours after issue).
    expires_at: i64,
}

fn reply(headers: &HeaderMap, secure: bool, issued: Issued) -> InvitationReply {
    let path = invite_path(&issued.secret);
    let link = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|host| {
            let scheme = if secure { "https" } else { "http" };
            format!("{scheme}://{host}{path}")
        });
    InvitationReply {
        user: issued.invitation.user,
        path,
        link,
        expires_at: issued.invitation.expires_at,
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AuthError> {
    serde_json::from_slice(bytes).map_err(|e| AuthError::Invalid(format!("request body: {e}")))
}

#[utoipa::path(post, operation_id = "invite_user", path = "/api/v1/users/invitations", tag = "access",
    request_body(content = InviteBody, description = "The user to create without a password; optionally a project and role"),
    responses((status = 201, description = "Created (administrators); the link is shown this once", body = InvitationReply),
              (status = 403, body = crate::api::ErrorBody),
              (status = 404, description = "No such project", body = crate::api::ErrorBody),
              (status = 409, description = "The name is taken", body = crate::api::ErrorBody),
              (status = 422, description = "Invalid name, role, or a role without a project", body = crate::api::ErrorBody)))]
async fn invite<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<InvitationReply>), AuthError> {
    actor.require_admin()?;
    let b: InviteBody = body(&bytes)?;
    check_user_name(&b.name).map_err(AuthError::Invalid)?;
    // Everything is checked before the user exists, so a refusal leaves nothing behind.
    let membership = match (&b.project, &b.role) {
        (None, None) => None,
        (Some(p), role) => {
            let role: ProjectRole = role
                .as_deref()
                .unwrap_or("annotator")
                .parse()
                .map_err(|m| AuthError::Invalid(format!("role: {m}")))?;
            Some((state.store.project_by_name(p).await?, role))
        }
        (None, Some(_)) => {
            return Err(AuthError::Invalid(
                "role: name the project the role is in".into(),
            ));
        }
    };
    let user = state
        .store
        .create_user(
            Some(actor.user.id),
            NewUser {
                name: b.name,
                password_hash: None,
                is_admin: b.admin,
            },
        )
        .await?;
    if let Some((project, role)) = membership {
        state
            .store
            .add_member(Some(actor.user.id), project.id, user.id, role)
            .await?;
    }
    let issued = issue(&state.store, Some(actor.user.id), user.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(reply(&headers, state.session.secure_cookies, issued)),
    ))
}

#[utoipa::path(post, operation_id = "reissue_invitation", path = "/api/v1/users/{user}/invitations", tag = "access",
    params(("user" = String, Path, description = "User name")),
    responses((status = 201, description = "A new link (administrators); every earlier unused link of the user stops working", body = InvitationReply),
              (status = 403, body = crate::api::ErrorBody),
              (status = 404, body = crate::api::ErrorBody)))]
async fn reissue<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<InvitationReply>), AuthError> {
    actor.require_admin()?;
    let user = state.store.user_by_name(&name).await?;
    let issued = issue(&state.store, Some(actor.user.id), user.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(reply(&headers, state.session.secure_cookies, issued)),
    ))
}

/// The link's secret and the password its user chose.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptBody {
    /// The secret from the link (`/invite/{token}`).
    token: String,
    /// The new password (at least 12 characters).
    password: String,
}

#[utoipa::path(post, operation_id = "accept_invitation", path = "/api/v1/invitations/accept", tag = "access", security(()),
    request_body(content = AcceptBody, description = "The link's secret and the chosen password"),
    responses((status = 200, description = "Password set, link consumed, signed in: session cookie set; the body carries the CSRF token", body = crate::session::LoginReply),
              (status = 403, description = "An Origin other than this server", body = crate::api::ErrorBody),
              (status = 404, description = "No such link", body = crate::api::ErrorBody),
              (status = 409, description = "The link was used, replaced or has expired", body = crate::api::ErrorBody),
              (status = 415, description = "A body not declared as JSON", body = crate::api::ErrorBody),
              (status = 422, description = "The password breaks the rules, or the body is malformed", body = crate::api::ErrorBody),
              (status = 503, description = "The database is unavailable; try again", body = crate::api::ErrorBody)))]
async fn accept<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Response {
    // Like a login, this signs a browser in: it must not be postable from another site.
    if let Some(refusal) = crate::session::login_csrf_refusal(&headers) {
        return refusal;
    }
    let accepted = async {
        let b: AcceptBody = body(&bytes)?;
        check_password(&b.password).map_err(|m| AuthError::Invalid(format!("password: {m}")))?;
        let hash = token_hash(&b.token);
        // Checked before the slow hash, so a dead link answers at once.
        match state.store.invitation(hash).await? {
            None => return Err(AuthError::NotFound("invitation link not found".into())),
            Some(inv) => {
                if let Some(why) = inv.state(now_ms()).refusal() {
                    return Err(AuthError::Conflict(why.into()));
                }
            }
        }
        let password = b.password;
        let phc = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AuthError::Store(StoreError::Database(e.to_string())))??;
        Ok::<User, AuthError>(state.store.accept_invitation(hash, phc).await?)
    };
    match accepted.await {
        Ok(user) => crate::session::open_session(&state, &headers, user).await,
        Err(e) => e.into_response(),
    }
}
