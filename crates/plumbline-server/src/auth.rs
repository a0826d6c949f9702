//! Who is calling, and what they may do: extractors, so that a handler's signature
//! states its access rule and a missing check is a type error (STYLE.md).
//!
//! - [`Actor`]: any authenticated, enabled user (API token today; sessions next).
//! - Project extractors read the `{project}` path segment (the project's name) and
//!   check membership, role and token scope: [`Viewer`] (read), [`Annotator`]
//!   (annotate), [`Reviewer`] (review), [`Lead`] (admin), [`Importer`] (lead + import),
//!   [`Exporter`] (lead + export). Instance admins count as leads of every project;
//!   scopes still bind them.
//! - A project the caller is not a member of answers 404, as if it did not exist, so
//!   names of other projects do not leak; too low a role or scope answers 403.

use crate::AppState;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use plumbline_domain::{ProjectRole, Scope, Scopes};
use plumbline_store::audit::{AuditAction, AuditEvent};
use plumbline_store::{Project, Store, StoreError, User, now_ms};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Prefix of every API token secret, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "plb_";

/// A new token secret: the prefix and 32 random bytes in hex. Only its SHA-256 is stored.
pub fn new_token_secret() -> Result<String, StoreError> {
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        plumbline_store::random_hex(32)?
    ))
}

/// SHA-256 of a token secret, the key it is stored and looked up by. (A fast hash
/// suits 256-bit random secrets; passwords use Argon2id instead.)
pub fn token_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Why access was refused.
#[derive(Debug)]
pub enum AuthError {
    /// No credentials, or credentials that are unknown, expired, revoked or disabled.
    Unauthenticated(&'static str),
    /// Authenticated, but the role or scope does not allow this.
    Forbidden(String),
    /// The project does not exist or the caller is not a member.
    NotFound(String),
    /// The request is malformed or names something invalid.
    Invalid(String),
    /// The change clashes with what is stored.
    Conflict(String),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AuthError::NotFound(format!("{m} not found")),
            StoreError::Conflict(m) => AuthError::Conflict(m),
            StoreError::Invalid(m) => AuthError::Invalid(m),
            e @ StoreError::Database(_) => AuthError::Store(e),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            AuthError::Unauthenticated(m) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated", m.to_owned())
            }
            AuthError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            AuthError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            AuthError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            AuthError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            AuthError::Store(e) => {
                tracing::error!(error = %e, "store failed during authentication");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable".to_owned(),
                )
            }
        };
        let mut response = (
            status,
            axum::Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// An authenticated, enabled user and the scopes their credential carries.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user.
    pub user: User,
    /// What the credential may be used for.
    pub scopes: Scopes,
}

impl Actor {
    /// Refuses unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "this credential lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }

    /// Refuses unless the user is an instance administrator (with the admin scope).
    pub fn require_admin(&self) -> Result<(), AuthError> {
        self.require(Scope::Admin)?;
        if self.user.is_admin {
            Ok(())
        } else {
            Err(AuthError::Forbidden(
                "only an administrator may do this".into(),
            ))
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl<S: Store> FromRequestParts<AppState<S>> for Actor {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(actor.clone());
        }
        let Some(secret) = bearer(parts) else {
            return session_actor(parts, state).await;
        };
        let record = state
            .store
            .token_by_hash(token_hash(secret))
            .await
            .map_err(AuthError::Store)?;
        token_actor(parts, state, record).await
    }
}

/// The actor of a token record, if it is live (else refused and audited).
async fn token_actor<S: Store>(
    parts: &mut Parts,
    state: &AppState<S>,
    record: Option<plumbline_store::TokenRecord>,
) -> Result<Actor, AuthError> {
    let Some(record) = record.filter(|t| t.is_live(now_ms())) else {
        let _ = state
            .store
            .record_event(
                AuditEvent::new(AuditAction::AccessRefuse, "token")
                    .object("unknown, expired or revoked token"),
            )
            .await;
        return Err(AuthError::Unauthenticated(
            "the token is unknown, expired or revoked",
        ));
    };
    let actor = Actor {
        user: record.user,
        scopes: record.scopes,
    };
    parts.extensions.insert(actor.clone());
    Ok(actor)
}

/// The actor of a session cookie; mutations must echo the session's CSRF token.
async fn session_actor<S: Store>(
    parts: &mut Parts,
    state: &AppState<S>,
) -> Result<Actor, AuthError> {
    let Some(secret) = crate::session::cookie(&parts.headers, crate::session::COOKIE) else {
        return Err(AuthError::Unauthenticated(
            "sign in or send `Authorization: Bearer <token>`",
        ));
    };
    let session = state
        .store
        .touch_session(token_hash(secret), state.session.limits)
        .await
        .map_err(AuthError::Store)?
        .ok_or(AuthError::Unauthenticated(
            "the session has ended; sign in again",
        ))?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let sent = parts
            .headers
            .get(crate::session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
            let _ = state
                .store
                .record_event(
                    AuditEvent::new(AuditAction::AccessRefuse, "csrf").by(Some(session.user.id)),
                )
                .await;
            return Err(AuthError::Forbidden(
                "missing or wrong X-CSRF-Token for a cookie-authenticated change".into(),
            ));
        }
    }
    let actor = Actor {
        user: session.user,
        scopes: Scopes::all(),
    };
    parts.extensions.insert(actor.clone());
    Ok(actor)
}

/// Compares secrets without an early exit that would leak their common prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An actor acting in a project, with their role there.
#[derive(Debug, Clone)]
pub struct Member {
    /// Who.
    pub actor: Actor,
    /// Where.
    pub project: Project,
    /// Their role (instance admins act as leads).
    pub role: ProjectRole,
}

