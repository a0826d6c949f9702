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
    export_panel(&mut body, project, &state.store.releases(project.id).await?);
    Ok(page(layout(
        &format!("Setup · {}", project.name),
        Some(&who.actor.user),
        "setup",
        &body,
        &["setup.js"],
    )))
}

/// Exports (a plain GET form on the streaming export endpoint, so the browser downloads
/// the file with the session's cookie) and the project's releases.
fn export_panel(
    body: &mut String,
    project: &plumbline_store::Project,
    releases: &[plumbline_store::ReleaseRecord],
) {
    push!(
        body,
        "<section class=\"panel\" id=\"exports\"><h2>Export</h2>\
         <p class=\"muted\">Streams the file; which judgments make a pair, and every kind's columns, are in docs/EXPORTS.md.</p>\
         <form class=\"inline\" method=\"get\" action=\"/api/v1/projects/{}/export\">\
         <label>Kind <select name=\"kind\">{}</select></label>\
         <label>Format <select name=\"format\"><option value=\"jsonl\">JSONL</option><option value=\"parquet\">Parquet</option></select></label>\
         <label>Split <select name=\"split\"><option value=\"\">all</option><option value=\"train\">train</option><option value=\"eval\">eval</option></select></label>\
         <label><input type=\"checkbox\" name=\"include_external\" value=\"true\"> count imported external judgments</label>\
         <button type=\"submit\" class=\"primary\">Download</button></form></section>",
        attr(&pct(&project.name)),
        [
            "preference",
            "reward",
            "sft",
            "ranking",
            "rating",
            "red_team",
            "full"
        ]
        .iter()
        .map(|k| format!("<option value=\"{k}\">{k}</option>"))
        .collect::<String>()
    );
    body.push_str(
        "<section class=\"panel\" id=\"releases\"><h2>Releases</h2>\
         <p class=\"muted\">Immutable snapshots with a SHA-256 manifest and a datasheet: \
         <code>plumbline release create</code>, or <code>POST /api/v1/projects/{p}/releases</code>; \
         <code>plumbline release verify DIR</code> checks one.</p>",
    );
    if releases.is_empty() {
        body.push_str("<p>No release yet.</p></section>");
        return;
    }
    body.push_str(
        "<table><thead><tr><th scope=\"col\">id (manifest SHA-256)</th><th scope=\"col\">kind</th>\
         <th scope=\"col\">format</th><th scope=\"col\">location</th></tr></thead><tbody>",
    );
    for r in releases {
        push!(
            body,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(&r.manifest_sha256),
            esc(&r.kind),
            esc(&r.format),
            esc(&r.location)
        );
    }
    body.push_str("</tbody></table></section>");
}
