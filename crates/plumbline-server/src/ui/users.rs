//! `/admin/users` (administrators): every user with their state, a form to invite one
//! (created without a password; `POST /api/v1/users/invitations` answers a one-time
//! link shown once) and a button per user to issue a new link, which revokes the old
//! one. `assets/workspace.js` makes the calls and shows the link.

use super::dashboard::iso_utc;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError};
use axum::extract::State;
use maud::{Markup, html};
use plumbline_domain::ProjectRole;
use plumbline_store::{Invitation, Store, User, now_ms};

/// `GET /admin/users`.
pub async fn users_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Actor, AuthError>,
) -> PageResult {
    let who = access(who)?;
    access(who.require_admin())?;
    let users = state.store.list_users().await?;
    let open = state.store.open_invitations().await?;
    let projects = state.store.list_projects().await?;
    let now = now_ms();
    let body = html! {
        h1 { "Users" }
        section.panel {
            h2 { "Invite a user" }
            p.muted {
                "The user is created without a password and gets a link on which they choose "
                "their own. The link works once, for 72 hours, and is shown only here, once."
            }
            form id="invite-form" class="inline" novalidate {
                label { "Name " input name="name" required autocomplete="off" maxlength="64" aria-describedby="invite-error"; }
                label { "Project "
                    select name="project" {
                        option value="" { "none" }
                        @for p in &projects { option value=(p.project.name) { (p.project.name) } }
                    }
                }
                label { "Role "
                    select name="role" {
                        @for r in [ProjectRole::Annotator, ProjectRole::Reviewer, ProjectRole::Lead, ProjectRole::Viewer] {
                            option value=(r.as_str()) { (r.as_str()) }
                        }
                    }
                }
                label.check { input type="checkbox" name="admin"; " administrator" }
                button type="submit" class="primary" { "Invite" }
            }
            p.error id="invite-error" role="alert" hidden {}
            div id="invite-result" class="stack" hidden {
                p.rule.ok role="status" id="invite-done" {}
                label for="invite-link" { "One-time link (copy it now: it is not shown again)" }
                input id="invite-link" readonly class="mono";
                p.actions { button type="button" id="invite-copy" { "Copy link" } }
            }
        }
        section.panel {
            h2 { "All users" }
            div.scroll tabindex="0" role="region" aria-label="Users" {
                table.sortable id="users" {
                    thead { tr {
                        th scope="col" { button type="button" { "Name" } }
                        th scope="col" { "Role" }
                        th scope="col" { "State" }
                        th scope="col" { "Created (UTC)" }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody { @for u in &users { (row(u, open.iter().find(|i| i.user.id == u.id), now)) } }
                }
            }
        }
    };
    Ok(page(layout(
        "Users",
        Some(&who.user),
        "users",
        body,
        &["workspace.js"],
    )))
}

fn row(u: &User, invitation: Option<&Invitation>, now: i64) -> Markup {
    let state = match (u.disabled, invitation) {
        (true, _) => "disabled".to_owned(),
        (false, Some(i)) if i.expires_at > now => format!(
            "invited; link open until {}",
            iso_utc(i.expires_at).replace('T', " ").replace('Z', " UTC")
        ),
        (false, Some(_)) => "invited; link expired".to_owned(),
        (false, None) => "active".to_owned(),
    };
    html! {
        tr {
            td { (u.name) }
            td { @if u.is_admin { "administrator" } @else { "user" } }
            td { (state) }
            td { (iso_utc(u.created_at).replace('T', " ").replace('Z', "")) }
            td {
                button type="button" class="link" data-reissue=(u.name)
                    aria-label={ "New link for " (u.name) } { "New link" }
            }
        }
    }
}