impl Member {
    /// Refuses (403, audited) unless this member also passes the rule of the extractor
    /// with `min_role` and `scope`: for a request whose body asks for more than its
    /// route (a decision promoted to gold needs what `POST /gold` needs). `what` names
    /// the action in the message.
    pub async fn require<S: Store>(
        &self,
        store: &S,
        min_role: ProjectRole,
        scope: Scope,
        what: &str,
    ) -> Result<(), AuthError> {
        let reason = if self.role < min_role {
            format!(
                "{what} needs the {min_role} role in project `{}`; you are {}",
                self.project.name, self.role
            )
        } else if !self.actor.scopes.contains(scope) {
            format!(
                "{what} needs the `{}` scope, which this credential lacks",
                scope.as_str()
            )
        } else {
            return Ok(());
        };
        let _ = store
            .record_event(
                AuditEvent::new(AuditAction::AccessRefuse, "project")
                    .by(Some(self.actor.user.id))
                    .object(&self.project.name)
                    .in_project(self.project.id),
            )
            .await;
        Err(AuthError::Forbidden(reason))
    }
}

async fn member<S: Store>(
    parts: &mut Parts,
    state: &AppState<S>,
    min_role: ProjectRole,
    scope: Scope,
) -> Result<Member, AuthError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AuthError::NotFound("no project in the path".into()));
    let name = params.and_then(|params| {
        params
            .iter()
            .find(|(k, _)| *k == "project")
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| AuthError::NotFound("no project in the path".into()))
    });
    let (actor, name, project, role) = match bearer(parts) {
        // The common case, a token not yet resolved: token, project and role in one
        // read of the store (they were three).
        Some(secret) if parts.extensions.get::<Actor>().is_none() => {
            let secret = token_hash(secret);
            let name = match name {
                Ok(name) => name,
                Err(e) => {
                    // No project to read with it: authenticate first, as below.
                    Actor::from_request_parts(parts, state).await?;
                    return Err(e);
                }
            };
            let access = state
                .store
                .project_access(secret, &name)
                .await
                .map_err(AuthError::Store)?;
            let actor = token_actor(parts, state, access.token).await?;
            (actor, name, access.project, access.role)
        }
        _ => {
            let actor = Actor::from_request_parts(parts, state).await?;
            let name = name?;
            let project = match state.store.project_by_name(&name).await {
                Ok(p) => Some(p),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(AuthError::Store(e)),
            };
            let role = match &project {
                Some(p) if !actor.user.is_admin => state
                    .store
                    .member_role(p.id, actor.user.id)
                    .await
                    .map_err(AuthError::Store)?,
                _ => None,
            };
            (actor, name, project, role)
        }
    };
    let not_found = || AuthError::NotFound(format!("project `{name}` not found"));
    let Some(project) = project else {
        return Err(not_found());
    };
    let role = if actor.user.is_admin {
        Some(ProjectRole::Lead)
    } else {
        role
    };
    let refuse = |reason: String| {
        let store = state.store.clone();
        let event = AuditEvent::new(AuditAction::AccessRefuse, "project")
            .by(Some(actor.user.id))
            .object(&project.name)
            .in_project(project.id);
        async move {
            let _ = store.record_event(event).await;
            reason
        }
    };
    let Some(role) = role else {
        refuse(String::new()).await;
        return Err(not_found());
    };
    if role < min_role {
        let reason = refuse(format!(
            "this needs the {min_role} role in project `{name}`; you are {role}"
        ))
        .await;
        return Err(AuthError::Forbidden(reason));
    }
    if let Err(e) = actor.require(scope) {
        refuse(String::new()).await;
        return Err(e);
    }
    Ok(Member {
        actor,
        project,
        role,
    })
}

macro_rules! project_extractor {
    ($(#[$doc:meta] $name:ident => $role:expr, $scope:expr;)*) => {$(
        #[$doc]
        #[derive(Debug, Clone)]
        pub struct $name(pub Member);

        impl std::ops::Deref for $name {
            type Target = Member;
            fn deref(&self) -> &Member {
                &self.0
            }
        }

        impl<S: Store> FromRequestParts<AppState<S>> for $name {
            type Rejection = AuthError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, Self::Rejection> {
                member(parts, state, $role, $scope).await.map($name)
            }
        }
    )*};
}

project_extractor! {
    /// Any member of the project, with the `read` scope.
    Viewer => ProjectRole::Viewer, Scope::Read;
    /// An annotator (or higher) of the project, with the `annotate` scope.
    Annotator => ProjectRole::Annotator, Scope::Annotate;
    /// A reviewer (or lead) of the project, with the `review` scope.
    Reviewer => ProjectRole::Reviewer, Scope::Review;
    /// A lead of the project, with the `admin` scope (rubric, gold, settings, members).
    Lead => ProjectRole::Lead, Scope::Admin;
    /// A lead of the project, with the `import` scope.
    Importer => ProjectRole::Lead, Scope::Import;
    /// A lead of the project, with the `export` scope.
    Exporter => ProjectRole::Lead, Scope::Export;
}

/// Argon2id at the OWASP Password Storage Cheat Sheet's first recommended setting:
/// 19 MiB of memory, 2 iterations, 1 lane.
pub fn argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// The PHC string of `password` under a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| StoreError::Database(format!("the system random source failed: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::Invalid(format!("cannot encode salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash password: {e}")))
}

/// True when `password` matches the stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// Checks a new password's strength, saying what is wrong.
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1024 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse battery!", &phc));
        assert!(!verify_password("x", "not a phc string"));
        assert!(check_password("short").is_err());
    }

    #[test]
    fn token_secrets_are_prefixed_and_distinct() {
        let a = new_token_secret().unwrap();
        let b = new_token_secret().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 4 + 64 && a != b);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
