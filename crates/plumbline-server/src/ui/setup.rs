//! The lead's setup page: the project's settings (changed through
//! `PATCH /api/v1/projects/{p}`, which checks every range and audits the change), the
//! rubric editor (each save is a new, immutable version through
//! `POST /api/v1/projects/{p}/rubrics`) and import by upload
//! (`POST /api/v1/projects/{p}/items`, native JSONL, all or nothing).

use super::html::{attr, esc};
use super::members::pct;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Lead};
use axum::extract::State;
use plumbline_domain::ProjectSettings;
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
        "<h1>Setup · {}</h1><div id=\"setup\" data-project=\"{}\"></div>",
        esc(&project.name),
        attr(&pct(&project.name)),
    );
    settings_panel(&mut body, s);
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
         <p class=\"muted\">Immutable snapshots with a SHA-256 manifest and a dataset card holding the datasheet \
         (each one a Hugging Face dataset folder): \
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

/// One number field of the settings form: name, label, hint, current value ("" for
/// automatic), and the input's `min`, `max` and `step`.
struct Field<'a> {
    name: &'a str,
    label: &'a str,
    hint: String,
    value: String,
    range: (&'a str, &'a str, &'a str),
}

/// The settings form: what is fixed at creation as text, the rest as inputs whose
/// changed values `setup.js` sends as one partial `PATCH` (with the session's CSRF
/// token); the server names any value out of range, and nothing changes then.
fn settings_panel(body: &mut String, s: &ProjectSettings) {
    let num = |v: f64| format!("{v}");
    let fields = [
        Field {
            name: "overlap",
            label: "Overlap",
            hint: "judgments per item, 1 to 100".into(),
            value: s.overlap.to_string(),
            range: ("1", "100", "1"),
        },
        Field {
            name: "gold_rate",
            label: "Hidden gold rate",
            hint: "share of served work, 0 to below 1".into(),
            value: num(s.gold_rate),
            range: ("0", "0.99", "any"),
        },
        Field {
            name: "lease_seconds",
            label: "Lease",
            hint: "seconds, 10 to 604800".into(),
            value: s.lease_seconds.to_string(),
            range: ("10", "604800", "1"),
        },
        Field {
            name: "qualification_size",
            label: "Qualification size",
            hint: "gold items before regular work; 0 for none".into(),
            value: s.qualification_size.to_string(),
            range: ("0", "1000", "1"),
        },
        Field {
            name: "qualification_pass",
            label: "Qualification pass",
            hint: "share right to pass, 0 to 1".into(),
            value: num(s.qualification_pass),
            range: ("0", "1", "any"),
        },
        Field {
            name: "min_experts",
            label: "Expert judgments per item",
            hint: "empty for automatic (1 when the project has verified experts)".into(),
            value: s.min_experts.map_or(String::new(), |v| v.to_string()),
            range: ("0", "100", "1"),
        },
        Field {
            name: "max_overlap",
            label: "Most judgments per item",
            hint: format!(
                "with escalation, overlap to 100; empty for automatic ({})",
                s.effective_max_overlap()
            ),
            value: s.max_overlap.map_or(String::new(), |v| v.to_string()),
            range: ("1", "100", "1"),
        },
        Field {
            name: "min_gold_accuracy",
            label: "Minimum gold accuracy",
            hint:
                "below it (Wilson upper bound) an annotator is on probation; 0 turns probation off"
                    .into(),
            value: num(s.min_gold_accuracy),
            range: ("0", "1", "any"),
        },
        Field {
            name: "decision_threshold",
            label: "Decision threshold",
            hint: "least posterior of a decided label, above 0.5 to 1".into(),
            value: num(s.decision_threshold),
            range: ("0.5", "1", "any"),
        },
    ];
    push!(
        body,
        "<section class=\"panel\"><h2>Settings</h2><p class=\"muted\">Default task {}; required expertise {} (both fixed at creation). \
         Changes apply to work handed out from now on and are recorded in the audit log.</p>\
         <form id=\"settings-form\" class=\"inline\" novalidate>",
        s.task.as_str(),
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
    for f in &fields {
        push!(
            body,
            "<label>{} <input type=\"number\" name=\"{}\" value=\"{}\" data-initial=\"{}\" min=\"{}\" max=\"{}\" step=\"{}\" aria-describedby=\"hint-{}\"{}>\
             <small class=\"muted\" id=\"hint-{}\">{}</small></label>",
            esc(f.label),
            attr(f.name),
            attr(&f.value),
            attr(&f.value),
            f.range.0,
            f.range.1,
            f.range.2,
            attr(f.name),
            if f.value.is_empty() {
                " placeholder=\"automatic\""
            } else {
                ""
            },
            attr(f.name),
            esc(&f.hint)
        );
    }
    body.push_str(
        "<button type=\"submit\" class=\"primary\">Save settings</button></form>\
         <p class=\"error\" id=\"settings-error\" role=\"alert\" hidden></p>\
         <p class=\"rule ok\" id=\"settings-done\" role=\"status\" hidden></p></section>",
    );
}
