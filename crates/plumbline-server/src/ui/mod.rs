//! The web interface: server-rendered pages, one module per page family, and small
//! hand-written JavaScript and CSS embedded in the binary (`assets/`).
//!
//! - [`login`]: `/login`, the project list `/projects` with the user's own progress.
//! - [`judge`]: `/projects/{project}/judge`, the annotator's page; its script leases and
//!   swaps tasks through `POST /ui/api/projects/{project}/next` (a server-rendered
//!   fragment) and submits and skips through the JSON API.
//! - [`review`]: `/projects/{project}/review`, the adjudication queue.
//! - [`browse`]: `/projects/{project}/items` (reviewers and leads), the item browser;
//!   `/projects/{project}/items/{item}`, an item with its judgments and comment thread
//!   ([`comments`]); `/projects/{project}/judged`, an annotator's judged items.
//! - [`dashboard`]: `/projects/{project}/dashboard` (leads) and `/admin/audit` (admins).
//! - [`members`]: `/projects/{project}/members` (leads): roles and expertise verification.
//! - [`setup`]: `/projects/{project}/setup` (leads): settings, rubric versions, import.
//! - [`account`]: `/account`, the signed-in user's password change.
//! - [`player`]: the call-audio player any page draws for an item with audio (`player.js`).
//! - [`new_project`]: the administrator's "New project" form on `/projects`.
//! - [`users`]: `/admin/users` (admins): users and one-time invitation links.
//! - [`invite`]: `/invite/{token}`, where an invited user chooses their password.
//!
//! Pages are `maud::html!` templates, which escape every interpolated value (none is
//! wrapped in `PreEscaped`); the CSP forbids inline script, so pages carry data in
//! `data-` attributes and scripts come from `/assets/`.

pub mod account;
pub mod assets;
pub mod browse;
pub mod comments;
pub mod dashboard;
pub mod invite;
pub mod judge;
pub mod login;
pub mod members;
pub mod new_project;
pub mod player;
pub mod review;
pub mod setup;
pub mod users;

use crate::AppState;
use crate::auth::AuthError;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use plumbline_store::{Store, User};

/// The UI's routes, merged into the server's router.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/projects") }))
        .route("/login", get(login::login_page))
        .route("/projects", get(login::projects::<S>))
        .route("/projects/{project}/judge", get(judge::judge_page::<S>))
        .route("/ui/api/projects/{project}/next", post(judge::next::<S>))
        .route(
            "/ui/api/projects/{project}/feedback/{item}",
            get(judge::feedback::<S>),
        )
        .route("/projects/{project}/review", get(review::review_page::<S>))
        .route("/projects/{project}/items", get(browse::browse_page::<S>))
        .route(
            "/projects/{project}/items/{item}",
            get(browse::item_page::<S>),
        )
        .route("/projects/{project}/judged", get(browse::judged_page::<S>))
        .route(
            "/projects/{project}/dashboard",
            get(dashboard::dashboard_page::<S>),
        )
        .route(
            "/projects/{project}/members",
            get(members::members_page::<S>),
        )
        .route("/projects/{project}/setup", get(setup::setup_page::<S>))
        .route("/admin/audit", get(dashboard::audit::<S>))
        .route("/admin/users", get(users::users_page::<S>))
        .route("/invite/{token}", get(invite::invite_page::<S>))
        .route("/account", get(account::account_page::<S>))
        .route("/assets/{file}", get(assets::serve))
}

/// A page's HTML, or the way a refused page answers.
pub type PageResult = Result<Response, PageError>;

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Access refused by an extractor.
    Auth(AuthError),
    /// The store failed or refused.
    Store(plumbline_store::StoreError),
}

impl From<AuthError> for PageError {
    fn from(e: AuthError) -> Self {
        PageError::Auth(e)
    }
}

impl From<plumbline_store::StoreError> for PageError {
    fn from(e: plumbline_store::StoreError) -> Self {
        PageError::Store(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::Auth(AuthError::Unauthenticated(_)) => {
                return Redirect::to("/login").into_response();
            }
            PageError::Auth(AuthError::Forbidden(m)) => (StatusCode::FORBIDDEN, m),
            PageError::Auth(AuthError::NotFound(m)) => (StatusCode::NOT_FOUND, m),
            PageError::Auth(AuthError::Invalid(m) | AuthError::Conflict(m)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, m)
            }
            PageError::Auth(AuthError::Store(e)) | PageError::Store(e) => {
                tracing::error!(error = %e, "store failed rendering a page");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; try again".to_owned(),
                )
            }
        };
        let body = html! {
            section.panel {
                h1 { (status.as_u16()) }
                p { (message) }
                p { a href="/projects" { "Back to projects" } }
            }
        };
        (
            status,
            Html(layout("Error", None, "", body, &[]).into_string()),
        )
            .into_response()
    }
}

/// Turns an extractor's result into a page error.
pub fn access<T>(r: Result<T, AuthError>) -> Result<T, PageError> {
    r.map_err(PageError::Auth)
}

/// A complete page: head with the stylesheet and scripts, the top bar, and `body`.
pub fn layout(
    title: &str,
    user: Option<&User>,
    page: &str,
    body: Markup,
    scripts: &[&str],
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Plumbline" }
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
                @for s in scripts {
                    script src=(assets::url(s)) defer {}
                }
            }
            body data-page=(page) {
                header.top {
                    a.brand href="/projects" { "Plumbline" }
                    @if let Some(u) = user {
                        nav {
                            a href="/projects" { "Projects" }
                            @if u.is_admin {
                                a href="/admin/users" { "Users" }
                                a href="/admin/audit" { "Audit log" }
                            }
                        }
                        a.who href="/account" title="Your account" { (u.name) }
                        button type="button" id="logout" class="link" { "Sign out" }
                    }
                    button type="button" id="help-open" class="link" aria-label="Keyboard shortcuts" { "?" }
                }
                main id="main" { (body) }
            }
        }
    }
}

/// An HTML response that is never cached (pages carry per-user data).
pub fn page(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// How much work waits for `user` in `project`, in words: the items they could still
/// be given, or, while a qualification they have not passed stands before the work,
/// that it does (the count would leave out the qualification items they still face).
pub(crate) async fn waiting_words<S: Store>(
    store: &S,
    project: &plumbline_store::Project,
    user: plumbline_domain::UserId,
) -> Result<(Option<i64>, String), plumbline_store::StoreError> {
    if project.settings.qualification_size > 0
        && store.qualification(project.id, user).await?.state
            != plumbline_store::QualificationState::Passed
    {
        return Ok((None, "qualification first".into()));
    }
    let n = store.waiting_for(user, project.id).await?;
    Ok((Some(n), format!("{n} waiting for you")))
}
