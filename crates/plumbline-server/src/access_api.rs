//! Access administration over HTTP: users (admins), project members (leads),
//! expertise (proposed by the user or a lead, verified by a lead or an admin, a lead
//! only in the domains their projects require and only for their members), and the
//! audit log (admins). Every change goes through the store, which audits it; every
//! refusal is audited as `access.refuse`.

use crate::AppState;
use crate::auth::{
    Actor, AuthError, Lead, Viewer, check_password, hash_password, token_hash, verify_password,
};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use plumbline_domain::{Expertise, ProjectRole, Scope};
use plumbline_store::audit::{AuditAction, AuditEvent, StoredAuditEvent};
use plumbline_store::{ExpertiseRecord, Member, NewUser, Store, User};
use serde::Deserialize;

/// Largest page of audit events one request returns.
pub const AUDIT_PAGE_MAX: u32 = 1000;

/// The access routes, to be merged under the server's router.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/users", get(list_users::<S>).post(create_user::<S>))
        .route(
            "/api/v1/users/{user}/expertise",
            get(list_expertise::<S>).post(propose_expertise::<S>),
        )
        .route(
            "/api/v1/users/{user}/expertise/{domain}/verify",
            post(verify_expertise::<S>),
        )
        .route("/api/v1/projects/{project}/members", get(list_members::<S>))
        .route(
            "/api/v1/projects/{project}/members/{user}",
            put(set_member::<S>).delete(remove_member::<S>),
        )
        .route("/api/v1/account/password", put(change_own_password::<S>))
        .route("/api/v1/users/{user}/password", put(reset_password::<S>))
        .route(
            "/api/v1/login-throttles/{name}",
            axum::routing::delete(lift_throttle::<S>),
        )
        .route("/api/v1/audit", get(audit::<S>))
}

type Reply<T> = Result<Json<T>, AuthError>;

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AuthError> {
    serde_json::from_slice(bytes).map_err(|e| AuthError::Invalid(format!("request body: {e}")))
}

#[utoipa::path(get, operation_id = "list_users", path = "/api/v1/users", tag = "access",
    responses((status = 200, description = "Every user (administrators)", body = [plumbline_store::User]),
              (status = 403, body = crate::api::ErrorBody)))]
async fn list_users<S: Store>(State(state): State<AppState<S>>, actor: Actor) -> Reply<Vec<User>> {
    actor.require_admin()?;
    Ok(Json(state.store.list_users().await?))
}

/// A new user.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserBody {
    name: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

#[utoipa::path(post, operation_id = "create_user", path = "/api/v1/users", tag = "access",
    request_body(content = NewUserBody, description = "A new user; `admin` defaults to false"),
    responses((status = 200, description = "The user (administrators)", body = plumbline_store::User),
              (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
async fn create_user<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    bytes: axum::body::Bytes,
) -> Reply<User> {
    actor.require_admin()?;
    let b: NewUserBody = body(&bytes)?;
    crate::invitations::check_user_name(&b.name).map_err(AuthError::Invalid)?;
    check_password(&b.password).map_err(|m| AuthError::Invalid(format!("password: {m}")))?;
    let password = b.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AuthError::Store(plumbline_store::StoreError::Database(e.to_string())))??;
    let user = state
        .store
        .create_user(
            Some(actor.user.id),
            NewUser {
                name: b.name,
                password_hash: Some(hash),
                is_admin: b.admin,
            },
        )
        .await?;
    Ok(Json(user))
}

/// True when `actor` may see `user`'s expertise: an admin, or a lead of a project
/// `user` belongs to.
async fn may_verify<S: Store>(
    state: &AppState<S>,
    actor: &Actor,
    user: &User,
) -> Result<bool, AuthError> {
    Ok(actor.user.is_admin || !shared_leads(state, actor, user).await?.is_empty())
}

