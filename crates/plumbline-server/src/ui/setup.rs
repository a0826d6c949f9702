//! The lead's setup page: the project's settings, the rubric editor (each save is a new,
//! immutable version through `POST /api/v1/projects/{p}/rubrics`) and import by upload
//! (`POST /api/v1/projects/{p}/items`, native JSONL, all or nothing).

use super::html::{attr, esc};
use super::members::pct;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Lead};
use axum::extract::State;
use plumbline_store::Store;

/// `GET /projects/{project}/setup`.
pub async fn setup_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Lead, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let project = &who.project;
    let s = &project.settings;
    let versions = state.store.rubric_versions(project.id).await?;
    let current = state.store.rubric(project.id, None).await?;
    let mut body = String::new();
    push!(
        &mut body,
        "<h1>Setup · {}</h1><div id=\"setup\" data-project=\"{}\"></div>\
         <section class=\"panel\"><h2>Settings</h2><table class=\"side\"><tbody>\
         <tr><th scope=\"row\">default task</th><td>{}</td></tr><tr><th scope=\"row\">overlap</th><td>{}</td></tr>\
         <tr><th scope=\"row\">hidden gold rate</th><td>{:.0}%</td></tr><tr><th scope=\"row\">lease</th><td>{} s</td></tr>\
         <tr><th scope=\"row\">qualification</th><td>{}</td></tr><tr><th scope=\"row\">required expertise</th><td>{}</td></tr>\
         </tbody></table></section>",
        esc(&project.name),
        attr(&pct(&project.name)),
        s.task.as_str(),
        s.overlap,
        s.gold_rate * 100.0,
        s.lease_seconds,
        if s.qualification_size == 0 {
            "none".to_owned()
        } else {
            format!(
                "{} gold items, pass at {:.0}%",
                s.qualification_size,
                s.qualification_pass * 100.0
            )
        },
        esc(&if s.required_expertise.is_empty() {
            "none".to_owned()
        } else {
            s.required_expertise
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
    );
    push!(
        &mut body,
        "<section class=\"panel\"><h2>Rubric</h2><p class=\"muted\">Versions: {}. Judgments keep the version they were made under; \
         saving makes a new version that new work is judged under.</p>\
         <form id=\"rubric-form\" class=\"stack\"><label for=\"rubric-toml\">Rubric (TOML), version {}</label>\
         <textarea id=\"rubric-toml\" name=\"toml\" rows=\"18\" class=\"mono\" spellcheck=\"false\">{}</textarea>\
         <p class=\"error\" role=\"alert\" hidden></p><p class=\"rule ok\" role=\"status\" hidden></p>\
         <p class=\"actions\"><button type=\"submit\" class=\"primary\">Save as version {}</button></p></form></section>",
        versions
            .iter()
            .map(|v| v.version.0.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        current.version.0,
        esc(&current.rubric.to_toml()),
        current.version.0 + 1
    );
    body.push_str(
        "<section class=\"panel\"><h2>Import items</h2><p class=\"muted\">Native JSONL, one item a line; the file is stored whole or not at all, and bad lines are named.</p>\
         <form id=\"import-form\" class=\"inline\"><label>File <input type=\"file\" name=\"file\" accept=\".jsonl,.ndjson,.json,application/x-ndjson\" required></label>\
         <label><input type=\"checkbox\" name=\"update\"> replace changed items (new revisions)</label>\
         <button type=\"submit\" class=\"primary\">Import</button></form>\
         <p class=\"error\" id=\"import-error\" role=\"alert\" hidden></p><p class=\"rule ok\" id=\"import-done\" role=\"status\" hidden></p></section>",
    );
    Ok(page(layout(
        &format!("Setup · {}", project.name),
        Some(&who.actor.user),
        "setup",
        &body,
        &["setup.js"],
    )))
}
