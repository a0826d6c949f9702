//! Browser sessions: `POST /api/v1/session` logs in (throttled, with back-off),
//! `GET` says who is logged in (and the CSRF token), `DELETE` logs out.
//!
//! The cookie holds 256 random bits; the database keeps only their SHA-256, with idle
//! and absolute expiry. Every login mints a new session (no fixation); mutations made
//! with the cookie must echo the session's CSRF token in `X-CSRF-Token` (checked by
//! the [`crate::auth::Actor`] extractor).

use crate::AppState;
use crate::auth::{Actor, AuthError, hash_password, token_hash, verify_password};
use crate::login_guard::{
    ClientAddr, UnknownFailure, audit_subject, throttle_key, verification_time,
};
use axum::extract::State;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use plumbline_store::{SessionLimits, Store, User, now_ms};
use serde::Deserialize;
use serde_json::json;
use std::sync::OnceLock;

/// Name of the session cookie.
pub const COOKIE: &str = "plumbline_session";

/// Header that cookie-authenticated mutations must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Session settings of a server.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// Idle and absolute lifetimes.
    pub limits: SessionLimits,
    /// Mark cookies `Secure` (set when served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Read the client's address from the last `X-Forwarded-For` hop (a proxy of the
    /// deployment's own appends it).
    pub trust_forwarded_for: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            limits: SessionLimits {
                idle_ms: 30 * 60 * 1000,
                absolute_ms: 12 * 60 * 60 * 1000,
            },
            secure_cookies: false,
            trust_forwarded_for: false,
        }
    }
}

/// The session routes, to be merged under the server's router.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route(
        "/api/v1/session",
        post(login::<S>).get(whoami::<S>).delete(logout::<S>),
    )
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A user name and password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    name: String,
    password: String,
}

/// The answer of a login: the user, and the CSRF token every mutation of the session
/// echoes in `X-CSRF-Token` (the session itself is the cookie).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct LoginReply {
    user: plumbline_store::User,
    csrf_token: String,
}

/// The caller: the user, their token's scopes (a session has every scope) and, for a
/// session, its CSRF token.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct WhoAmI {
    user: plumbline_store::User,
    scopes: String,
    csrf_token: Option<String>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// A hash to verify against when the user does not exist, so that the answer takes
/// as long as for a wrong password and does not reveal which names exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that never matches").unwrap_or_default())
}

/// Login CSRF: a page on another site can make a browser post a form (or `text/plain`
/// holding JSON) to the login endpoint and sign the victim in as the attacker. A login
/// must say it is JSON, which a cross-site form cannot without a CORS preflight this
/// server never grants, and an `Origin`, when the browser sends one, must be this host.
pub(crate) fn login_csrf_refusal(headers: &HeaderMap) -> Option<Response> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Some(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a login is JSON: send Content-Type: application/json",
        ));
    }
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest.trim_end_matches('/'));
        if host.is_none() || origin_host != host {
            return Some(error(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "a login must come from this server's own pages (the Origin names another site)",
            ));
        }
    }
    None
}

#[utoipa::path(post, operation_id = "login", path = "/api/v1/session", tag = "access", security(()),
    request_body(content = Login, description = "The user name and password"),
    responses((status = 200, description = "Logged in: session cookie set; the body carries the CSRF token", body = LoginReply),
              (status = 400, body = crate::api::ErrorBody),
              (status = 401, body = crate::api::ErrorBody),
              (status = 403, description = "An Origin other than this server (login CSRF)", body = crate::api::ErrorBody),
              (status = 415, description = "A body not declared as JSON (login CSRF)", body = crate::api::ErrorBody),
              (status = 429, description = "Throttled after repeated failures", body = crate::api::ErrorBody)))]
