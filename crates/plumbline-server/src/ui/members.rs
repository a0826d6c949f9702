//! The lead's members page: each member's role (changeable) and expertise claims with
//! a Verify button, and a form to add a member. Changes go through the access API
//! (`PUT /api/v1/projects/{p}/members/{user}`,
//! `POST /api/v1/users/{user}/expertise/{domain}/verify`), which checks who may do them.

use super::html::{attr, esc};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Lead};
use axum::extract::State;
use plumbline_domain::ProjectRole;
use plumbline_store::Store;

/// Percent-encodes a path segment (everything but unreserved characters).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            push!(&mut out, "%{b:02X}");
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

fn role_options(current: Option<ProjectRole>) -> String {
    let mut s = String::new();
    for r in ROLES {
        push!(
            &mut s,
            "<option value=\"{}\"{}>{}</option>",
            r.as_str(),
            if Some(r) == current { " selected" } else { "" },
            r.as_str()
        );
    }
    s
}

/// `GET /projects/{project}/members`.
pub async fn members_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Lead, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let project = &who.project;
    let mut body = String::new();
    push!(
        &mut body,
        "<h1>Members · {}</h1><p class=\"muted\">Routing counts only verified expertise{}.</p>\
         <p id=\"members-error\" class=\"error\" role=\"alert\" hidden></p>\
         <section class=\"panel\"><div class=\"scroll\"><table class=\"sortable\" id=\"members\"><thead><tr>\
         <th scope=\"col\"><button type=\"button\">Name</button></th><th scope=\"col\">Role</th><th scope=\"col\">Expertise</th></tr></thead><tbody>",
        esc(&project.name),
        if project.settings.required_expertise.is_empty() {
            String::new()
        } else {
            format!(
                "; this project requires {}",
                esc(&project
                    .settings
                    .required_expertise
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        }
    );
    for m in state.store.members(project.id).await? {
        let url = format!(
            "/api/v1/projects/{}/members/{}",
            pct(&project.name),
            pct(&m.user.name)
        );
        push!(
            &mut body,
            "<tr><td>{}</td><td><select data-call=\"PUT\" data-url=\"{}\" aria-label=\"Role of {}\">{}</select></td><td>",
            esc(&m.user.name),
            attr(&url),
            attr(&m.user.name),
            role_options(Some(m.role))
        );
        let claims = state.store.expertise(m.user.id).await?;
        if claims.is_empty() {
            body.push_str("<span class=\"muted\">none claimed</span>");
        }
        for c in claims {
            let text = c.expertise.to_string();
            if c.verified_by.is_some() {
                push!(
                    &mut body,
                    "<span class=\"chip ok\">{} ✓ verified</span> ",
                    esc(&text)
                );
            } else {
                let verify = format!(
                    "/api/v1/users/{}/expertise/{}/verify",
                    pct(&m.user.name),
                    pct(c.expertise.domain.as_str())
                );
                push!(
                    &mut body,
                    "<span class=\"chip\">{} <button type=\"button\" data-call=\"POST\" data-url=\"{}\">Verify</button></span> ",
                    esc(&text),
                    attr(&verify)
                );
            }
        }
        body.push_str("</td></tr>");
    }
    push!(
        &mut body,
        "</tbody></table></div></section><section class=\"panel\"><h2>Add a member</h2>\
         <form id=\"add-member\" class=\"inline\" data-call=\"PUT\" data-url-base=\"/api/v1/projects/{}/members/\">\
         <label>User name <input name=\"user\" required autocomplete=\"off\"></label> \
         <label>Role <select name=\"role\">{}</select></label> <button type=\"submit\" class=\"primary\">Add</button></form></section>",
        attr(&pct(&project.name)),
        role_options(Some(ProjectRole::Annotator))
    );
    Ok(page(layout(
        &format!("Members · {}", project.name),
        Some(&who.actor.user),
        "members",
        &body,
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
