//! The lead's setup page: the project's settings (changed through
//! `PATCH /api/v1/projects/{p}`, which checks every range and audits the change), the
//! rubric editor (each save is a new, immutable version through
//! `POST /api/v1/projects/{p}/rubrics`) and import by upload
//! (`POST /api/v1/projects/{p}/items?format=…`, any format the CLI imports, all or
//! nothing).

use super::members::pct;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Lead};
use axum::extract::State;
use maud::{Markup, html};
use plumbline_domain::ProjectSettings;
use plumbline_domain::expertise::Level;
use plumbline_domain::project::{MAX_QUALIFICATION_SIZE, MAX_RATING_SPREAD};
use plumbline_formats::Format;
use plumbline_store::Store;

/// The kinds the export endpoint writes, in the order the form offers them.
const EXPORT_KINDS: [&str; 9] = [
    "preference",
    "reward",
    "sft",
    "ranking",
    "rating",
    "red_team",
    "full",
    "label-studio",
    "items",
];

/// How pairs with several votes are decided (`decision` of the export endpoint).
const DECISIONS: [&str; 3] = ["reliability", "dawid-skene", "majority"];

/// `GET /projects/{project}/setup`.
pub async fn setup_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Lead, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let project = &who.project;
    let versions = state.store.rubric_versions(project.id).await?;
    let rubric_versions: Vec<i64> = versions.iter().map(|v| i64::from(v.version.0)).collect();
    let current = state.store.rubric(project.id, None).await?;
    let releases = state.store.releases(project.id).await?;
    let versions = versions
        .iter()
        .map(|v| v.version.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let body = html! {
        h1 { "Setup · " (project.name) }
        div id="setup" data-project=(pct(&project.name)) {}
        (settings_panel(&project.settings))
        section.panel {
            h2 { "Rubric" }
            p.muted {
                "Versions: " (versions) ". Judgments keep the version they were made under; "
                "saving makes a new version that new work is judged under."
            }
            div.tabs role="tablist" aria-label="Rubric editor" {
                button type="button" role="tab" id="rubric-tab-toml" aria-controls="rubric-toml-panel" aria-selected="true" { "TOML" }
                button type="button" role="tab" id="rubric-tab-form" aria-controls="rubric-editor" aria-selected="false" tabindex="-1" { "Form" }
            }
            p.error id="rubric-switch-error" role="alert" hidden {}
            // The structured editor, drawn by rubric.js from the TOML (through the
            // domain's parser on the server) when its tab is chosen.
            div id="rubric-editor" role="tabpanel" aria-labelledby="rubric-tab-form" class="stack" hidden {}
            div id="rubric-toml-panel" role="tabpanel" aria-labelledby="rubric-tab-toml" {
            form id="rubric-form" class="stack" {
                label for="rubric-toml" { "Rubric (TOML), version " (current.version.0) }
                textarea id="rubric-toml" name="toml" rows="18" class="mono" spellcheck="false" { (current.rubric.to_toml()) }
                p.error role="alert" hidden {}
                p.rule.ok role="status" hidden {}
                p.actions { button type="submit" class="primary" { "Save as version " (current.version.0 + 1) } }
            }
            }
        }
        (import_panel())
        (export_panel(project, &rubric_versions, &releases))
    };
    Ok(page(layout(
        &format!("Setup · {}", project.name),
        Some(&who.actor.user),
        "setup",
        body,
        &["setup.js", "rubric.js"],
    )))
}

/// Import by upload, in any format the command line imports: detected by default or
/// named, with the column mapping CSV needs; every bad record is listed by line.
fn import_panel() -> Markup {
    html! {
        section.panel id="import" {
            h2 { "Import items" }
            p.muted {
                "Native JSONL, CSV, Parquet, Label Studio JSON, HH-RLHF, oasst1, HelpSteer2, TRL, "
                "UltraFeedback (gzip or zstd too). The file is stored whole or not at all; every bad record is named."
            }
            form id="import-form" class="stack" {
                div.inline-fields {
                    label { "File " input type="file" name="file" required; }
                    label { "Format "
                        select name="format" {
                            option value="auto" selected { "detect from the content" }
                            @for f in Format::ALL { option value=(f.name()) { (f.name()) } }
                        }
                    }
                    label.check { input type="checkbox" name="update"; " replace changed items (new revisions)" }
                }
                details {
                    summary { "Column mapping (CSV and flat Parquet)" }
                    label for="import-mapping" { "Mapping as TOML, e.g. prompt = \"question\" and candidates = [\"answer_a\", \"answer_b\"]" }
                    textarea id="import-mapping" name="mapping" rows="4" class="mono" spellcheck="false" {}
                }
                p.actions { button type="submit" class="primary" { "Import" } }
            }
            div id="import-error" class="error" role="alert" hidden {
                span id="import-error-summary" {}
                ul id="import-error-list" {}
                p id="import-error-count" hidden {}
            }
            p.rule.ok id="import-done" role="status" hidden {}
        }
    }
}