/// The projects `actor` leads that `user` is a member of.
async fn shared_leads<S: Store>(
    state: &AppState<S>,
    actor: &Actor,
    user: &User,
) -> Result<Vec<plumbline_store::Project>, AuthError> {
    let mut out = Vec::new();
    for p in state.store.list_projects().await? {
        let lead =
            state.store.member_role(p.project.id, actor.user.id).await? == Some(ProjectRole::Lead);
        if lead
            && state
                .store
                .member_role(p.project.id, user.id)
                .await?
                .is_some()
        {
            out.push(p.project);
        }
    }
    Ok(out)
}

/// Whether `actor` has authority over `user`'s expertise in `domain`: an administrator
/// has it everywhere; a lead has it in the domains a project they lead and `user`
/// belongs to requires (`required_expertise`). A project that requires no expertise
/// gives its leads none. Returns the reason when not.
async fn domain_authority<S: Store>(
    state: &AppState<S>,
    actor: &Actor,
    user: &User,
    domain: &str,
) -> Result<Result<(), String>, AuthError> {
    if actor.user.is_admin {
        return Ok(Ok(()));
    }
    let shared = shared_leads(state, actor, user).await?;
    if shared.is_empty() {
        return Ok(Err(format!(
            "expertise of `{}` is changed by an administrator or a lead of a project they belong to",
            user.name
        )));
    }
    if shared.iter().any(|p| {
        p.settings
            .required_expertise
            .iter()
            .any(|e| e.domain.as_str() == domain)
    }) {
        return Ok(Ok(()));
    }
    let names: Vec<String> = shared.iter().map(|p| format!("`{}`", p.name)).collect();
    Ok(Err(format!(
        "the domain `{domain}` is required by none of the projects you lead that `{}` belongs to ({}); \
         an administrator or a lead of a project requiring `{domain}` may change it",
        user.name,
        names.join(", ")
    )))
}

/// Refuses with 403 and an audited `access.refuse` naming the user.
async fn refuse<S: Store>(
    state: &AppState<S>,
    actor: &Actor,
    user: &User,
    reason: String,
) -> AuthError {
    let _ = state
        .store
        .record_event(
            AuditEvent::new(AuditAction::AccessRefuse, "expertise")
                .by(Some(actor.user.id))
                .object(format!("user {}", user.id)),
        )
        .await;
    AuthError::Forbidden(reason)
}

#[utoipa::path(get, operation_id = "list_expertise", path = "/api/v1/users/{user}/expertise", tag = "access",
    params(("user" = String, Path, description = "User name")),
    responses((status = 200, description = "Expertise claims (the user, a lead of a shared project, or an admin)", body = [plumbline_store::ExpertiseRecord]),
              (status = 404, body = crate::api::ErrorBody)))]
async fn list_expertise<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Path(name): Path<String>,
) -> Reply<Vec<ExpertiseRecord>> {
    actor.require(Scope::Read)?;
    let user = state.store.user_by_name(&name).await?;
    if user.id != actor.user.id && !may_verify(&state, &actor, &user).await? {
        return Err(AuthError::NotFound(format!("user `{name}` not found")));
    }
    Ok(Json(state.store.expertise(user.id).await?))
}

/// A claimed expertise.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpertiseBody {
    expertise: String,
}

#[utoipa::path(post, operation_id = "propose_expertise", path = "/api/v1/users/{user}/expertise", tag = "access",
    params(("user" = String, Path, description = "User name")),
    request_body(content = ExpertiseBody, description = "The claimed expertise, `domain:level`"),
    responses((status = 200, description = "The claims after proposing (unverified)", body = [plumbline_store::ExpertiseRecord]),
              (status = 422, body = crate::api::ErrorBody)))]
