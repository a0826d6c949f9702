//! The JSON API under `/api/v1`: one module per resource, one error type, and the
//! OpenAPI 3 document generated from the handlers' annotations.
//!
//! Every handler takes the acting user from an extractor of [`crate::auth`]
//! (`Viewer`, `Annotator`, `Reviewer`, `Lead`, `Importer`, `Exporter`, `Actor`), so its signature
//! states its access rule. Handlers translate: they parse the request, call the store
//! and map its answer; the rules live in the domain and the store.

pub mod adjudication;
pub mod exports;
pub mod gold;
pub mod items;
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

/// A body rejected by axum's size limit becomes our 413.
pub async fn limit_error(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|v| !v.as_bytes().starts_with(b"application/json"))
    {
        return ApiError::TooLarge("the request body is larger than this endpoint accepts".into())
            .into_response();
    }
    response
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
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .layer(axum::middleware::from_fn(limit_error))
}

/// The OpenAPI 3 document of the API, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Plumbline API", description = "Expert RLHF feedback: assignment, judgments, gold, adjudication."),
    paths(
        projects::list, projects::create, projects::get_one, projects::update,
        rubrics::list, rubrics::get_one, rubrics::add,
        items::import, items::list, items::get_one,
        tasks::next, tasks::submit, tasks::skip,
        adjudication::queue, adjudication::decide,
        gold::list, gold::add, gold::reset_qualification,
        progress::progress,
        quality::quality, quality::reinstate,
        exports::export, exports::create_release, exports::list_releases,
        split::split,
        crate::session::login, crate::session::whoami, crate::session::logout,
        crate::access_api::list_users, crate::access_api::create_user,
        crate::access_api::list_expertise, crate::access_api::propose_expertise,
        crate::access_api::verify_expertise,
        crate::access_api::list_members, crate::access_api::set_member,
        crate::access_api::audit,
    ),
    components(schemas(
        ErrorBody, ErrorDetail,
        projects::NewProjectBody, projects::SettingsBody,
        rubrics::RubricBody,
        tasks::SubmitBody, tasks::SkipBody,
        adjudication::DecisionBody,
        gold::GoldBody,
        exports::ExportQuery,
        split::SplitBody,
    )),
    modifiers(&BearerAuth),
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
