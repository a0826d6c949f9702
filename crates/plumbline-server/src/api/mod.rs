//! The JSON API under `/api/v1`: one module per resource, one error type, and the
//! OpenAPI 3 document generated from the handlers' annotations.
//!
//! Every handler takes the acting user from an extractor of [`crate::auth`]
//! (`Viewer`, `Annotator`, `Reviewer`, `Lead`, `Importer`, `Exporter`, `Actor`), so its signature
//! states its access rule. Handlers translate: they parse the request, call the store
//! and map its answer; the rules live in the domain and the store.

pub mod adjudication;
pub mod comments;
pub mod exports;
pub mod gold;
pub mod items;
pub mod media;
pub mod progress;
pub mod projects;
pub mod quality;
pub mod rubrics;
pub mod split;
pub mod tasks;

use crate::AppState;
use crate::auth::AuthError;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plumbline_domain::{FieldError, JudgmentError};
use plumbline_store::{SettingsError, Store, StoreError, WorkError};
use serde::de::DeserializeOwned;
use serde_json::json;
use utoipa::OpenApi;

/// Largest JSON request body, in bytes (payloads, decisions, rubrics).
pub const JSON_BODY_LIMIT: usize = 1 << 20;

/// Largest NDJSON import body, in bytes; larger files go through `plumbline import`.
pub const IMPORT_BODY_LIMIT: usize = 256 << 20;

/// Largest page a listing returns.
pub const PAGE_MAX: u32 = 500;

/// Default page size of listings.
pub const PAGE_DEFAULT: u32 = 100;