async fn propose_expertise<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Path(name): Path<String>,
    bytes: axum::body::Bytes,
) -> Reply<Vec<ExpertiseRecord>> {
    // A write to a user's record: the `admin` scope, as verifying needs.
    actor.require(Scope::Admin)?;
    let user = state.store.user_by_name(&name).await?;
    let own = user.id == actor.user.id;
    if !own && !may_verify(&state, &actor, &user).await? {
        return Err(AuthError::NotFound(format!("user `{name}` not found")));
    }
    let b: ExpertiseBody = body(&bytes)?;
    let expertise: Expertise = b
        .expertise
        .parse()
        .map_err(|m| AuthError::Invalid(format!("expertise: {m}")))?;
    let domain = expertise.domain.as_str();
    // Anyone may claim expertise of their own; a lead proposes only in a domain of
    // theirs; replacing a verified claim (another level, or unverifying it) needs that
    // authority from everyone.
    let verified = state.store.expertise(user.id).await?.into_iter().find(|c| {
        c.expertise.domain.as_str() == domain
            && (c.verified_by.is_some() || c.verified_at.is_some())
    });
    if (!own || verified.is_some())
        && let Err(reason) = domain_authority(&state, &actor, &user, domain).await?
    {
        let reason = match &verified {
            Some(c) => format!(
                "replacing the verified claim {} needs authority in `{domain}`: {reason}",
                c.expertise
            ),
            None => reason,
        };
        return Err(refuse(&state, &actor, &user, reason).await);
    }
    state
        .store
        .propose_expertise(Some(actor.user.id), user.id, expertise)
        .await?;
    Ok(Json(state.store.expertise(user.id).await?))
}

#[utoipa::path(post, operation_id = "verify_expertise", path = "/api/v1/users/{user}/expertise/{domain}/verify", tag = "access",
    params(("user" = String, Path, description = "User name"), ("domain" = String, Path, description = "Expertise domain")),
    responses((status = 200, description = "The verified claim (a lead of a shared project or an admin)", body = plumbline_store::ExpertiseRecord),
              (status = 403, body = crate::api::ErrorBody)))]
async fn verify_expertise<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Path((name, domain)): Path<(String, String)>,
) -> Reply<ExpertiseRecord> {
    actor.require(Scope::Admin)?;
    let user = state.store.user_by_name(&name).await?;
    if user.id == actor.user.id && !actor.user.is_admin {
        return Err(refuse(
            &state,
            &actor,
            &user,
            "nobody verifies their own expertise".into(),
        )
        .await);
    }
    if let Err(reason) = domain_authority(&state, &actor, &user, &domain).await? {
        return Err(refuse(&state, &actor, &user, reason).await);
    }
    Ok(Json(
        state
            .store
            .verify_expertise(Some(actor.user.id), user.id, &domain)
            .await?,
    ))
}

#[utoipa::path(get, operation_id = "list_members", path = "/api/v1/projects/{project}/members", tag = "access",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Members and roles", body = [plumbline_store::Member]), (status = 404, body = crate::api::ErrorBody)))]
async fn list_members<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
) -> Reply<Vec<Member>> {
    Ok(Json(state.store.members(viewer.project.id).await?))
}

/// A member's role.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    role: String,
}

#[utoipa::path(put, operation_id = "set_member", path = "/api/v1/projects/{project}/members/{user}", tag = "access",
    params(("project" = String, Path, description = "Project name"), ("user" = String, Path, description = "User name")),
    request_body(content = RoleBody, description = "`lead`, `reviewer`, `annotator` or `viewer`"),
    responses((status = 200, description = "Members after the change (leads)", body = [plumbline_store::Member]), (status = 403, body = crate::api::ErrorBody)))]
async fn set_member<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, name)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Reply<Vec<Member>> {
    let b: RoleBody = body(&bytes)?;
    let role: ProjectRole = b
        .role
        .parse()
        .map_err(|m| AuthError::Invalid(format!("role: {m}")))?;
    let user = state.store.user_by_name(&name).await?;
    state
        .store
        .add_member(Some(lead.actor.user.id), lead.project.id, user.id, role)
        .await?;
    Ok(Json(state.store.members(lead.project.id).await?))
}