/// Exports (a plain GET form on the streaming export endpoint, so the browser downloads
/// the file with the session's cookie) and the project's releases.
fn export_panel(
    project: &plumbline_store::Project,
    rubric_versions: &[i64],
    releases: &[plumbline_store::ReleaseRecord],
) -> Markup {
    let threshold = project.settings.decision_threshold;
    html! {
        section.panel id="exports" {
            h2 { "Export" }
            p.muted { "Streams the file; which judgments make a pair, and every kind's columns, are in docs/EXPORTS.md. Empty filters do not narrow." }
            form.inline id="export-form" method="get" action={ "/api/v1/projects/" (pct(&project.name)) "/export" } {
                label { "Kind " select name="kind" { @for k in EXPORT_KINDS { option value=(k) { (k) } } } }
                label { "Format " select name="format" { option value="jsonl" { "JSONL" } option value="parquet" { "Parquet" } } }
                label { "Split " select name="split" {
                    option value="" { "all" } option value="train" { "train" } option value="eval" { "eval" }
                } }
                label { "Tags (all of, comma-separated) " input name="tags" autocomplete="off"; }
                label { "Rubric version " select name="rubric_version" {
                    option value="" { "any" }
                    @for v in rubric_versions { option value=(v) { (v) } }
                } }
                label { "Least agreement (0 to 1) " input type="number" name="min_agreement" min="0" max="1" step="any"; }
                label { "Least verified expertise " select name="min_expertise" {
                    option value="" { "any" }
                    @for l in [Level::Novice, Level::Practitioner, Level::Expert] { option value=(l.as_str()) { (l.as_str()) } }
                } }
                label { "Decision method " select name="decision" { @for d in DECISIONS { option value=(d) { (d) } } } }
                label { "Least posterior of a decision "
                    input type="number" name="threshold" min="0.5" max="1" step="any" placeholder=(threshold);
                }
                label.check { input type="checkbox" name="include_external" value="true"; " count imported external judgments" }
                button type="submit" class="primary" { "Download" }
            }
        }
        section.panel id="releases" {
            h2 { "Releases" }
            p.muted {
                "Immutable snapshots with a SHA-256 manifest and a dataset card holding the datasheet "
                "(each one a Hugging Face dataset folder): "
                code { "plumbline release create" } ", or " code { "POST /api/v1/projects/{p}/releases" } "; "
                code { "plumbline release verify DIR" } " checks one."
            }
            @if releases.is_empty() {
                p { "No release yet." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "id (manifest SHA-256)" } th scope="col" { "kind" }
                        th scope="col" { "format" } th scope="col" { "location" }
                    } }
                    tbody {
                        @for r in releases {
                            tr {
                                td.mono { (r.manifest_sha256) } td { (r.kind) }
                                td { (r.format) } td.mono { (r.location) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One number field of the settings form: name, label, hint, current value ("" for
/// automatic), and the input's `min`, `max` and `step`.
struct Field<'a> {
    name: &'a str,
    label: &'a str,
    hint: String,
    value: String,
    range: (&'a str, String, &'a str),
}

/// The settings form: what is fixed at creation as text, the rest as inputs whose
/// changed values `setup.js` sends as one partial `PATCH` (with the session's CSRF
/// token); the server names any value out of range, and nothing changes then.
fn settings_panel(s: &ProjectSettings) -> Markup {
    let num = |v: f64| format!("{v}");
    let fields = [
        Field {
            name: "overlap",
            label: "Overlap",
            hint: "judgments per item, 1 to 100".into(),
            value: s.overlap.to_string(),
            range: ("1", "100".into(), "1"),
        },
        Field {
            name: "gold_rate",
            label: "Hidden gold rate",
            hint: "share of served work, 0 to below 1".into(),
            value: num(s.gold_rate),
            range: ("0", "0.99".into(), "any"),
        },
        Field {
            name: "lease_seconds",
            label: "Lease",
            hint: "seconds, 10 to 604800".into(),
            value: s.lease_seconds.to_string(),
            range: ("10", "604800".into(), "1"),
        },
        Field {
            name: "qualification_size",
            label: "Qualification size",
            hint: format!(
                "gold items before regular work, up to {MAX_QUALIFICATION_SIZE}; 0 for none"
            ),
            value: s.qualification_size.to_string(),
            range: ("0", MAX_QUALIFICATION_SIZE.to_string(), "1"),
        },
        Field {
            name: "qualification_pass",
            label: "Qualification pass",
            hint: "share right to pass, 0 to 1".into(),
            value: num(s.qualification_pass),
            range: ("0", "1".into(), "any"),
        },
        Field {
            name: "min_experts",
            label: "Expert judgments per item",
            hint: "empty for automatic (1 when the project has verified experts)".into(),
            value: s.min_experts.map_or(String::new(), |v| v.to_string()),
            range: ("0", "100".into(), "1"),
        },
        Field {
            name: "max_overlap",
            label: "Most judgments per item",
            hint: format!(
                "with escalation, overlap to 100; empty for automatic ({})",
                s.effective_max_overlap()
            ),
            value: s.max_overlap.map_or(String::new(), |v| v.to_string()),
            range: ("1", "100".into(), "1"),
        },
        Field {
            name: "min_gold_accuracy",
            label: "Minimum gold accuracy",
            hint:
                "below it (Wilson upper bound) an annotator is on probation; 0 turns probation off"
                    .into(),
            value: num(s.min_gold_accuracy),
            range: ("0", "1".into(), "any"),
        },
        Field {
            name: "decision_threshold",
            label: "Decision threshold",
            hint: "least posterior of a decided label, above 0.5 to 1".into(),
            value: num(s.decision_threshold),
            range: ("0.5", "1".into(), "any"),
        },
        Field {
            name: "ranking_agreement",
            label: "Ranking agreement",
            hint: "largest normalised Kendall distance at which rankings agree, 0 to 1".into(),
            value: num(s.ranking_agreement),
            range: ("0", "1".into(), "any"),
        },
        Field {
            name: "rating_spread",
            label: "Rating spread",
            hint: format!("largest score spread at which ratings agree, 0 to {MAX_RATING_SPREAD}"),
            value: s.rating_spread.to_string(),
            range: ("0", MAX_RATING_SPREAD.to_string(), "1"),
        },
    ];
    let required = if s.required_expertise.is_empty() {
        "none".to_owned()
    } else {
        s.required_expertise
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // `tag=share, …`, the form `setup.js` reads back into the list.
    let quotas = s
        .edge_case_quotas
        .iter()
        .map(|q| format!("{}={}", q.tag, q.min_share))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        section.panel {
            h2 { "Settings" }
            p.muted {
                "Default task " (s.task.as_str()) "; required expertise " (required) " (both fixed at creation). "
                "Changes apply to work handed out from now on and are recorded in the audit log."
            }
            form id="settings-form" class="inline" novalidate {
                @for f in &fields {
                    label {
                        (f.label) " "
                        input type="number" name=(f.name) value=(f.value) data-initial=(f.value)
                            min=(f.range.0) max=(f.range.1) step=(f.range.2)
                            aria-describedby={ "hint-" (f.name) }
                            placeholder=[f.value.is_empty().then_some("automatic")];
                        small.muted id={ "hint-" (f.name) } { (f.hint) }
                    }
                }
                label {
                    "Edge-case quotas "
                    input type="text" name="edge_case_quotas" value=(quotas) data-initial=(quotas) data-kind="quotas"
                        aria-describedby="hint-edge_case_quotas" placeholder="none" autocomplete="off";
                    small.muted id="hint-edge_case_quotas" { "tag=least share of served work, comma-separated, e.g. edge:bereavement=0.05" }
                }
                button type="submit" class="primary" { "Save settings" }
            }
            p.error id="settings-error" role="alert" hidden {}
            p.rule.ok id="settings-done" role="status" hidden {}
        }
    }
}
