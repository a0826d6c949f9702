//! The lead's members page: each member's role (changeable) and expertise claims with
//! a Verify button, and a form to add a member. Changes go through the access API
//! (`PUT /api/v1/projects/{p}/members/{user}`,
//! `POST /api/v1/users/{user}/expertise/{domain}/verify`), which checks who may do them.

use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Lead};
use axum::extract::State;
use maud::{Markup, html};
use plumbline_domain::ProjectRole;
use plumbline_store::Store;
use std::fmt::Write;

/// Percent-encodes a path segment (everything but unreserved characters).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const ROLES: [ProjectRole; 4] = [
    ProjectRole::Viewer,
    ProjectRole::Annotator,
    ProjectRole::Reviewer,
    ProjectRole::Lead,
];

fn role_options(current: Option<ProjectRole>) -> Markup {
    html! {
        @for r in ROLES {
            option value=(r.as_str()) selected[Some(r) == current] { (r.as_str()) }
        }
    }
}

/// `GET /projects/{project}/members`.
pub async fn members_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Lead, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let project = &who.project;
    let required = project
        .settings
        .required_expertise
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let me = who.actor.user.id;
    let mut rows: Vec<Markup> = Vec::new();
    for m in state.store.members(project.id).await? {
        let url = format!(
            "/api/v1/projects/{}/members/{}",
            pct(&project.name),
            pct(&m.user.name)
        );
        let claims = state.store.expertise(m.user.id).await?;
        rows.push(html! {
            tr {
                td { (m.user.name) }
                td {
                    select data-call="PUT" data-url=(url) aria-label={ "Role of " (m.user.name) }
                        data-confirm-leaving=[(m.user.id == me && m.role == ProjectRole::Lead).then_some(
                            "You are giving up your own lead role in this project: you will no longer manage its members, settings, gold or exports. Continue?")] {
                        (role_options(Some(m.role)))
                    }
                }
                td {
                    @if claims.is_empty() {
                        span.muted { "none claimed" }
                    }
                    @for c in &claims {
                        @if c.verified_by.is_some() {
                            span.chip.ok { (c.expertise) " ✓ verified" } " "
                        } @else {
                            span.chip {
                                (c.expertise) " "
                                button type="button" data-call="POST"
                                    data-url=(format!("/api/v1/users/{}/expertise/{}/verify", pct(&m.user.name), pct(c.expertise.domain.as_str())))
                                    { "Verify" }
                            } " "
                        }
                    }
                }
                td {
                    button type="button" class="link danger" data-call="DELETE" data-url=(url)
                        data-confirm=(format!("Remove {} from {}? They no longer see the project; their open tasks go back to the pool; what they submitted stays.", m.user.name, project.name))
                        aria-label={ "Remove " (m.user.name) } { "Remove" }
                }
            }
        });
    }
    let body = html! {
        h1 { "Members · " (project.name) }
        p.muted {
            "Routing counts only verified expertise"
            @if !required.is_empty() { "; this project requires " (required) }
            "."
        }
        p id="members-error" class="error" role="alert" hidden {}
        section.panel {
            div.scroll {
                table.sortable id="members" {
                    thead { tr {
                        th scope="col" { button type="button" { "Name" } }
                        th scope="col" { "Role" }
                        th scope="col" { "Expertise" }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody { @for row in &rows { (row) } }
                }
            }
        }
        section.panel {
            h2 { "Add a member" }
            form id="add-member" class="inline" data-call="PUT" data-url-base={ "/api/v1/projects/" (pct(&project.name)) "/members/" } {
                label { "User name " input name="user" required autocomplete="off"; } " "
                label { "Role " select name="role" { (role_options(Some(ProjectRole::Annotator))) } } " "
                button type="submit" class="primary" { "Add" }
            }
        }
    };
    Ok(page(layout(
        &format!("Members · {}", project.name),
        Some(&who.actor.user),
        "members",
        body,
        &[],
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(super::pct("ada"), "ada");
        assert_eq!(super::pct("e v/<é>"), "e%20v%2F%3C%C3%A9%3E");
    }
}