#[utoipa::path(delete, operation_id = "remove_member", path = "/api/v1/projects/{project}/members/{user}", tag = "access",
    params(("project" = String, Path, description = "Project name"), ("user" = String, Path, description = "User name")),
    responses((status = 200, description = "Members after the removal (leads): the user no longer sees the project, their open leases go back to the pool, their judgments stay", body = [plumbline_store::Member]),
              (status = 403, body = crate::api::ErrorBody),
              (status = 404, description = "No such project, user or membership", body = crate::api::ErrorBody),
              (status = 409, description = "The project's last lead", body = crate::api::ErrorBody)))]
async fn remove_member<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    Path((_, name)): Path<(String, String)>,
) -> Reply<Vec<Member>> {
    let user = state.store.user_by_name(&name).await?;
    state
        .store
        .remove_member(Some(lead.actor.user.id), lead.project.id, user.id)
        .await?;
    Ok(Json(state.store.members(lead.project.id).await?))
}

/// A user's change of their own password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnPasswordBody {
    /// The password in use now.
    current_password: String,
    /// The new password (at least 12 characters).
    new_password: String,
}

/// Hashes a password off the async threads.
async fn hashed(password: String) -> Result<String, AuthError> {
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AuthError::Store(plumbline_store::StoreError::Database(e.to_string())))??;
    Ok(hash)
}

#[utoipa::path(put, operation_id = "change_own_password", path = "/api/v1/account/password", tag = "access",
    request_body(content = OwnPasswordBody, description = "The current password and the new one"),
    responses((status = 204, description = "Changed: every other session of the user ended (the one it was changed from stays); API tokens stay"),
              (status = 400, body = crate::api::ErrorBody),
              (status = 401, body = crate::api::ErrorBody),
              (status = 403, description = "The current password is wrong", body = crate::api::ErrorBody),
              (status = 422, description = "The new password is too short or too long", body = crate::api::ErrorBody)))]
async fn change_own_password<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<axum::http::StatusCode, AuthError> {
    let b: OwnPasswordBody = body(&bytes)?;
    check_password(&b.new_password)
        .map_err(|m| AuthError::Invalid(format!("new_password: {m}")))?;
    // Guesses at the current password count as failed logins of the name, so a
    // borrowed session cannot brute-force it here.
    let client = crate::login_guard::ClientAddr::of_request(
        &extensions,
        &headers,
        state.session.trust_forwarded_for,
    );
    let key = crate::login_guard::throttle_key(
        state.store.audit_trail().key(),
        &actor.user.name,
        &client,
    );
    if state.store.login_locked_until(&key).await?.is_some() {
        return Err(AuthError::Forbidden(
            "too many wrong passwords for this name; try again later".into(),
        ));
    }
    let phc = state
        .store
        .password_hash(&actor.user.name)
        .await?
        .map(|(_, h)| h);
    let current = b.current_password;
    let ok = match phc {
        Some(phc) => tokio::task::spawn_blocking(move || verify_password(&current, &phc))
            .await
            .unwrap_or(false),
        None => false,
    };
    if !ok {
        state
            .store
            .record_login_failure(&key, &actor.user.name)
            .await?;
        return Err(AuthError::Forbidden(
            "current_password: this is not your current password".into(),
        ));
    }
    let hash = hashed(b.new_password).await?;
    let keep = crate::session::cookie(&headers, crate::session::COOKIE).map(token_hash);
    state
        .store
        .set_password(Some(actor.user.id), actor.user.id, Some(hash), keep)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// An administrator's reset of a user's password.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetPasswordBody {
    /// The new password; left out, a strong one is generated and answered once.
    #[serde(default)]
    password: Option<String>,
}

/// The outcome of a reset.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ResetPasswordReply {
    /// The user.
    user: User,
    /// The generated password, shown this once (absent when the request gave one).
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

