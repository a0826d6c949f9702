//! The administrator's "New project" form on the project list: a name, the default
//! task kind and a starting rubric (a template, edited freely as TOML before creating).
//! `assets/workspace.js` sends it to `POST /api/v1/projects`, names a refusal beside
//! its field, and opens the new project's setup page.

use maud::{Markup, html};
use plumbline_domain::TaskKind;
use plumbline_domain::project::MAX_PROJECT_NAME_LEN;

/// Starting rubrics: (key, label, TOML). The first is the default.
pub const TEMPLATES: [(&str, &str, &str); 4] = [
    (
        "default",
        "General assistant (safety, honesty, helpfulness)",
        include_str!("../../assets/rubrics/default.toml"),
    ),
    (
        "banking",
        "Retail banking call centre",
        include_str!("../../../../examples/banking/rubric.toml"),
    ),
    (
        "clinical",
        "Clinical triage",
        include_str!("../../../../examples/clinical/rubric.toml"),
    ),
    (
        "insurance",
        "Insurance claims",
        include_str!("../../../../examples/insurance/rubric.toml"),
    ),
];

/// The form, folded until opened (the list stays first) unless `open` (no project
/// yet), with each template's TOML in a
/// `<template>` for the script to copy in.
pub fn panel(open: bool) -> Markup {
    html! {
        details.panel id="new-project" open[open] {
            summary { h2.inline-heading { "New project" } }
            form id="new-project-form" class="stack" novalidate {
                label for="np-name" { "Name" }
                input id="np-name" name="name" required autocomplete="off"
                    maxlength=(MAX_PROJECT_NAME_LEN) aria-describedby="np-name-hint np-name-error";
                small.muted id="np-name-hint" { "Letters, digits, space, _ - and ." }
                p.error id="np-name-error" role="alert" hidden {}
                label for="np-task" { "Task kind" }
                select id="np-task" name="task" aria-describedby="np-task-error" {
                    @for k in TaskKind::ALL { option value=(k.as_str()) { (k.as_str()) } }
                }
                p.error id="np-task-error" role="alert" hidden {}
                label for="np-template" { "Starting rubric" }
                select id="np-template" name="template" {
                    @for (key, label, _) in TEMPLATES { option value=(key) { (label) } }
                }
                label for="np-rubric" { "Rubric (TOML); edit it now or later on the setup page" }
                textarea id="np-rubric" name="rubric" rows="10" class="mono" spellcheck="false"
                    aria-describedby="np-rubric-error" { (TEMPLATES[0].2) }
                p.error id="np-rubric-error" role="alert" hidden {}
                p.actions { button type="submit" class="primary" { "Create project" } }
            }
            @for (key, _, toml) in TEMPLATES {
                template id={ "rubric-" (key) } { (toml) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_is_a_valid_rubric() {
        for (key, _, toml) in super::TEMPLATES {
            plumbline_domain::Rubric::from_toml(toml)
                .unwrap_or_else(|e| panic!("template {key}: {e}"));
        }
    }
}