/// The one error of the API, with one exhaustive mapping to a status and a code.
#[derive(Debug)]
pub enum ApiError {
    /// Authentication or access refused (401 / 403 / 404 as the extractor decided).
    Auth(AuthError),
    /// The store refused or failed.
    Store(StoreError),
    /// A judgment payload is not valid for its item and rubric.
    Payload(JudgmentError),
    /// The caller may not act on this object (someone else's assignment).
    Forbidden(String),
    /// The lease has expired or the assignment was skipped.
    Expired(String),
    /// The request itself is malformed (not JSON, wrong field types).
    BadRequest(String),
    /// The request is well-formed but names something invalid.
    Invalid(String),
    /// The body exceeds its limit.
    TooLarge(String),
    /// A value is out of its range or not allowed; the body names the field.
    Field(FieldError),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

impl From<WorkError> for ApiError {
    fn from(e: WorkError) -> Self {
        match e {
            WorkError::Store(e) => ApiError::Store(e),
            WorkError::Payload(e) => ApiError::Payload(e),
            WorkError::Forbidden(m) => ApiError::Forbidden(m),
            WorkError::Expired(m) => ApiError::Expired(m),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Store(e) => ApiError::Store(e),
            SettingsError::Field(e) => ApiError::Field(e),
        }
    }
}

impl ApiError {
    /// Status, machine code and message (`None` for access errors, which render
    /// themselves with the extractor's mapping).
    pub fn parts(&self) -> Option<(StatusCode, &'static str, String)> {
        Some(match self {
            ApiError::Auth(_) => return None,
            ApiError::Store(StoreError::NotFound(m)) => {
                (StatusCode::NOT_FOUND, "not_found", format!("{m} not found"))
            }
            ApiError::Store(StoreError::Conflict(m)) => {
                (StatusCode::CONFLICT, "conflict", m.clone())
            }
            ApiError::Store(StoreError::Invalid(m)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone())
            }
            ApiError::Store(StoreError::Database(m)) => {
                tracing::error!(error = %m, "store failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; try again".into(),
                )
            }
            ApiError::Payload(e) => {
                let code = match e {
                    JudgmentError::Syntax { .. } => "malformed_json",
                    JudgmentError::Shape { .. } => "invalid_payload",
                    JudgmentError::WrongKind { .. } => "wrong_kind",
                    JudgmentError::Invalid(_) => "invalid_payload",
                    JudgmentError::PriorityViolation { .. } => "priority_rule",
                };
                let status = match e {
                    JudgmentError::Syntax { .. } => StatusCode::BAD_REQUEST,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                (status, code, e.to_string())
            }
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            ApiError::Expired(m) => (StatusCode::CONFLICT, "lease_expired", m.clone()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            ApiError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.clone()),
            ApiError::Field(e) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Some((status, code, message)) = self.parts() else {
            let ApiError::Auth(e) = self else {
                unreachable!("only access errors have no parts")
            };
            return e.into_response();
        };
        let mut body = json!({"error": {"code": code, "message": message}});
        if let ApiError::Payload(JudgmentError::PriorityViolation { criterion, .. }) = &self {
            body["error"]["criterion"] = json!(criterion);
        }
        if let ApiError::Field(e) = &self
            && !e.field.is_empty()
        {
            body["error"]["field"] = json!(e.field);
        }
        (status, axum::Json(body)).into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON request body, naming the problem (position, field) in a 400.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the request needs a JSON body".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))
}

/// Refusals made by axum before a handler runs (a body over its size limit, a query
/// string or path that does not parse, a body of the wrong content type) answer plain
/// text; this turns them into the API's JSON error, as documented: 413 `too_large`, 400
/// `bad_request`, 415 and 422 `invalid`, with axum's message.
pub async fn limit_error(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json {
        return response;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge("the request body is larger than this endpoint accepts".into())
                .into_response()
        }
        StatusCode::BAD_REQUEST
        | StatusCode::UNPROCESSABLE_ENTITY
        | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            let bytes = axum::body::to_bytes(response.into_body(), 64 << 10)
                .await
                .unwrap_or_default();
            let message = String::from_utf8_lossy(&bytes).into_owned();
            let code = if status == StatusCode::BAD_REQUEST {
                "bad_request"
            } else {
                "invalid"
            };
            (
                status,
                axum::Json(json!({"error": {"code": code, "message": message}})),
            )
                .into_response()
        }
        _ => response,
    }
}

/// Clamps a requested page size to `1..=PAGE_MAX`.
pub fn page_size(limit: Option<u32>) -> u32 {
    limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX)
}

/// The API's routes.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    let json_routes = Router::new()
        .merge(projects::routes())
        .merge(rubrics::routes())
        .merge(items::routes())
        .merge(comments::routes())
        .merge(media::routes())
        .merge(tasks::routes())
        .merge(adjudication::routes())
        .merge(gold::routes())
        .merge(progress::routes())
        .merge(quality::routes())
        .merge(exports::routes())
        .merge(split::routes())
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    Router::new()
        .merge(json_routes)
        .merge(items::import_routes().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .merge(media::upload_routes().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .layer(axum::middleware::from_fn(limit_error))
}

/// The OpenAPI 3 document of the API, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Plumbline API", description = "Expert RLHF feedback: assignment, judgments, gold, adjudication."),
    paths(
        projects::list, projects::create, projects::get_one, projects::update,
        rubrics::list, rubrics::get_one, rubrics::add, rubrics::convert,
        items::import, items::list, items::get_one,
        comments::list, comments::add,
        media::audio, media::peaks, media::upload,
        tasks::next, tasks::submit, tasks::skip,
        adjudication::queue, adjudication::decide,
        gold::list, gold::add, gold::reset_qualification,
        gold::list_candidates, gold::propose_candidate, gold::accept_candidate, gold::reject_candidate,
        progress::progress,
        quality::quality, quality::reinstate, quality::leaderboard,
        exports::export, exports::create_release, exports::list_releases,
        split::split,
        crate::session::login, crate::session::whoami, crate::session::logout,
        crate::access_api::list_users, crate::access_api::create_user,
        crate::access_api::list_expertise, crate::access_api::propose_expertise,
        crate::access_api::verify_expertise,
        crate::access_api::list_members, crate::access_api::set_member,
        crate::access_api::remove_member,
        crate::access_api::change_own_password, crate::access_api::reset_password,
        crate::access_api::lift_throttle,
        crate::access_api::audit,
        crate::invitations::invite, crate::invitations::reissue, crate::invitations::accept,
    ),
    components(schemas(
        ErrorBody, ErrorDetail,
        projects::NewProjectBody, projects::SettingsBody,
        rubrics::RubricBody, rubrics::ConvertBody,
        tasks::SubmitBody, tasks::SkipBody,
        adjudication::DecisionBody,
        comments::CommentsReply, comments::NewCommentBody, plumbline_store::ItemComment,
        gold::GoldBody, gold::AcceptBody,
        exports::ExportQuery,
        media::PeaksBody, media::AudioFile,
        split::SplitBody,
    )),
    modifiers(&BearerAuth, &Refusals),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Documents the refusals every handler shares, where they apply, unless the handler's
/// annotation already describes them: 401 (no valid token or session) and 503 (the
/// database is unavailable) on every authenticated operation; 403 (role, token scope or
/// CSRF token) on every operation but `whoami`; 404 on every path with a parameter (a
/// project the caller is not a member of is not found); 400 where a body, a query string
/// or a path parameter is read, 422 where a body or a query string is; 413 where a body
/// is; 409 (a conflict, an expired lease) on
/// every authenticated write.
struct Refusals;

impl utoipa::Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops: [(&str, &mut Option<Operation>); 5] = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                // Signing in and accepting an invitation come before any credential.
                let public = (path == "/api/v1/session" || path == "/api/v1/invitations/accept")
                    && method == "post";
                let body = op.request_body.is_some();
                let query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                };
                if body || query || path.contains('{') {
                    add(
                        "400",
                        "The request is malformed (not JSON, a wrong field type, an unknown field, \
                         a path part that does not parse)",
                    );
                }
                if body || query {
                    add(
                        "422",
                        "The request is well-formed but names something invalid",
                    );
                }
                if body {
                    add("413", "The body is larger than this endpoint accepts");
                }
                if path.contains('{') {
                    add(
                        "404",
                        "Not found (a project the caller is not a member of is not found either)",
                    );
                }
                if public {
                    continue;
                }
                add("401", "Not signed in: no valid bearer token or session");
                add("503", "The database is unavailable; try again");
                if !(path == "/api/v1/session" && method == "get") {
                    add(
                        "403",
                        "Signed in but not allowed: role, token scope, or the CSRF token of a session",
                    );
                }
                if method != "get" {
                    add("409", "A conflict: the object exists, or the lease expired");
                }
            }
        }
    }
}

/// `{"error": {"code": "...", "message": "..."}}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The error's machine code and a message a person can act on.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// `not_found`, `conflict`, `invalid`, `invalid_payload`, `priority_rule`, `wrong_kind`,
    /// `malformed_json`, `lease_expired`, `forbidden`, `unauthenticated`, `too_large`, …
    code: String,
    /// What is wrong.
    message: String,
    /// For `priority_rule`: the criterion the rule turned on.
    criterion: Option<String>,
    /// For `invalid` settings: the field out of its range (`overlap`, `gold_rate`, …).
    field: Option<String>,
}

async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(text) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        Err(e) => {
            ApiError::Invalid(format!("cannot render the OpenAPI document: {e}")).into_response()
        }
    }
}