#[utoipa::path(put, operation_id = "reset_password", path = "/api/v1/users/{user}/password", tag = "access",
    params(("user" = String, Path, description = "User name")),
    request_body(content = ResetPasswordBody, description = "The new password, or nothing to have one generated"),
    responses((status = 200, description = "Reset (administrators): every session of the user ended; API tokens stay", body = ResetPasswordReply),
              (status = 400, body = crate::api::ErrorBody),
              (status = 403, body = crate::api::ErrorBody),
              (status = 404, body = crate::api::ErrorBody),
              (status = 422, body = crate::api::ErrorBody)))]
async fn reset_password<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Path(name): Path<String>,
    bytes: axum::body::Bytes,
) -> Reply<ResetPasswordReply> {
    actor.require_admin()?;
    let b: ResetPasswordBody = if bytes.is_empty() {
        ResetPasswordBody::default()
    } else {
        body(&bytes)?
    };
    let user = state.store.user_by_name(&name).await?;
    let (password, generated) = match b.password {
        Some(p) => {
            check_password(&p).map_err(|m| AuthError::Invalid(format!("password: {m}")))?;
            (p, false)
        }
        None => (plumbline_store::random_hex(12)?, true),
    };
    let hash = hashed(password.clone()).await?;
    state
        .store
        .set_password(Some(actor.user.id), user.id, Some(hash), None)
        .await?;
    Ok(Json(ResetPasswordReply {
        user,
        password: generated.then_some(password),
    }))
}

/// How many throttles a lift ended.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Lifted {
    /// Throttles of the name lifted (one per client address that had failed).
    lifted: u64,
}

#[utoipa::path(delete, operation_id = "lift_login_throttle", path = "/api/v1/login-throttles/{name}", tag = "access",
    params(("name" = String, Path, description = "The login name, as typed at login")),
    responses((status = 200, description = "Lifted (administrators): the name may log in again from every address", body = Lifted),
              (status = 403, body = crate::api::ErrorBody)))]
async fn lift_throttle<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Path(name): Path<String>,
) -> Reply<Lifted> {
    actor.require_admin()?;
    let lifted = crate::login_guard::lift(&state.store, Some(actor.user.id), &name).await?;
    Ok(Json(Lifted { lifted }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
    action: Option<String>,
    actor: Option<i64>,
    project: Option<i64>,
    since: Option<i64>,
}

/// Admins read the chain in pages (`after` = last seq seen), optionally filtered.
#[utoipa::path(get, operation_id = "list_audit_events", path = "/api/v1/audit", tag = "access",
    params(("after" = Option<i64>, Query, description = "Last sequence number seen"), ("limit" = Option<u32>, Query, description = "Page size, at most 1000"),
           ("action" = Option<String>, Query, description = "Only this action"), ("actor" = Option<i64>, Query, description = "Only this user id"),
           ("project" = Option<i64>, Query, description = "Only this project id"), ("since" = Option<i64>, Query, description = "Only events at or after (Unix ms)")),
    responses((status = 200, description = "Audit events, oldest first (administrators)", body = [StoredAuditEvent]), (status = 403, body = crate::api::ErrorBody)))]
async fn audit<S: Store>(
    State(state): State<AppState<S>>,
    actor: Actor,
    Query(q): Query<AuditQuery>,
) -> Reply<Vec<StoredAuditEvent>> {
    actor.require_admin()?;
    let limit = q.limit.unwrap_or(100).clamp(1, AUDIT_PAGE_MAX);
    let mut out = Vec::new();
    let mut after = q.after;
    // Filters apply to pages of the chain until enough matches or the end.
    while out.len() < limit as usize {
        let page = state.store.audit_events(after, AUDIT_PAGE_MAX).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page.into_iter().filter(|e| {
            q.action.as_ref().is_none_or(|a| &e.action == a)
                && q.actor.is_none_or(|a| e.actor == Some(a))
                && q.project.is_none_or(|p| e.project_id == Some(p))
                && q.since.is_none_or(|s| e.at >= s)
        }));
    }
    out.truncate(limit as usize);
    Ok(Json(out))
}
