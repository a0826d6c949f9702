//! The login page and the project list with the user's own progress.

use super::html::{attr, esc};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError};
use axum::extract::State;
use axum::response::Response;
use plumbline_domain::ProjectRole;
use plumbline_store::Store;

/// `GET /login`: a form whose script posts to `POST /api/v1/session`.
pub async fn login_page() -> Response {
    let body = "<section class=\"panel narrow\"><h1>Sign in</h1>\
        <form id=\"login\" class=\"stack\" autocomplete=\"on\">\
        <label for=\"name\">Name</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
        <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
        <p id=\"login-error\" class=\"error\" role=\"alert\" hidden></p>\
        <button type=\"submit\" class=\"primary\">Sign in</button></form></section>";
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
    let mut rows = String::new();
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
        let (adjudication, resolved) = (progress.items.adjudication, progress.items.resolved);
        let total = progress.items.total().max(1);
        let name = &p.name;
        push!(
            &mut rows,
            "<li class=\"project\"><div class=\"ptitle\"><h2>{}</h2><span class=\"role\">{}</span></div>",
            esc(name),
            role,
        );
        // Item states move when a submission settles an item: an annotator watching them
        // would learn whether the others agreed. They see the size and their own count.
        if crate::api::progress::sees_everyone(role) {
            push!(
                &mut rows,
                "<p class=\"muted\">{} items · {} resolved · {} awaiting adjudication · you judged {}</p>\
                 <div class=\"bar\" role=\"img\" aria-label=\"{} of {} items resolved\"><span style=\"width:{:.1}%\"></span></div>",
                summary.items,
                resolved,
                adjudication,
                done,
                resolved,
                total,
                100.0 * resolved as f64 / total as f64
            );
        } else {
            push!(
                &mut rows,
                "<p class=\"muted\">{} items · you judged {}</p>",
                summary.items,
                done
            );
        }
        rows.push_str("<p class=\"actions\">");
        if role >= ProjectRole::Annotator {
            push!(
                &mut rows,
                "<a class=\"button primary\" href=\"/projects/{}/judge\">Judge</a> ",
                attr(name)
            );
        }
        if role >= ProjectRole::Reviewer {
            push!(
                &mut rows,
                "<a class=\"button\" href=\"/projects/{}/review\">Adjudicate ({adjudication})</a> ",
                attr(name)
            );
        }
        if role >= ProjectRole::Lead {
            push!(
                &mut rows,
                "<a class=\"button\" href=\"/projects/{}/dashboard\">Dashboard</a> <a class=\"button\" href=\"/projects/{}/members\">Members</a> <a class=\"button\" href=\"/projects/{}/setup\">Setup</a>",
                attr(name),
                attr(name),
                attr(name)
            );
        }
        rows.push_str("</p></li>");
    }
    if rows.is_empty() {
        rows.push_str(
            "<li class=\"muted\">You are not a member of any project yet; ask a lead.</li>",
        );
    }
    let body = format!("<h1>Projects</h1><ul class=\"projects\">{rows}</ul>");
    Ok(page(layout(
        "Projects",
        Some(&actor.user),
        "projects",
        &body,
        &[],
    )))
}