async fn login<S: Store>(
    State(state): State<AppState<S>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = login_csrf_refusal(&headers) {
        return refusal;
    }
    let Ok(Login { name, password }) = serde_json::from_slice::<Login>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send JSON {\"name\": \"…\", \"password\": \"…\"}",
        );
    };
    let store = &state.store;
    let guard = &state.login_guard;
    let client = ClientAddr::of_request(&extensions, &headers, state.session.trust_forwarded_for);
    let throttled = |wait_ms: i64, why: &str| {
        let wait = (wait_ms / 1000).max(1);
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            &format!("{why}; try again in {wait} s"),
        );
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait));
        r
    };
    if let Some(wait) = guard.client_blocked(&client, now_ms()) {
        return throttled(wait, "too many failed logins from this address");
    }
    let audit_key = store.audit_trail().key();
    let key = throttle_key(audit_key, &name, &client);
    match store.login_locked_until(&key).await {
        Ok(Some(until)) => {
            return throttled(until - now_ms(), "too many failed logins for this name");
        }
        Ok(None) => {}
        Err(e) => return AuthError::Store(e).into_response(),
    }
    let found = match store.password_hash(&name).await {
        Ok(f) => f,
        Err(e) => return AuthError::Store(e).into_response(),
    };
    let wrong = || {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "wrong name or password",
        )
    };
    if found.is_none() && guard.unknown_spent(now_ms()) {
        // Over the budget for invented names: no Argon2 work, nothing stored; the
        // answer still takes about as long as a password check.
        guard.client_failed(&client, now_ms());
        guard.unknown_failed(now_ms());
        tokio::time::sleep(verification_time()).await;
        return wrong();
    }
    let phc = found
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    let user: User = match (ok, found) {
        (true, Some((user, _))) => user,
        (_, found) => {
            let known = found.is_some();
            guard.client_failed(&client, now_ms());
            if !known && guard.unknown_failed(now_ms()) == UnknownFailure::Drop {
                return wrong();
            }
            let subject = audit_subject(audit_key, &name, known);
            return match store.record_login_failure(&key, &subject).await {
                Ok(_) => wrong(),
                Err(e) => AuthError::Store(e).into_response(),
            };
        }
    };
    if let Err(e) = store.clear_login_failures(&key).await {
        return AuthError::Store(e).into_response();
    }
    open_session(&state, &headers, user).await
}

/// Starts a new session for `user` (ending any the request presented, so a session id
/// is never reused) and answers the user and the CSRF token with the cookie set.
pub(crate) async fn open_session<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    user: User,
) -> Response {
    let store = &state.store;
    if let Some(old) = cookie(headers, COOKIE) {
        let _ = store.revoke_session(token_hash(old)).await;
    }
    let (secret, csrf) = match (
        plumbline_store::random_hex(32),
        plumbline_store::random_hex(32),
    ) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(e), _) | (_, Err(e)) => return AuthError::Store(e).into_response(),
    };
    let config = state.session;
    if let Err(e) = store
        .create_session(user.id, token_hash(&secret), csrf.clone(), config.limits)
        .await
    {
        return AuthError::Store(e).into_response();
    }
    let cookie = format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        config.limits.absolute_ms / 1000,
        if config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = Json(json!({"user": user, "csrf_token": csrf})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, v);
    }
    response
}

#[utoipa::path(get, operation_id = "whoami", path = "/api/v1/session", tag = "access",
    responses((status = 200, description = "The caller, their scopes and (for sessions) the CSRF token", body = WhoAmI), (status = 401, body = crate::api::ErrorBody)))]
async fn whoami<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    actor: Actor,
) -> Response {
    let csrf = match cookie(&headers, COOKIE) {
        Some(secret) => match state
            .store
            .touch_session(token_hash(secret), state.session.limits)
            .await
        {
            Ok(s) => s.map(|s| s.csrf_token),
            Err(e) => return AuthError::Store(e).into_response(),
        },
        None => None,
    };
    Json(json!({"user": actor.user, "scopes": actor.scopes.to_string(), "csrf_token": csrf}))
        .into_response()
}

#[utoipa::path(delete, operation_id = "logout", path = "/api/v1/session", tag = "access",
    responses((status = 204, description = "Logged out"), (status = 403, description = "Missing X-CSRF-Token", body = crate::api::ErrorBody)))]
async fn logout<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    _actor: Actor,
) -> Response {
    if let Some(secret) = cookie(&headers, COOKIE)
        && let Err(e) = state.store.revoke_session(token_hash(secret)).await
    {
        return AuthError::Store(e).into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static(
            "plumbline_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}
