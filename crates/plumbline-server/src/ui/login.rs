//! The login page and the project list with the user's own progress.

use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use plumbline_domain::ProjectRole;
use plumbline_store::Store;

/// `GET /login`: a form whose script posts to `POST /api/v1/session`.
pub async fn login_page() -> Response {
    let body = html! {
        section.panel.narrow {
            h1 { "Sign in" }
            form id="login" class="stack" autocomplete="on" {
                label for="name" { "Name" }
                input id="name" name="name" autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                p id="login-error" class="error" role="alert" hidden {}
                button type="submit" class="primary" { "Sign in" }
            }
        }
    };
    page(layout("Sign in", None, "login", body, &[]))
}

/// `GET /projects`: the projects the user belongs to, with their own progress.
pub async fn projects<S: Store>(
    State(state): State<AppState<S>>,
    actor: Result<Actor, AuthError>,
) -> PageResult {
    let actor = access(actor)?;
    access(actor.require(plumbline_domain::Scope::Read))?;
    let store = &state.store;
    let mut rows: Vec<Markup> = Vec::new();
    for summary in store.list_projects().await? {
        let p = &summary.project;
        let role = if actor.user.is_admin {
            Some(ProjectRole::Lead)
        } else {
            store.member_role(p.id, actor.user.id).await?
        };
        let Some(role) = role else { continue };
        let progress = store.progress(p.id).await?;
        let mine = progress.annotators.iter().find(|a| a.user == actor.user.id);
        let done = mine.map_or(0, |a| a.judgments);
        let waiting = if role >= ProjectRole::Annotator {
            Some(super::waiting_words(store, p, actor.user.id).await?.1)
        } else {
            None
        };
        let (adjudication, resolved) = (progress.items.adjudication, progress.items.resolved);
        let total = progress.items.total().max(1);
        let name = &p.name;
        rows.push(html! {
            li.project {
                div.ptitle { h2 { (name) } span.role { (role) } }
                // Item states move when a submission settles an item: an annotator
                // watching them would learn whether the others agreed. They see the
                // size and their own count.
                @if crate::api::progress::sees_everyone(role) {
                    p.muted {
                        (summary.items) " items · " (resolved) " resolved · " (adjudication)
                        " awaiting adjudication · you judged " (done)
                        @if let Some(w) = &waiting { " · " (w) }
                    }
                    div.bar role="img" aria-label={ (resolved) " of " (total) " items resolved" } {
                        span style={ "width:" (format!("{:.1}", 100.0 * resolved as f64 / total as f64)) "%" } {}
                    }
                } @else {
                    p.muted {
                        (summary.items) " items · you judged " (done)
                        @if let Some(w) = &waiting { " · " (w) }
                    }
                }
                p.actions {
                    @if role >= ProjectRole::Annotator {
                        a.button.primary href={ "/projects/" (name) "/judge" } { "Judge" } " "
                        @if role < ProjectRole::Reviewer && done > 0 {
                            a.button href={ "/projects/" (name) "/judged" } { "Items you judged" } " "
                        }
                    }
                    @if role >= ProjectRole::Reviewer {
                        a.button href={ "/projects/" (name) "/review" } { "Adjudicate (" (adjudication) ")" } " "
                        a.button href={ "/projects/" (name) "/items" } { "Items" } " "
                    }
                    @if role >= ProjectRole::Lead {
                        a.button href={ "/projects/" (name) "/dashboard" } { "Dashboard" } " "
                        a.button href={ "/projects/" (name) "/members" } { "Members" } " "
                        a.button href={ "/projects/" (name) "/setup" } { "Setup" }
                    }
                }
            }
        });
    }
    let body = html! {
        h1 { "Projects" }
        @if actor.user.is_admin { (super::new_project::panel(rows.is_empty())) }
        ul.projects {
            @for row in &rows { (row) }
            @if rows.is_empty() {
                li.muted { "You are not a member of any project yet; ask a lead." }
            }
        }
    };
    Ok(page(layout(
        "Projects",
        Some(&actor.user),
        "projects",
        body,
        if actor.user.is_admin {
            &["workspace.js"]
        } else {
            &[]
        },
    )))
}
